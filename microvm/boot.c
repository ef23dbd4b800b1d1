/* boot.c — load a Linux kernel, initrd and command line into guest RAM and
 * describe the machine to it (e820, MP table); see boot.h. */
#include "microvm/boot.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "microvm/vm.h"

/* boot_params / setup header offsets (Documentation/x86/zero-page.rst, boot.rst) */
#define BP_E820_ENTRIES   0x1e8
#define BP_SETUP_SECTS    0x1f1
#define BP_BOOT_FLAG      0x1fe
#define BP_JUMP           0x200
#define BP_HEADER         0x202
#define BP_VERSION        0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS      0x211
#define BP_RAMDISK_IMAGE  0x218
#define BP_RAMDISK_SIZE   0x21c
#define BP_HEAP_END_PTR   0x224
#define BP_CMD_LINE_PTR   0x228
#define BP_INITRD_MAX     0x22c
#define BP_XLOADFLAGS     0x236
#define BP_CMDLINE_SIZE   0x238
#define BP_E820_TABLE     0x2d0
#define BP_SIZE           0x1000
#define BP_E820_MAX       128

#define LOADFLAG_LOADED_HIGH  0x01
#define LOADFLAG_CAN_USE_HEAP 0x80
#define XLF_KERNEL_64         0x01

#define PVH_MAGIC 0x336ec578u
#define PVH_MEMMAP_ADDR  (VM_PVH_INFO_ADDR + 0x100)
#define PVH_MODLIST_ADDR (VM_PVH_INFO_ADDR + 0x800)
#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define ACPI_ADDR 0xe0000ull      /* inside the 0xe0000-0xfffff range Linux scans for the RSDP */
#define ACPI_ROOM 0x10000ull
#define MPTABLE_ADDR 0xf0000ull
#define MPTABLE_ROOM 0x10000ull
#define BP_ACPI_RSDP_ADDR 0x070
#define APIC_DEFAULT_BASE 0xfee00000u
#define IOAPIC_DEFAULT_BASE 0xfec00000u

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

unsigned boot_e820(uint64_t low_size, uint64_t high_size, struct e820_entry *out, unsigned max)
{
	unsigned n = 0;

#define ADD(a, s, t) do { if (n < max) out[n++] = (struct e820_entry){ (a), (s), (t) }; } while (0)
	ADD(0, VM_EBDA_START, E820_RAM);
	/* The MP and ACPI tables live in the BIOS area; say so, the kernel keeps its hands off. */
	ADD(VM_EBDA_START, 0xa0000 - VM_EBDA_START, E820_RESERVED);
	ADD(ACPI_ADDR, 0x100000 - ACPI_ADDR, E820_RESERVED);   /* ACPI tables + MP table */
	if (low_size > VM_HIMEM_START)
		ADD(VM_HIMEM_START, low_size - VM_HIMEM_START, E820_RAM);
	if (high_size)
		ADD(VM_HIGH_RAM_START, high_size, E820_RAM);
#undef ADD
	return n;
}

int boot_parse_bzimage(const uint8_t *head, size_t len, struct bzimage_info *out, struct hull_err *err)
{
	unsigned sects;

	if (len < 0x280)
		return hull_errf(err, ENOEXEC, "neither an ELF vmlinux nor a bzImage (file too short)");
	if (get16(head + BP_BOOT_FLAG) != 0xaa55 || memcmp(head + BP_HEADER, "HdrS", 4) != 0)
		return hull_errf(err, ENOEXEC, "neither an ELF vmlinux nor a bzImage (no HdrS header)");
	out->version = get16(head + BP_VERSION);
	if (out->version < 0x020c)
		return hull_errf(err, ENOEXEC, "bzImage boot protocol %u.%u is too old (need 2.12+)",
		                 out->version >> 8, out->version & 0xff);
	if (!(get16(head + BP_XLOADFLAGS) & XLF_KERNEL_64))
		return hull_errf(err, ENOEXEC, "bzImage has no 64-bit entry point (XLF_KERNEL_64)");
	if (!(head[BP_LOADFLAGS] & LOADFLAG_LOADED_HIGH))
		return hull_errf(err, ENOEXEC, "bzImage is not a high-loaded (bzImage) kernel");
	sects = head[BP_SETUP_SECTS] ? head[BP_SETUP_SECTS] : 4;
	out->setup_bytes = (uint64_t)(sects + 1) * 512;
	out->initrd_addr_max = get32(head + BP_INITRD_MAX);
	out->cmdline_size = get32(head + BP_CMDLINE_SIZE);
	out->hdr_end = 0x202 + head[BP_JUMP + 1];
	if (out->hdr_end > len || out->hdr_end > 0x280)
		return hull_errf(err, ENOEXEC, "bzImage setup header length %zu is out of range", out->hdr_end);
	return 0;
}

