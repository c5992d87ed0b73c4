// SPDX-License-Identifier: GPL-2.0
/*
 * vmpps - a test-only PPS source for gpspps's VM tests.
 *
 * Registers one RFC 2783 source (/dev/ppsN) and raises an assert event at
 * every whole second of CLOCK_REALTIME from an hrtimer, plus a clear event
 * width_ms later.  With invert=1 the pulse is active low: the clear event
 * is on the second and the assert width_ms later, as from a receiver whose
 * PPS output is inverted.
 *
 * rate_hz (writable at run time, /sys/module/vmpps/parameters/rate_hz)
 * makes it pulse faster, for the PPS flood test: rate_hz pulses a second
 * on a grid of 1 s / rate_hz from the whole second, each half a period
 * wide.  The default, 1, is the pulse on whole seconds described above;
 * writing 1 again returns to it at the next second.
 *
 * The source is registered without an owner module, so that rmmod works
 * while a reader holds /dev/ppsN open: the test uses that to make the
 * device vanish under gpsppsd, as a hot-unplugged receiver does.  The pps
 * core keeps its own reference to the device until the last close.
 */
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/pps_kernel.h>

static unsigned int width_ms = 100;
module_param(width_ms, uint, 0444);
MODULE_PARM_DESC(width_ms, "pulse width in ms (1-900)");

static bool invert;
module_param(invert, bool, 0444);
MODULE_PARM_DESC(invert, "active-low pulse: clear on the second");

#define VMPPS_RATE_MAX 20000

static unsigned int rate_hz = 1;

static int vmpps_rate_set(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int r = kstrtouint(val, 0, &v);

	if (r)
		return r;
	if (v < 1 || v > VMPPS_RATE_MAX)
		return -EINVAL;
	WRITE_ONCE(rate_hz, v);
	return 0;
}

static const struct kernel_param_ops vmpps_rate_ops = {
	.set = vmpps_rate_set,
	.get = param_get_uint,
};
module_param_cb(rate_hz, &vmpps_rate_ops, &rate_hz, 0644);
MODULE_PARM_DESC(rate_hz, "pulses a second, 1-20000 (1: on whole seconds)");

static struct pps_device *vmpps_dev;
static struct hrtimer vmpps_timer;
static bool vmpps_in_pulse;

static struct pps_source_info vmpps_info = {
	.name = "vmpps",
	.path = "",
	.mode = PPS_CAPTUREBOTH | PPS_OFFSETASSERT | PPS_OFFSETCLEAR |
		PPS_CANWAIT | PPS_TSFMT_TSPEC,
	.owner = NULL,
};

/* The next pulse start on the grid (whole seconds at 1 Hz) or the end of
 * the pulse that started last. */
static ktime_t vmpps_next(ktime_t now, bool in_pulse)
{
	unsigned int rate = READ_ONCE(rate_hz);
	s64 period = NSEC_PER_SEC / rate;
	s64 width = rate == 1 ? (s64)width_ms * NSEC_PER_MSEC : period / 2;
	s64 start = div64_s64(ktime_to_ns(now), period) * period;

	if (in_pulse)
		return ns_to_ktime(start + width);
	return ns_to_ktime(start + period);
}

static enum hrtimer_restart vmpps_fire(struct hrtimer *t)
{
	struct pps_event_time ts;
	bool starting = !vmpps_in_pulse;
	int event;

	pps_get_ts(&ts);
	/* starting: the edge on the second */
	if (starting != invert)
		event = PPS_CAPTUREASSERT;
	else
		event = PPS_CAPTURECLEAR;
	pps_event(vmpps_dev, &ts, event, NULL);
	vmpps_in_pulse = starting;
	hrtimer_set_expires(t, vmpps_next(ktime_get_real(), vmpps_in_pulse));
	return HRTIMER_RESTART;
}

static int __init vmpps_init(void)
{
	if (width_ms < 1 || width_ms > 900)
		return -EINVAL;
	vmpps_dev = pps_register_source(&vmpps_info,
					PPS_CAPTUREASSERT | PPS_OFFSETASSERT);
	if (IS_ERR(vmpps_dev))
		return PTR_ERR(vmpps_dev);
	hrtimer_init(&vmpps_timer, CLOCK_REALTIME, HRTIMER_MODE_ABS);
	vmpps_timer.function = vmpps_fire;
	vmpps_in_pulse = false;
	hrtimer_start(&vmpps_timer, vmpps_next(ktime_get_real(), false),
		      HRTIMER_MODE_ABS);
	pr_info("vmpps: /dev/pps%d, width %u ms%s, %u Hz\n", vmpps_dev->id,
		width_ms, invert ? ", inverted" : "", rate_hz);
	return 0;
}

static void __exit vmpps_exit(void)
{
	hrtimer_cancel(&vmpps_timer);
	pps_unregister_source(vmpps_dev);
}

module_init(vmpps_init);
module_exit(vmpps_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gpspps test PPS source: edges at whole seconds");
