// SPDX-License-Identifier: GPL-2.0
/*
 * vmuart - a test-only serial-core UART whose DCD input carries a PPS
 * pulse, for gpspps's VM tests (qemu's UARTs carry no modem lines).
 *
 * Registers one port, /dev/ttyVM0, through the serial core
 * (uart_register_driver, uart_add_one_port) with no hardware behind it:
 *
 * - DCD rises at every whole second of CLOCK_REALTIME (an absolute
 *   hrtimer) and falls width_ms later; invert=1 swaps the levels (falling
 *   on the second), as from a receiver with an inverted PPS output.  Each
 *   change is reported as a UART interrupt handler does it: under the port
 *   lock, uart_handle_dcd_change() (which runs the line discipline's
 *   dcd_change hook: N_PPS stamps the edge there) and a wake-up of
 *   delta_msr_wait (which ends TIOCMIWAIT).  get_mctrl reports the level.
 * - Data written to the port comes back on its own receiver (a loopback
 *   plug), so NMEA copied into the port reaches a reader of the port: one
 *   port carries both NMEA and the DCD pulse, as a receiver on a DB9 does.
 * - debugfs vmuart/edges lists the last VMUART_RING edges, one per line:
 *   "SEQ DCD EXPIRY_NS REAL_NS": DCD the new level (1 asserted), EXPIRY_NS
 *   the hrtimer's expiry (the nominal edge: a whole second, or width_ms
 *   after it), REAL_NS ktime_get_real() in the handler right before the
 *   change is reported: the reference the test measures timestamps against.
 *
 * The driver is registered without an owner module, so that rmmod works
 * while gpsppsd holds the port open: that is the device going away under
 * it, as a hot-unplugged adapter.  The pulse stops first (no more
 * interrupts), the port is hung up and removed, and the driver waits for
 * the last close of the hung-up tty before freeing its state.  A
 * TIOCMIWAIT caller that never leaves the wait holds uart_remove_one_port,
 * and so rmmod, until it does: the test checks that gpsppsd lets go.
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/serial.h>
#include <linux/serial_core.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/tty.h>
#include <linux/tty_flip.h>

#define VMUART_RING 1024

static unsigned int width_ms = 100;
module_param(width_ms, uint, 0444);
MODULE_PARM_DESC(width_ms, "pulse width in ms (1-900)");

static bool invert;
module_param(invert, bool, 0444);
MODULE_PARM_DESC(invert, "active-low pulse: DCD falls on the second");

struct vmuart_edge {
	u64 seq;
	bool dcd;
	s64 expiry_ns;
	s64 real_ns;
};

static struct hrtimer vmuart_timer;
static bool vmuart_in_pulse;
static bool vmuart_dcd;                 /* under the port lock */
static DEFINE_SPINLOCK(vmuart_ring_lock);
static struct vmuart_edge vmuart_ring[VMUART_RING];
static u64 vmuart_seq;
static struct dentry *vmuart_dir;

/* ---- the port: no hardware, data looped back ------------------------ */

static unsigned int vmuart_tx_empty(struct uart_port *port)
{
	return TIOCSER_TEMT;
}

static void vmuart_set_mctrl(struct uart_port *port, unsigned int mctrl)
{
}

static unsigned int vmuart_get_mctrl(struct uart_port *port)
{
	return TIOCM_CTS | TIOCM_DSR | (vmuart_dcd ? TIOCM_CAR : 0);
}

static void vmuart_stop_tx(struct uart_port *port)
{
}

/* Called under the port lock: move what was written to the receiver. */
static void vmuart_start_tx(struct uart_port *port)
{
	struct circ_buf *xmit = &port->state->xmit;
	struct tty_port *tport = &port->state->port;
	int n, got;

	while (!uart_circ_empty(xmit)) {
		n = CIRC_CNT_TO_END(xmit->head, xmit->tail, UART_XMIT_SIZE);
		got = tty_insert_flip_string(tport, xmit->buf + xmit->tail, n);
		if (got == 0) {
			/* no room in the flip buffer: an overrun */
			port->icount.buf_overrun++;
			got = n;
		}
		xmit->tail = (xmit->tail + got) & (UART_XMIT_SIZE - 1);
		port->icount.tx += got;
		port->icount.rx += got;
	}
	uart_write_wakeup(port);
	tty_flip_buffer_push(tport);
}

static void vmuart_stop_rx(struct uart_port *port)
{
}

static void vmuart_break_ctl(struct uart_port *port, int ctl)
{
}

static int vmuart_startup(struct uart_port *port)
{
	return 0;
}

static void vmuart_shutdown(struct uart_port *port)
{
}

static void vmuart_set_termios(struct uart_port *port, struct ktermios *new,
			       const struct ktermios *old)
{
	unsigned int baud = uart_get_baud_rate(port, new, old, 50, 921600);
	unsigned long flags;

	spin_lock_irqsave(&port->lock, flags);
	uart_update_timeout(port, new->c_cflag, baud);
	spin_unlock_irqrestore(&port->lock, flags);
}

static const char *vmuart_type(struct uart_port *port)
{
	return "vmuart";
}

static void vmuart_release_port(struct uart_port *port)
{
}

static int vmuart_request_port(struct uart_port *port)
{
	return 0;
}

static void vmuart_config_port(struct uart_port *port, int flags)
{
}

static int vmuart_verify_port(struct uart_port *port,
			      struct serial_struct *ser)
{
	return -EINVAL;
}