int boot_find_pvh_note(const uint8_t *notes, size_t len, uint32_t *entry)
{
	size_t off = 0;

	while (len - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		size_t name_sz, desc_sz, desc_off;

		memcpy(&nh, notes + off, sizeof(nh));
		name_sz = ((size_t)nh.n_namesz + 3) & ~(size_t)3;
		desc_sz = ((size_t)nh.n_descsz + 3) & ~(size_t)3;
		desc_off = off + sizeof(nh) + name_sz;
		if (name_sz > len || desc_sz > len || desc_off > len || desc_sz > len - desc_off)
			return -ENOENT;
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    memcmp(notes + off + sizeof(nh), "Xen", 4) == 0 && nh.n_descsz >= 4) {
			*entry = get32(notes + desc_off);
			return 0;
		}
		off = desc_off + desc_sz;
	}
	return -ENOENT;
}

static uint8_t mp_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += p[i];
	return (uint8_t)-sum;
}

long boot_write_mptable(uint8_t *dst, size_t room, uint64_t gpa, unsigned ncpus, unsigned ioapic_pins)
{
	/* floating pointer (16) + header (44) + cpus (20 each) + bus (8) + ioapic (8)
	 * + one interrupt entry per IOAPIC pin (8 each) + two local interrupts (8 each) */
	size_t need = 16 + 44 + 20 * (size_t)ncpus + 8 + 8 + 8 * (size_t)ioapic_pins + 16;
	uint8_t *cfg = dst + 16, *p;
	unsigned entries = 0, ioapic_id = ncpus;

	if (ncpus == 0 || ncpus > 254 || need > room || ioapic_pins < 16)
		return -ENOSPC;
	memset(dst, 0, need);
	p = cfg + 44;
	for (unsigned i = 0; i < ncpus; i++, entries++, p += 20) {
		p[0] = 0;                          /* processor */
		p[1] = (uint8_t)i;                 /* local APIC id */
		p[2] = 0x14;                       /* local APIC version */
		p[3] = 0x01 | (i == 0 ? 0x02 : 0); /* enabled, bootstrap */
		put32(p + 4, 0x600);               /* cpu signature: family 6 */
		put32(p + 8, 0x201);               /* features: FPU, APIC */
	}
	p[0] = 1; p[1] = 0; memcpy(p + 2, "ISA   ", 6);             /* bus 0 */
	p += 8; entries++;
	p[0] = 2; p[1] = (uint8_t)ioapic_id; p[2] = 0x11; p[3] = 1;  /* IOAPIC, enabled */
	put32(p + 4, IOAPIC_DEFAULT_BASE);
	p += 8; entries++;
	/* Every pin n carries IRQ/GSI n: KVM's default routing is the identity
	 * (its PIT raises GSI 0, which reaches pin 0).  ISA pins are edge and
	 * active-high by convention; 16 and up are declared the same. */
	for (unsigned pin = 0; pin < ioapic_pins; pin++) {
		p[0] = 3; p[1] = 0;                /* I/O interrupt, INT */
		put16(p + 2, pin < 16 ? 0 : 0x5);  /* conforming / active high, edge */
		p[4] = 0; p[5] = (uint8_t)pin;     /* source bus 0 */
		p[6] = (uint8_t)ioapic_id; p[7] = (uint8_t)pin;
		p += 8; entries++;
	}
	p[0] = 4; p[1] = 3; p[6] = 0xff; p[7] = 0;   /* ExtINT -> every LAPIC's LINT0 */
	p += 8; entries++;
	p[0] = 4; p[1] = 1; p[6] = 0xff; p[7] = 1;   /* NMI -> every LAPIC's LINT1 */
	p += 8; entries++;
	if ((size_t)(p - dst) > room)
		return -ENOSPC;

	memcpy(cfg, "PCMP", 4);
	put16(cfg + 4, (uint16_t)(p - cfg));
	cfg[6] = 4;                                  /* spec revision 1.4 */
	memcpy(cfg + 8, "HULL    ", 8);
	memcpy(cfg + 16, "MICROVM     ", 12);
	put16(cfg + 34, (uint16_t)entries);
	put32(cfg + 36, APIC_DEFAULT_BASE);
	cfg[7] = mp_checksum(cfg, (size_t)(p - cfg));

	memcpy(dst, "_MP_", 4);
	put32(dst + 4, (uint32_t)(gpa + 16));
	dst[8] = 1;                                  /* length in 16-byte units */
	dst[9] = 4;
	dst[10] = mp_checksum(dst, 16);
	return p - dst;
}

