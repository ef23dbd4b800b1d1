/* Unit tests for microvm/boot.c: e820 layout, MP table (checked the way
 * Linux's mpparse.c reads it), bzImage setup header and PVH note parsing,
 * virtio-mmio command-line strings, and a whole boot_load() of a small PVH
 * ELF into a fake guest RAM. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "microvm/boot.h"
#include "microvm/kvm.h"
#include "microvm/vm.h"

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += p[i];
	return s;
}

static void test_e820_small(void **state)
{
	struct e820_entry e[E820_MAX];
	unsigned n = boot_e820(256ull << 20, 0, e, E820_MAX);
	uint64_t ram = 0;

	assert_int_equal(n, 4);
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].type, E820_RAM);
	assert_int_equal(e[0].addr + e[0].size, VM_EBDA_START);
	assert_int_equal(e[1].type, E820_RESERVED);
	assert_int_equal(e[2].addr, 0xe0000);   /* ACPI + MP tables */
	assert_int_equal(e[2].addr + e[2].size, VM_HIMEM_START);
	assert_int_equal(e[3].addr, VM_HIMEM_START);
	assert_int_equal(e[3].addr + e[3].size, 256ull << 20);
	for (unsigned i = 0; i < n; i++) {
		if (e[i].type == E820_RAM)
			ram += e[i].size;
		if (i)   /* sorted, no overlap */
			assert_true(e[i - 1].addr + e[i - 1].size <= e[i].addr);
	}
	assert_true(ram < 256ull << 20);
}

static void test_e820_split_above_4g(void **state)
{
	struct e820_entry e[E820_MAX];
	uint64_t low, high;
	unsigned n;

	gmem_layout(5ull << 30, &low, &high);
	assert_int_equal(low, VM_MMIO_GAP_START);
	assert_int_equal(high, (5ull << 30) - VM_MMIO_GAP_START);
	n = boot_e820(low, high, e, E820_MAX);
	assert_int_equal(n, 5);
	assert_int_equal(e[3].addr + e[3].size, VM_MMIO_GAP_START);
	assert_int_equal(e[4].addr, VM_HIGH_RAM_START);
	assert_int_equal(e[4].size, high);
	/* a short table is truncated, never overrun */
	assert_int_equal(boot_e820(low, high, e, 2), 2);
}

/* Find and validate the MP table as Linux does; returns the number of enabled CPUs. */
static int parse_mptable(const uint8_t *mem, size_t len, uint64_t gpa, int *ioapic_id, int *bsp_count)
{
	for (size_t off = 0; off + 16 <= len; off += 16) {
		const uint8_t *f = mem + off;
		uint32_t phys;
		const uint8_t *c;
		uint16_t clen, count;
		int cpus = 0;

		if (memcmp(f, "_MP_", 4) || f[8] != 1 || sum8(f, 16) != 0 || (f[9] != 1 && f[9] != 4))
			continue;
		memcpy(&phys, f + 4, 4);
		assert_true(phys >= gpa && phys - gpa < len);
		c = mem + (phys - gpa);
		assert_memory_equal(c, "PCMP", 4);
		memcpy(&clen, c + 4, 2);
		memcpy(&count, c + 34, 2);
		assert_int_equal(sum8(c, clen), 0);
		*bsp_count = 0;
		const uint8_t *p = c + 44;
		for (unsigned i = 0; i < count; i++) {
			switch (p[0]) {
			case 0:
				if (p[3] & 1)
					cpus++;
				if (p[3] & 2)
					(*bsp_count)++;
				p += 20;
				break;
			case 2:
				*ioapic_id = p[1];
				p += 8;
				break;
			default:
				assert_in_range(p[0], 1, 4);
				p += 8;
			}
			assert_true(p <= c + clen);
		}
		assert_ptr_equal(p, c + clen);
		return cpus;
	}
	return -1;
}

static void test_mptable(void **state)
{
	static uint8_t area[0x10000];
	int ioapic = -1, bsp = 0;

	for (unsigned n = 1; n <= 64; n = n * 2 + 1) {
		memset(area, 0xaa, sizeof(area));
		assert_true(boot_write_mptable(area, sizeof(area), 0xf0000, n, VM_IOAPIC_PINS) > 0);
		assert_int_equal(parse_mptable(area, sizeof(area), 0xf0000, &ioapic, &bsp), (int)n);
		assert_int_equal(bsp, 1);
		assert_true(ioapic >= (int)n);   /* distinct from every LAPIC id */
	}
	assert_true(boot_write_mptable(area, 64, 0xf0000, 4, VM_IOAPIC_PINS) < 0);
	assert_true(boot_write_mptable(area, sizeof(area), 0xf0000, 0, VM_IOAPIC_PINS) < 0);
}