static const struct uart_ops vmuart_ops = {
	.tx_empty = vmuart_tx_empty,
	.set_mctrl = vmuart_set_mctrl,
	.get_mctrl = vmuart_get_mctrl,
	.stop_tx = vmuart_stop_tx,
	.start_tx = vmuart_start_tx,
	.stop_rx = vmuart_stop_rx,
	.break_ctl = vmuart_break_ctl,
	.startup = vmuart_startup,
	.shutdown = vmuart_shutdown,
	.set_termios = vmuart_set_termios,
	.type = vmuart_type,
	.release_port = vmuart_release_port,
	.request_port = vmuart_request_port,
	.config_port = vmuart_config_port,
	.verify_port = vmuart_verify_port,
};

static struct uart_driver vmuart_drv = {
	.owner = NULL,          /* see the header: rmmod while open */
	.driver_name = "vmuart",
	.dev_name = "ttyVM",
	.nr = 1,
};

/*
 * No I/O resources: uart_configure_port leaves the type as set here, and
 * the serial core only starts a port whose type is known.
 */
static struct uart_port vmuart_port = {
	.ops = &vmuart_ops,
	.type = PORT_16550A,
	.iotype = UPIO_MEM,
	.uartclk = 1843200,
	.fifosize = 16,
	.line = 0,
};

/* ---- the pulse ------------------------------------------------------ */

static void vmuart_record(bool dcd, ktime_t expiry, ktime_t real)
{
	struct vmuart_edge *e;

	spin_lock(&vmuart_ring_lock);
	e = &vmuart_ring[vmuart_seq % VMUART_RING];
	e->seq = ++vmuart_seq;
	e->dcd = dcd;
	e->expiry_ns = ktime_to_ns(expiry);
	e->real_ns = ktime_to_ns(real);
	spin_unlock(&vmuart_ring_lock);
}

/* The next whole second (pulse start) or the pulse end after it. */
static ktime_t vmuart_next(ktime_t now, bool in_pulse)
{
	s64 sec = div_s64(ktime_to_ns(now), NSEC_PER_SEC);

	if (in_pulse)
		return ktime_add_ms(ktime_set(sec, 0), width_ms);
	return ktime_set(sec + 1, 0);
}

static enum hrtimer_restart vmuart_fire(struct hrtimer *t)
{
	ktime_t real = ktime_get_real();
	struct uart_port *port = &vmuart_port;
	bool starting = !vmuart_in_pulse;
	bool dcd = starting != invert;
	unsigned long flags;

	spin_lock_irqsave(&port->lock, flags);
	vmuart_dcd = dcd;
	uart_handle_dcd_change(port, dcd);
	wake_up_interruptible(&port->state->port.delta_msr_wait);
	spin_unlock_irqrestore(&port->lock, flags);
	vmuart_record(dcd, hrtimer_get_expires(t), real);
	vmuart_in_pulse = starting;
	hrtimer_set_expires(t, vmuart_next(ktime_get_real(), starting));
	return HRTIMER_RESTART;
}

/* ---- debugfs -------------------------------------------------------- */

static int vmuart_edges_show(struct seq_file *m, void *unused)
{
	struct vmuart_edge *snap;
	unsigned long flags;
	u64 n, i;

	snap = kmalloc_array(VMUART_RING, sizeof(*snap), GFP_KERNEL);
	if (!snap)
		return -ENOMEM;
	spin_lock_irqsave(&vmuart_ring_lock, flags);
	memcpy(snap, vmuart_ring, sizeof(vmuart_ring));
	n = vmuart_seq;
	spin_unlock_irqrestore(&vmuart_ring_lock, flags);
	for (i = n > VMUART_RING ? n - VMUART_RING : 0; i < n; i++) {
		const struct vmuart_edge *e = &snap[i % VMUART_RING];

		seq_printf(m, "%llu %d %lld %lld\n", e->seq, e->dcd,
			   e->expiry_ns, e->real_ns);
	}
	kfree(snap);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vmuart_edges);

/* ---- module --------------------------------------------------------- */

static int __init vmuart_init(void)
{
	int r;

	if (width_ms < 1 || width_ms > 900)
		return -EINVAL;
	vmuart_dcd = invert;
	r = uart_register_driver(&vmuart_drv);
	if (r)
		return r;
	r = uart_add_one_port(&vmuart_drv, &vmuart_port);
	if (r) {
		uart_unregister_driver(&vmuart_drv);
		return r;
	}
	vmuart_dir = debugfs_create_dir("vmuart", NULL);
	debugfs_create_file("edges", 0444, vmuart_dir, NULL,
			    &vmuart_edges_fops);
	hrtimer_init(&vmuart_timer, CLOCK_REALTIME, HRTIMER_MODE_ABS);
	vmuart_timer.function = vmuart_fire;
	hrtimer_start(&vmuart_timer, vmuart_next(ktime_get_real(), false),
		      HRTIMER_MODE_ABS);
	pr_info("vmuart: /dev/%s0, DCD pulse %u ms%s\n", vmuart_drv.dev_name,
		width_ms, invert ? ", inverted" : "");
	return 0;
}

/*
 * Every tty holds a reference to the tty driver until it is freed, after
 * its last close: only the driver's own is left then.
 */
static void vmuart_wait_closed(void)
{
	struct tty_driver *t = vmuart_drv.tty_driver;
	bool said = false;

	while (kref_read(&t->kref) > 1) {
		if (!said)
			pr_info("vmuart: waiting for the last close\n");
		said = true;
		msleep(20);
	}
}

static void __exit vmuart_exit(void)
{
	hrtimer_cancel(&vmuart_timer);
	debugfs_remove_recursive(vmuart_dir);
	uart_remove_one_port(&vmuart_drv, &vmuart_port);
	vmuart_wait_closed();
	uart_unregister_driver(&vmuart_drv);
}

module_init(vmuart_init);
module_exit(vmuart_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gpspps test UART: PPS on DCD at whole seconds");