int boot_virtio_mmio_arg(char *buf, size_t size, uint64_t base, uint64_t len, unsigned irq)
{
	int n;

	if (len % 1024 == 0)
		n = snprintf(buf, size, "virtio_mmio.device=%lluK@0x%llx:%u",
		             (unsigned long long)(len / 1024), (unsigned long long)base, irq);
	else
		n = snprintf(buf, size, "virtio_mmio.device=%llu@0x%llx:%u",
		             (unsigned long long)len, (unsigned long long)base, irq);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

static int pread_exact(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, (uint8_t *)buf + done, len - done, off + (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ENODATA;
		done += (size_t)r;
	}
	return 0;
}

static int load_elf(struct guest_mem *mem, int fd, const uint8_t *head, size_t head_len,
                    uint64_t *entry, uint64_t *kernel_end, struct hull_err *err)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	uint32_t pvh = 0;
	bool have_pvh = false;
	int r;

	if (head_len < sizeof(eh))
		return hull_errf(err, ENOEXEC, "truncated ELF header");
	memcpy(&eh, head, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64)
		return hull_errf(err, ENOEXEC, "not an x86-64 ELF kernel");
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64)
		return hull_errf(err, ENOEXEC, "ELF program header table is malformed");
	*kernel_end = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		r = pread_exact(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph)));
		if (r < 0)
			return hull_errf_sys(err, -r, "reading ELF program header %u", i);
		if (ph.p_type == PT_LOAD) {
			uint8_t *dst = gmem_ptr(mem, ph.p_paddr, ph.p_memsz);
			if (!dst || ph.p_filesz > ph.p_memsz || ph.p_paddr < VM_HIMEM_START)
				return hull_errf(err, ENOEXEC, "ELF segment %u [0x%llx+0x%llx] does not fit guest RAM",
				                 i, (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz);
			r = pread_exact(fd, dst, ph.p_filesz, (off_t)ph.p_offset);
			if (r < 0)
				return hull_errf_sys(err, -r, "reading ELF segment %u", i);
			memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
			if (ph.p_paddr + ph.p_memsz > *kernel_end)
				*kernel_end = ph.p_paddr + ph.p_memsz;
		} else if (ph.p_type == PT_NOTE && !have_pvh && ph.p_filesz <= 65536) {
			uint8_t notes[65536];
			r = pread_exact(fd, notes, ph.p_filesz, (off_t)ph.p_offset);
			if (r < 0)
				return hull_errf_sys(err, -r, "reading ELF notes");
			have_pvh = boot_find_pvh_note(notes, ph.p_filesz, &pvh) == 0;
		}
	}
	if (!have_pvh)
		return hull_errf(err, ENOEXEC, "ELF kernel has no PVH entry note (CONFIG_PVH); use a bzImage");
	*entry = pvh;
	return 0;
}

static int load_initrd(struct guest_mem *mem, int fd, uint64_t kernel_end, uint64_t max_addr,
                       uint64_t *addr, uint64_t *size, struct hull_err *err)
{
	struct stat st;
	uint64_t top = mem->low_size, at;
	int r;

	if (fstat(fd, &st) < 0)
		return hull_errf_sys(err, errno, "initrd");
	if (max_addr && max_addr + 1 < top)
		top = max_addr + 1;
	if ((uint64_t)st.st_size >= top || top - (uint64_t)st.st_size < kernel_end)
		return hull_errf(err, ENOSPC, "initrd of %lld bytes does not fit below 0x%llx with the kernel; give the VM more memory",
		                 (long long)st.st_size, (unsigned long long)top);
	at = (top - (uint64_t)st.st_size) & ~0xfffull;
	r = pread_exact(fd, gmem_ptr(mem, at, (uint64_t)st.st_size), (size_t)st.st_size, 0);
	if (r < 0)
		return hull_errf_sys(err, -r, "reading initrd");
	*addr = at;
	*size = (uint64_t)st.st_size;
	return 0;
}