static const uint8_t *acpi_table(const uint8_t *area, uint64_t gpa, uint64_t addr)
{
	uint32_t len;
	const uint8_t *t = area + (addr - gpa);

	memcpy(&len, t + 4, 4);
	assert_true(len >= 36 && addr - gpa + len <= 0x10000);
	assert_int_equal(sum8(t, len), 0);
	return t;
}

static void test_acpi(void **state)
{
	static uint8_t area[0x10000];
	uint64_t rsdp = 0, xsdt, entry;
	uint32_t madt_len, flags;

	for (unsigned n = 1; n <= 64; n = n * 2 + 1) {
		const uint8_t *x, *madt = NULL, *fadt = NULL;
		unsigned lapics = 0, ioapics = 0;

		memset(area, 0xaa, sizeof(area));
		assert_true(boot_write_acpi(area, sizeof(area), 0xe0000, n, &rsdp) > 0);
		assert_int_equal(rsdp % 16, 0);
		const uint8_t *r = area + (rsdp - 0xe0000);
		assert_memory_equal(r, "RSD PTR ", 8);
		assert_int_equal(sum8(r, 20), 0);
		assert_int_equal(sum8(r, 36), 0);
		memcpy(&xsdt, r + 24, 8);
		x = acpi_table(area, 0xe0000, xsdt);
		assert_memory_equal(x, "XSDT", 4);
		for (int i = 0; i < 2; i++) {
			memcpy(&entry, x + 36 + 8 * i, 8);
			const uint8_t *t = acpi_table(area, 0xe0000, entry);
			if (!memcmp(t, "APIC", 4))
				madt = t;
			if (!memcmp(t, "FACP", 4))
				fadt = t;
		}
		assert_non_null(madt);
		assert_non_null(fadt);
		memcpy(&flags, fadt + 112, 4);
		assert_false(flags & (1u << 20));   /* not hardware-reduced: ISA IRQs stay */
		memcpy(&flags, fadt + 64, 4);
		assert_int_equal(flags, ACPI_PM1_CNT_PORT);
		memcpy(&entry, fadt + 140, 8);
		const uint8_t *dsdt = acpi_table(area, 0xe0000, entry);
		assert_memory_equal(dsdt, "DSDT", 4);
		assert_memory_equal(dsdt + 36 + 1, "_S5_", 4);
		memcpy(&madt_len, madt + 4, 4);
		for (const uint8_t *p = madt + 44; p < madt + madt_len; p += p[1]) {
			assert_true(p[1] >= 2);
			if (p[0] == 0 && (p[4] & 1))
				lapics++;
			if (p[0] == 1) {
				ioapics++;
				assert_true(p[2] >= n);
			}
		}
		assert_int_equal(lapics, n);
		assert_int_equal(ioapics, 1);
	}
	assert_true(boot_write_acpi(area, 100, 0xe0000, 4, &rsdp) < 0);
}

static void make_bzimage_head(uint8_t *h, size_t len)
{
	memset(h, 0, len);
	h[0x1f1] = 0;                      /* setup_sects 0 means 4 */
	h[0x1fe] = 0x55; h[0x1ff] = 0xaa;
	h[0x200] = 0xeb; h[0x201] = 0x6a;  /* header ends at 0x26c */
	memcpy(h + 0x202, "HdrS", 4);
	h[0x206] = 0x0f; h[0x207] = 0x02;  /* 2.15 */
	h[0x211] = 0x01;                   /* LOADED_HIGH */
	h[0x22c] = 0xff; h[0x22d] = 0xff; h[0x22e] = 0xff; h[0x22f] = 0x7f;
	h[0x236] = 0x01;                   /* XLF_KERNEL_64 */
	h[0x238] = 0xff; h[0x239] = 0x07;  /* cmdline_size 2047 */
}

