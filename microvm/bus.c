/* bus.c — PIO/MMIO routing (see bus.h). */
#include "microvm/bus.h"

#include <errno.h>
#include <string.h>

int bus_add(struct bus *bus, uint64_t base, uint64_t len, struct vm_dev *dev, struct hull_err *err)
{
	uint64_t end;

	if (len == 0 || __builtin_add_overflow(base, len, &end))
		return hull_errf(err, EINVAL, "device %s: empty or wrapping range 0x%llx+0x%llx",
		                 dev->name, (unsigned long long)base, (unsigned long long)len);
	for (unsigned i = 0; i < bus->n; i++) {
		const struct bus_range *r = &bus->ranges[i];
		if (base < r->base + r->len && r->base < end)
			return hull_errf(err, EBUSY, "device %s: range 0x%llx+0x%llx overlaps %s",
			                 dev->name, (unsigned long long)base, (unsigned long long)len, r->dev->name);
	}
	if (bus->n == BUS_MAX_RANGES)
		return hull_errf(err, ENOSPC, "device %s: too many device ranges", dev->name);
	bus->ranges[bus->n++] = (struct bus_range){ base, len, dev };
	return 0;
}

bool bus_dispatch(const struct bus *bus, uint64_t addr, void *data, uint32_t len, bool is_write)
{
	for (unsigned i = 0; i < bus->n; i++) {
		const struct bus_range *r = &bus->ranges[i];
		/* The whole access must fall inside the range: a guest straddling two
		 * devices gets nothing from either. */
		if (addr >= r->base && addr - r->base < r->len && len <= r->len - (addr - r->base)) {
			if (is_write) {
				if (r->dev->ops->write)
					r->dev->ops->write(r->dev, addr - r->base, data, len);
			} else {
				memset(data, 0, len);
				if (r->dev->ops->read)
					r->dev->ops->read(r->dev, addr - r->base, data, len);
			}
			return true;
		}
	}
	if (!is_write)
		memset(data, 0xff, len);
	return false;
}