/* Identity map of the first 4 GiB with 2 MiB pages, and a flat GDT:
 * what the 64-bit boot protocol expects on entry. */
static void setup_long_mode_tables(struct guest_mem *mem)
{
	uint64_t *pml4 = gmem_ptr(mem, VM_PML4_ADDR, 0x1000);
	uint64_t *pdpt = gmem_ptr(mem, VM_PML4_ADDR + 0x1000, 0x1000);
	uint64_t *pd = gmem_ptr(mem, VM_PML4_ADDR + 0x2000, 0x4000);
	uint64_t *gdt = gmem_ptr(mem, VM_GDT_ADDR, 8 * 4);

	memset(pml4, 0, 0x1000);
	memset(pdpt, 0, 0x1000);
	pml4[0] = (VM_PML4_ADDR + 0x1000) | 0x3;
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (VM_PML4_ADDR + 0x2000 + i * 0x1000ull) | 0x3;
	for (unsigned i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;   /* present, writable, 2 MiB */
	gdt[0] = 0;
	gdt[1] = 0x00cf9b000000ffffull;           /* 0x08: 32-bit code (PVH) */
	gdt[2] = 0x00af9b000000ffffull;           /* 0x10: 64-bit code (__BOOT_CS) */
	gdt[3] = 0x00cf93000000ffffull;           /* 0x18: data (__BOOT_DS) */
}

static int write_cmdline(struct guest_mem *mem, const char *cmdline, size_t limit, struct hull_err *err)
{
	size_t len = strlen(cmdline);

	if (len + 1 > VM_CMDLINE_MAX || (limit && len + 1 > limit))
		return hull_errf(err, E2BIG, "kernel command line is %zu bytes; the kernel accepts %zu",
		                 len, (limit && limit < VM_CMDLINE_MAX ? limit : VM_CMDLINE_MAX) - 1);
	memcpy(gmem_ptr(mem, VM_CMDLINE_ADDR, len + 1), cmdline, len + 1);
	return 0;
}

static void write_pvh_info(struct guest_mem *mem, uint64_t initrd_addr, uint64_t initrd_size, uint64_t rsdp)
{
	uint8_t *info = gmem_ptr(mem, VM_PVH_INFO_ADDR, 0x1000);
	struct e820_entry e[E820_MAX];
	unsigned n = boot_e820(mem->low_size, mem->size - mem->low_size, e, E820_MAX);

	memset(info, 0, 0x1000);
	put32(info + 0, PVH_MAGIC);
	put32(info + 4, 1);                       /* version */
	put32(info + 12, initrd_size ? 1 : 0);    /* nr_modules */
	put64(info + 16, PVH_MODLIST_ADDR);
	put64(info + 24, VM_CMDLINE_ADDR);
	put64(info + 32, rsdp);
	put64(info + 40, PVH_MEMMAP_ADDR);
	put32(info + 48, n);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *m = info + (PVH_MEMMAP_ADDR - VM_PVH_INFO_ADDR) + i * 24;
		put64(m, e[i].addr);
		put64(m + 8, e[i].size);
		put32(m + 16, e[i].type);
	}
	if (initrd_size) {
		uint8_t *mod = info + (PVH_MODLIST_ADDR - VM_PVH_INFO_ADDR);
		put64(mod, initrd_addr);
		put64(mod + 8, initrd_size);
	}
}

static int load_bzimage(struct guest_mem *mem, int fd, const uint8_t *head, size_t head_len,
                        struct bzimage_info *bz, uint64_t *kernel_end, struct hull_err *err)
{
	struct stat st;
	uint64_t size;
	uint8_t *dst;
	int r;

	r = boot_parse_bzimage(head, head_len, bz, err);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return hull_errf_sys(err, errno, "kernel");
	if ((uint64_t)st.st_size <= bz->setup_bytes)
		return hull_errf(err, ENOEXEC, "bzImage is shorter than its setup code");
	size = (uint64_t)st.st_size - bz->setup_bytes;
	dst = gmem_ptr(mem, VM_HIMEM_START, size);
	if (!dst)
		return hull_errf(err, ENOSPC, "bzImage (%llu bytes) does not fit guest RAM", (unsigned long long)size);
	r = pread_exact(fd, dst, size, (off_t)bz->setup_bytes);
	if (r < 0)
		return hull_errf_sys(err, -r, "reading bzImage");
	*kernel_end = VM_HIMEM_START + size;
	return 0;
}