static void test_bzimage_header(void **state)
{
	uint8_t h[1024];
	struct bzimage_info bz;
	struct hull_err err = { 0 };

	make_bzimage_head(h, sizeof(h));
	assert_int_equal(boot_parse_bzimage(h, sizeof(h), &bz, &err), 0);
	assert_int_equal(bz.setup_bytes, 5 * 512);
	assert_int_equal(bz.version, 0x020f);
	assert_int_equal(bz.cmdline_size, 2047);
	assert_int_equal(bz.initrd_addr_max, 0x7fffffff);
	assert_int_equal(bz.hdr_end, 0x26c);
	h[0x1f1] = 27;
	assert_int_equal(boot_parse_bzimage(h, sizeof(h), &bz, &err), 0);
	assert_int_equal(bz.setup_bytes, 28 * 512);

	make_bzimage_head(h, sizeof(h));
	h[0x236] = 0;
	assert_int_equal(boot_parse_bzimage(h, sizeof(h), &bz, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "64-bit"));
	make_bzimage_head(h, sizeof(h));
	h[0x206] = 0x0a;   /* 2.10 */
	assert_int_equal(boot_parse_bzimage(h, sizeof(h), &bz, &err), -ENOEXEC);
	make_bzimage_head(h, sizeof(h));
	h[0x202] = 'X';
	assert_int_equal(boot_parse_bzimage(h, sizeof(h), &bz, &err), -ENOEXEC);
	make_bzimage_head(h, sizeof(h));
	h[0x201] = 0xff;   /* header claims to run past the setup header area */
	assert_int_equal(boot_parse_bzimage(h, sizeof(h), &bz, &err), -ENOEXEC);
	assert_int_equal(boot_parse_bzimage(h, 100, &bz, &err), -ENOEXEC);
}

static size_t put_note(uint8_t *p, const char *name, uint32_t type, const void *desc, uint32_t desc_len)
{
	Elf64_Nhdr nh = { .n_namesz = (uint32_t)strlen(name) + 1, .n_descsz = desc_len, .n_type = type };
	size_t off = sizeof(nh);

	memcpy(p, &nh, sizeof(nh));
	memcpy(p + off, name, nh.n_namesz);
	off += (nh.n_namesz + 3) & ~3u;
	memcpy(p + off, desc, desc_len);
	off += (desc_len + 3) & ~3u;
	return off;
}

static void test_pvh_note(void **state)
{
	uint8_t notes[256] = { 0 };
	uint32_t entry = 0, want = 0x1000abc, junk = 7;
	size_t n = 0;

	n += put_note(notes + n, "GNU", 3, &junk, 4);
	n += put_note(notes + n, "Xen", 17, &junk, 4);      /* another Xen note */
	assert_int_equal(boot_find_pvh_note(notes, n, &entry), -ENOENT);
	n += put_note(notes + n, "Xen", 18, &want, 4);
	assert_int_equal(boot_find_pvh_note(notes, n, &entry), 0);
	assert_int_equal(entry, want);
	/* truncated in the middle of the descriptor */
	assert_int_equal(boot_find_pvh_note(notes, n - 2, &entry), -ENOENT);
	/* a name size that points far outside the buffer */
	Elf64_Nhdr bad = { .n_namesz = 0xfffffff0u, .n_descsz = 4, .n_type = 18 };
	memcpy(notes, &bad, sizeof(bad));
	assert_int_equal(boot_find_pvh_note(notes, n, &entry), -ENOENT);
	assert_int_equal(boot_find_pvh_note(notes, 0, &entry), -ENOENT);
}

static void test_virtio_mmio_arg(void **state)
{
	char buf[64];

	assert_int_equal(boot_virtio_mmio_arg(buf, sizeof(buf), 0xd0001000, 0x1000, 5), 34);
	assert_string_equal(buf, "virtio_mmio.device=4K@0xd0001000:5");
	boot_virtio_mmio_arg(buf, sizeof(buf), 0xd0002000, 0x200, 12);
	assert_string_equal(buf, "virtio_mmio.device=512@0xd0002000:12");
	assert_int_equal(boot_virtio_mmio_arg(buf, 10, 0xd0001000, 0x1000, 5), -ENOSPC);
}

