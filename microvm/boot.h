/* boot.h — getting a Linux kernel ready to run in guest RAM.
 *
 * Two entry protocols: an ELF vmlinux with a PVH note (XEN_ELFNOTE_PHYS32_ENTRY)
 * is entered in 32-bit protected mode with %ebx = hvm_start_info; anything
 * else must be a bzImage with the 64-bit boot protocol (2.12+, XLF_KERNEL_64),
 * entered in long mode at load address + 0x200 with %rsi = boot_params.
 * Both get the same e820 map, command line, initrd and MP table (so a kernel
 * without ACPI finds every vCPU and the IOAPIC).  The parsing helpers work on
 * buffers so they can be unit-tested; file contents are hostile input.
 */
#ifndef HULL_MICROVM_BOOT_H
#define HULL_MICROVM_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "microvm/kvm.h"

enum boot_mode { BOOT_PVH, BOOT_LINUX64 };

struct boot_entry {
	enum boot_mode mode;
	uint64_t rip;
	uint64_t arg;      /* PVH: %rbx = start_info; LINUX64: %rsi = boot_params */
};

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_MAX 8

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};

/* e820 for low_size bytes at 0 and high_size bytes at 4 GiB; returns the count. */
unsigned boot_e820(uint64_t low_size, uint64_t high_size, struct e820_entry *out, unsigned max);

/* What hull needs from a bzImage's setup header (boot protocol, Documentation/x86/boot.rst). */
struct bzimage_info {
	uint16_t version;
	uint64_t setup_bytes;        /* real-mode part, skipped when loading */
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
	size_t hdr_end;              /* setup header spans [0x1f1, hdr_end) of the file */
};
/* head: the first bytes of the file (at least 0x280). */
int boot_parse_bzimage(const uint8_t *head, size_t len, struct bzimage_info *out, struct hull_err *err);

/* Find the PVH entry in a buffer of ELF notes; returns 0 and *entry, or -ENOENT. */
int boot_find_pvh_note(const uint8_t *notes, size_t len, uint32_t *entry);

/* Write an MP floating pointer + config table for ncpus at dst (guest address
 * gpa); returns bytes written or negative errno if room is too small. */
long boot_write_mptable(uint8_t *dst, size_t room, uint64_t gpa, unsigned ncpus, unsigned ioapic_pins);

/* The ACPI power-management ports (power.c) and the SCI line the FADT names. */
#define ACPI_PM1_EVT_PORT 0x600   /* PM1a status (2 bytes) + enable (2 bytes) */
#define ACPI_PM1_CNT_PORT 0x604   /* PM1a control (2 bytes) */
#define ACPI_SCI_IRQ 9
#define ACPI_SLP_TYP_S5 5

/* ACPI RSDP/XSDT/FADT/DSDT/MADT for ncpus at dst (guest address gpa, 16-byte
 * aligned); *rsdp_gpa gets the RSDP's address.  Returns bytes written or
 * negative errno (acpi.c). */
long boot_write_acpi(uint8_t *dst, size_t room, uint64_t gpa, unsigned ncpus, uint64_t *rsdp_gpa);

/* "virtio_mmio.device=4K@0xd0001000:5" */
int boot_virtio_mmio_arg(char *buf, size_t size, uint64_t base, uint64_t len, unsigned irq);

/* Load kernel (+ initrd, cmdline) into guest RAM; fills *entry. */
int boot_load(struct guest_mem *mem, int kernel_fd, int initrd_fd, const char *cmdline,
              unsigned ncpus, struct boot_entry *entry, struct hull_err *err);

#endif