static void write_boot_params(struct guest_mem *mem, const uint8_t *head, const struct bzimage_info *bz,
                              uint64_t initrd_addr, uint64_t initrd_size, uint64_t rsdp)
{
	uint8_t *bp = gmem_ptr(mem, VM_BOOT_PARAMS, BP_SIZE);
	struct e820_entry e[E820_MAX];
	unsigned n = boot_e820(mem->low_size, mem->size - mem->low_size, e, E820_MAX);

	memset(bp, 0, BP_SIZE);
	memcpy(bp + BP_SETUP_SECTS, head + BP_SETUP_SECTS, bz->hdr_end - BP_SETUP_SECTS);
	bp[BP_TYPE_OF_LOADER] = 0xff;
	bp[BP_LOADFLAGS] |= LOADFLAG_CAN_USE_HEAP;
	put16(bp + BP_HEAP_END_PTR, 0xfe00);
	put32(bp + BP_CMD_LINE_PTR, (uint32_t)VM_CMDLINE_ADDR);
	put32(bp + BP_RAMDISK_IMAGE, (uint32_t)initrd_addr);
	put32(bp + BP_RAMDISK_SIZE, (uint32_t)initrd_size);
	put64(bp + BP_ACPI_RSDP_ADDR, rsdp);
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	for (unsigned i = 0; i < n && i < BP_E820_MAX; i++) {
		uint8_t *m = bp + BP_E820_TABLE + i * 20;
		put64(m, e[i].addr);
		put64(m + 8, e[i].size);
		put32(m + 16, e[i].type);
	}
}

int boot_load(struct guest_mem *mem, int kernel_fd, int initrd_fd, const char *cmdline,
              unsigned ncpus, struct boot_entry *entry, struct hull_err *err)
{
	uint8_t head[1024];
	struct bzimage_info bz = { 0 };
	uint64_t kernel_end = 0, initrd_addr = 0, initrd_size = 0, rip = 0, rsdp = 0;
	bool elf;
	ssize_t n;
	long mp;
	int r;

	n = pread(kernel_fd, head, sizeof(head), 0);
	if (n < 0)
		return hull_errf_sys(err, errno, "reading kernel");
	elf = n >= SELFMAG && memcmp(head, ELFMAG, SELFMAG) == 0;
	if (elf)
		r = load_elf(mem, kernel_fd, head, (size_t)n, &rip, &kernel_end, err);
	else
		r = load_bzimage(mem, kernel_fd, head, (size_t)n, &bz, &kernel_end, err);
	if (r < 0)
		return hull_err_wrap(err, "kernel");
	if (initrd_fd >= 0) {
		uint64_t max = elf ? 0 : bz.initrd_addr_max;
		r = load_initrd(mem, initrd_fd, kernel_end, max, &initrd_addr, &initrd_size, err);
		if (r < 0)
			return r;
	}
	r = write_cmdline(mem, cmdline, elf ? 0 : bz.cmdline_size + 1, err);
	if (r < 0)
		return r;
	mp = boot_write_mptable(gmem_ptr(mem, MPTABLE_ADDR, MPTABLE_ROOM), MPTABLE_ROOM, MPTABLE_ADDR,
	                        ncpus, VM_IOAPIC_PINS);
	if (mp < 0)
		return hull_errf(err, (int)-mp, "MP table for %u vCPUs", ncpus);
	mp = boot_write_acpi(gmem_ptr(mem, ACPI_ADDR, ACPI_ROOM), ACPI_ROOM, ACPI_ADDR, ncpus, &rsdp);
	if (mp < 0)
		return hull_errf(err, (int)-mp, "ACPI tables for %u vCPUs", ncpus);
	setup_long_mode_tables(mem);
	if (elf) {
		write_pvh_info(mem, initrd_addr, initrd_size, rsdp);
		*entry = (struct boot_entry){ BOOT_PVH, rip, VM_PVH_INFO_ADDR };
	} else {
		write_boot_params(mem, head, &bz, initrd_addr, initrd_size, rsdp);
		*entry = (struct boot_entry){ BOOT_LINUX64, VM_HIMEM_START + 0x200, VM_BOOT_PARAMS };
	}
	return 0;
}