/* A minimal PVH kernel: one PT_LOAD at 16 MiB, one PT_NOTE with the entry. */
static int write_fake_vmlinux(char *path)
{
	uint8_t file[8192] = { 0 };
	Elf64_Ehdr *eh = (Elf64_Ehdr *)file;
	Elf64_Phdr *ph = (Elf64_Phdr *)(file + sizeof(*eh));
	uint32_t entry = 0x1000040;
	size_t nl;
	int fd = mkstemp(path);

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 2;
	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 4096, .p_paddr = 0x1000000,
	                      .p_filesz = 64, .p_memsz = 8192 };
	memset(file + 4096, 0xcc, 64);
	nl = put_note(file + 1024, "Xen", 18, &entry, 4);
	ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 1024, .p_filesz = nl };
	assert_true(fd >= 0);
	assert_int_equal(write(fd, file, sizeof(file)), sizeof(file));
	return fd;
}

static void test_boot_load_pvh(void **state)
{
	char kpath[] = "/tmp/hull-test-vmlinux.XXXXXX";
	struct guest_mem mem = { .size = 64ull << 20, .low_size = 64ull << 20, .memfd = -1 };
	struct boot_entry entry;
	struct hull_err err = { 0 };
	int kfd = write_fake_vmlinux(kpath), ioapic = -1, bsp = 0;
	uint32_t v32;
	uint64_t v64;

	mem.host = calloc(1, mem.size);
	assert_non_null(mem.host);
	assert_int_equal(boot_load(&mem, kfd, -1, "console=ttyS0 hull.x=1", 2, &entry, &err), 0);
	assert_int_equal(entry.mode, BOOT_PVH);
	assert_int_equal(entry.rip, 0x1000040);
	assert_int_equal(entry.arg, VM_PVH_INFO_ADDR);
	assert_int_equal(mem.host[0x1000000], 0xcc);
	assert_int_equal(mem.host[0x1000000 + 64], 0);   /* bss zeroed */
	memcpy(&v32, mem.host + VM_PVH_INFO_ADDR, 4);
	assert_int_equal(v32, 0x336ec578);
	memcpy(&v64, mem.host + VM_PVH_INFO_ADDR + 24, 8);
	assert_string_equal((char *)mem.host + v64, "console=ttyS0 hull.x=1");
	memcpy(&v32, mem.host + VM_PVH_INFO_ADDR + 48, 4);
	assert_int_equal(v32, 4);   /* memmap entries */
	assert_int_equal(parse_mptable(mem.host + 0xf0000, 0x10000, 0xf0000, &ioapic, &bsp), 2);
	memcpy(&v64, mem.host + VM_PVH_INFO_ADDR + 32, 8);
	assert_memory_equal(mem.host + v64, "RSD PTR ", 8);

	/* a command line longer than the VMM allows */
	char *longcmd = malloc(VM_CMDLINE_MAX + 10);
	memset(longcmd, 'x', VM_CMDLINE_MAX + 9);
	longcmd[VM_CMDLINE_MAX + 9] = '\0';
	assert_int_equal(boot_load(&mem, kfd, -1, longcmd, 1, &entry, &err), -E2BIG);
	free(longcmd);

	/* a kernel that does not fit guest RAM */
	mem.size = mem.low_size = 16ull << 20;
	assert_int_equal(boot_load(&mem, kfd, -1, "", 1, &entry, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "does not fit"));
	close(kfd);
	unlink(kpath);
	free(mem.host);
}

static void test_gmem_ptr_bounds(void **state)
{
	uint8_t buf[64];
	struct guest_mem m = { .host = buf, .size = 64, .low_size = 32 };

	assert_ptr_equal(gmem_ptr(&m, 0, 32), buf);
	assert_null(gmem_ptr(&m, 0, 33));
	assert_null(gmem_ptr(&m, 31, 2));
	assert_ptr_equal(gmem_ptr(&m, VM_HIGH_RAM_START, 32), buf + 32);
	assert_null(gmem_ptr(&m, VM_HIGH_RAM_START + 1, 32));
	assert_null(gmem_ptr(&m, UINT64_MAX, 2));            /* wraps */
	assert_null(gmem_ptr(&m, VM_HIGH_RAM_START - 1, 2)); /* straddles the gap */
	assert_ptr_equal(gmem_ptr(&m, 32, 0), buf + 32);     /* empty range at the end */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e820_small),
		cmocka_unit_test(test_e820_split_above_4g),
		cmocka_unit_test(test_mptable),
		cmocka_unit_test(test_acpi),
		cmocka_unit_test(test_bzimage_header),
		cmocka_unit_test(test_pvh_note),
		cmocka_unit_test(test_virtio_mmio_arg),
		cmocka_unit_test(test_boot_load_pvh),
		cmocka_unit_test(test_gmem_ptr_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
