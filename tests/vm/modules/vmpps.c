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
 * With raw=1 the seconds are those of a reference clock that neither
 * steps nor slews of the system clock move, as a GPS receiver's are not:
 * CLOCK_MONOTONIC_RAW + raw_offset_ns, the offset taken at load so that
 * the reference starts on CLOCK_REALTIME (read it back from
 * /sys/module/vmpps/parameters/raw_offset_ns and give it to gpspps-sim
 * --raw-clock).  That clock counts every second, 23:59:60 included, so
 * the pulses go on through a leap second the kernel inserts (an hrtimer
 * on CLOCK_REALTIME whole seconds would skip the repeated 23:59:59).  No
 * hrtimer base runs on the raw clock: the timer runs on CLOCK_MONOTONIC
 * and is re-armed short of the target until it is within 1 ms, so a
 * clock slewed by chronyd (at most 8.3 %) never makes it fire late.
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

static bool raw;
module_param(raw, bool, 0444);
MODULE_PARM_DESC(raw, "pulse on CLOCK_MONOTONIC_RAW + raw_offset_ns seconds");

static long raw_offset_ns;	/* 64 bits on the amd64 guest */
module_param(raw_offset_ns, long, 0444);
MODULE_PARM_DESC(raw_offset_ns, "raw=1: reference - CLOCK_MONOTONIC_RAW (set at load)");

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
static ktime_t vmpps_target;	/* raw=1: next event on the reference */

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

static void vmpps_event(void)
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
}

static ktime_t vmpps_ref_now(void)
{
	return ktime_add_ns(ktime_get_raw(), raw_offset_ns);
}

/* raw=1: fire when the reference reaches vmpps_target; until then re-arm
 * on CLOCK_MONOTONIC for 7/8 of what is left (all of it under 1 ms). */
static void vmpps_raw_step(struct hrtimer *t)
{
	s64 left = ktime_to_ns(ktime_sub(vmpps_target, vmpps_ref_now()));

	if (left <= 0) {
		vmpps_event();
		vmpps_target = vmpps_next(vmpps_ref_now(), vmpps_in_pulse);
		left = ktime_to_ns(ktime_sub(vmpps_target, vmpps_ref_now()));
	}
	if (left > NSEC_PER_MSEC)
		left -= left / 8;
	hrtimer_set_expires(t, ktime_add_ns(ktime_get(), left));
}

static enum hrtimer_restart vmpps_fire(struct hrtimer *t)
{
	if (raw) {
		vmpps_raw_step(t);
		return HRTIMER_RESTART;
	}
	vmpps_event();
	hrtimer_set_expires(t, vmpps_next(ktime_get_real(), vmpps_in_pulse));
	return HRTIMER_RESTART;
}

static void vmpps_start(void)
{
	vmpps_in_pulse = false;
	if (!raw) {
		hrtimer_init(&vmpps_timer, CLOCK_REALTIME, HRTIMER_MODE_ABS);
		vmpps_timer.function = vmpps_fire;
		hrtimer_start(&vmpps_timer,
			      vmpps_next(ktime_get_real(), false),
			      HRTIMER_MODE_ABS);
		return;
	}
	raw_offset_ns = ktime_get_real_ns() - ktime_get_raw_ns();
	vmpps_target = vmpps_next(vmpps_ref_now(), false);
	hrtimer_init(&vmpps_timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
	vmpps_timer.function = vmpps_fire;
	hrtimer_start(&vmpps_timer, ktime_get(), HRTIMER_MODE_ABS);
}

static int __init vmpps_init(void)
{
	if (width_ms < 1 || width_ms > 900)
		return -EINVAL;
	vmpps_dev = pps_register_source(&vmpps_info,
					PPS_CAPTUREASSERT | PPS_OFFSETASSERT);
	if (IS_ERR(vmpps_dev))
		return PTR_ERR(vmpps_dev);
	vmpps_start();
	pr_info("vmpps: /dev/pps%d, width %u ms%s%s, %u Hz\n", vmpps_dev->id,
		width_ms, invert ? ", inverted" : "",
		raw ? ", on the raw reference clock" : "", rate_hz);
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
