// SPDX-License-Identifier: GPL-2.0
/*
 * vmgpio - a test-only gpiochip for gpspps's VM tests.
 *
 * One chip labelled "vmgpio" with four input lines.  Line 2, named "PPS",
 * goes high at every whole second of CLOCK_REALTIME and low width_ms later
 * (inverted with invert=1); the other lines stay low.  Edges raise
 * interrupts through gpiolib's own irqchip support, so the GPIO character
 * device (uAPI v1 and v2, libgpiod, gpiomon) timestamps them in its
 * interrupt handler exactly as for a real pin.  Line 3 is held by the
 * chip itself under the label "pps-gpio.0", as the pps-gpio driver holds
 * its pin, to test the "in use by pps-gpio" message.  Debian's kernel has no
 * gpio-sim or its IRQ simulator, hence this module.
 */
#include <linux/gpio/consumer.h>
#include <linux/gpio/driver.h>
#include <linux/gpio/machine.h>
#include <linux/hrtimer.h>
#include <linux/irq.h>
#include <linux/ktime.h>
#include <linux/module.h>

#define VMGPIO_NLINES 4
#define VMGPIO_PPS_LINE 2
#define VMGPIO_OWNED_LINE 3

static unsigned int width_ms = 100;
module_param(width_ms, uint, 0444);
MODULE_PARM_DESC(width_ms, "pulse width in ms (1-900)");

static bool invert;
module_param(invert, bool, 0444);
MODULE_PARM_DESC(invert, "active-low pulse: falling edge on the second");

static const char *const vmgpio_names[VMGPIO_NLINES] = {
	"IN0", "IN1", "PPS", "IN3"
};

static struct gpio_chip vmgpio_chip;
static struct gpio_desc *vmgpio_owned;
static struct hrtimer vmgpio_timer;
static bool vmgpio_in_pulse;   /* between the second and width_ms later */
static int vmgpio_level;       /* level of the PPS line */
static unsigned int vmgpio_type;   /* IRQ_TYPE_EDGE_* of the PPS line */
static bool vmgpio_unmasked;

static int vmgpio_get(struct gpio_chip *gc, unsigned int offset)
{
	return offset == VMGPIO_PPS_LINE ? READ_ONCE(vmgpio_level) : 0;
}

static int vmgpio_get_direction(struct gpio_chip *gc, unsigned int offset)
{
	return GPIO_LINE_DIRECTION_IN;
}

static int vmgpio_direction_input(struct gpio_chip *gc, unsigned int offset)
{
	return 0;
}

static void vmgpio_irq_mask(struct irq_data *d)
{
	irq_hw_number_t hwirq = irqd_to_hwirq(d);

	if (hwirq == VMGPIO_PPS_LINE)
		WRITE_ONCE(vmgpio_unmasked, false);
	gpiochip_disable_irq(&vmgpio_chip, hwirq);
}

static void vmgpio_irq_unmask(struct irq_data *d)
{
	irq_hw_number_t hwirq = irqd_to_hwirq(d);

	gpiochip_enable_irq(&vmgpio_chip, hwirq);
	if (hwirq == VMGPIO_PPS_LINE)
		WRITE_ONCE(vmgpio_unmasked, true);
}

static int vmgpio_irq_set_type(struct irq_data *d, unsigned int type)
{
	if (type & ~IRQ_TYPE_EDGE_BOTH)
		return -EINVAL;   /* edges only, like many SoC pins */
	if (irqd_to_hwirq(d) == VMGPIO_PPS_LINE)
		WRITE_ONCE(vmgpio_type, type);
	irq_set_handler_locked(d, handle_simple_irq);
	return 0;
}

static const struct irq_chip vmgpio_irqchip = {
	.name = "vmgpio",
	.irq_mask = vmgpio_irq_mask,
	.irq_unmask = vmgpio_irq_unmask,
	.irq_set_type = vmgpio_irq_set_type,
	.flags = IRQCHIP_IMMUTABLE | IRQCHIP_SKIP_SET_WAKE,
	GPIOCHIP_IRQ_RESOURCE_HELPERS,
};

static ktime_t vmgpio_next(ktime_t now, bool in_pulse)
{
	s64 sec = div_s64(ktime_to_ns(now), NSEC_PER_SEC);

	if (in_pulse)
		return ktime_add_ms(ktime_set(sec, 0), width_ms);
	return ktime_set(sec + 1, 0);
}

/* hrtimer callbacks run in hard interrupt context, as a pin's IRQ would. */
static enum hrtimer_restart vmgpio_fire(struct hrtimer *t)
{
	bool starting = !vmgpio_in_pulse;
	int level = starting != invert;
	unsigned int want = level ? IRQ_TYPE_EDGE_RISING : IRQ_TYPE_EDGE_FALLING;

	WRITE_ONCE(vmgpio_level, level);
	if (READ_ONCE(vmgpio_unmasked) && (READ_ONCE(vmgpio_type) & want))
		generic_handle_domain_irq(vmgpio_chip.irq.domain,
					  VMGPIO_PPS_LINE);
	vmgpio_in_pulse = starting;
	hrtimer_set_expires(t, vmgpio_next(ktime_get_real(), vmgpio_in_pulse));
	return HRTIMER_RESTART;
}

static int __init vmgpio_init(void)
{
	struct gpio_irq_chip *girq = &vmgpio_chip.irq;
	int ret;

	if (width_ms < 1 || width_ms > 900)
		return -EINVAL;
	vmgpio_level = invert;
	vmgpio_chip.label = "vmgpio";
	vmgpio_chip.owner = THIS_MODULE;
	vmgpio_chip.base = -1;
	vmgpio_chip.ngpio = VMGPIO_NLINES;
	vmgpio_chip.names = vmgpio_names;
	vmgpio_chip.get = vmgpio_get;
	vmgpio_chip.get_direction = vmgpio_get_direction;
	vmgpio_chip.direction_input = vmgpio_direction_input;
	gpio_irq_chip_set_chip(girq, &vmgpio_irqchip);
	girq->handler = handle_simple_irq;
	girq->default_type = IRQ_TYPE_NONE;
	ret = gpiochip_add_data(&vmgpio_chip, NULL);
	if (ret)
		return ret;
	vmgpio_owned = gpiochip_request_own_desc(&vmgpio_chip,
						 VMGPIO_OWNED_LINE,
						 "pps-gpio.0",
						 GPIO_LOOKUP_FLAGS_DEFAULT,
						 GPIOD_IN);
	if (IS_ERR(vmgpio_owned)) {
		gpiochip_remove(&vmgpio_chip);
		return PTR_ERR(vmgpio_owned);
	}
	hrtimer_init(&vmgpio_timer, CLOCK_REALTIME, HRTIMER_MODE_ABS);
	vmgpio_timer.function = vmgpio_fire;
	hrtimer_start(&vmgpio_timer, vmgpio_next(ktime_get_real(), false),
		      HRTIMER_MODE_ABS);
	pr_info("vmgpio: line %d pulses %u ms%s\n", VMGPIO_PPS_LINE,
		width_ms, invert ? ", inverted" : "");
	return 0;
}

static void __exit vmgpio_exit(void)
{
	hrtimer_cancel(&vmgpio_timer);
	gpiochip_free_own_desc(vmgpio_owned);
	gpiochip_remove(&vmgpio_chip);
}

module_init(vmgpio_init);
module_exit(vmgpio_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gpspps test gpiochip: a line pulsing at whole seconds");
