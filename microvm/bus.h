/* bus.h — routes the guest's port and MMIO accesses to devices.
 *
 * A device is a struct vm_dev with an ops table; it claims one or more
 * address ranges on the PIO or MMIO bus.  dispatch() calls the device with
 * the offset inside its range; accesses nobody claims read as all-ones and
 * writes are dropped, as on real hardware.  Ranges are fixed before the
 * vCPUs start, so lookups need no lock; each device serialises itself.
 */
#ifndef HULL_MICROVM_BUS_H
#define HULL_MICROVM_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"

struct vm_dev;

struct vm_dev_ops {
	void (*read)(struct vm_dev *dev, uint64_t offset, void *data, uint32_t len);
	void (*write)(struct vm_dev *dev, uint64_t offset, const void *data, uint32_t len);
};

struct vm_dev {
	const char *name;
	const struct vm_dev_ops *ops;
	void *opaque;
};

#define BUS_MAX_RANGES 32

struct bus_range {
	uint64_t base, len;
	struct vm_dev *dev;
};

struct bus {
	struct bus_range ranges[BUS_MAX_RANGES];
	unsigned n;
};

/* Claim [base, base+len); overlapping claims are refused. */
int bus_add(struct bus *bus, uint64_t base, uint64_t len, struct vm_dev *dev, struct hull_err *err);
/* Returns false when no device claims addr (reads are then filled with 0xff). */
bool bus_dispatch(const struct bus *bus, uint64_t addr, void *data, uint32_t len, bool is_write);

#endif
