/* acpi.c — the smallest ACPI description that makes a stock distribution
 * kernel see every vCPU and the IOAPIC.  Debian's kernels are built without
 * CONFIG_X86_MPPARSE, so the MP table alone leaves them on one CPU in
 * virtual-wire mode; they read the MADT instead.
 *
 * RSDP -> XSDT -> FADT (PM1 event/control blocks of power.c, SCI on IRQ 9)
 *                  -> DSDT (only \_S5, so the guest can power off)
 *              -> MADT (one LAPIC per vCPU, one IOAPIC at GSI 0, ISA IRQs
 *                       identity-mapped as KVM's default routing does)
 * Not "hardware-reduced": Linux then drops the legacy ISA IRQs, and the
 * 8250's IRQ 4 with them.  The FADT's boot flags say there is no VGA or CMOS
 * RTC, so the guest does not spend time probing them.
 */
#include <errno.h>
#include <string.h>

#include "microvm/boot.h"

#define SDT_HDR_LEN 36
#define FADT_LEN 276            /* ACPI 6.x */
#define FADT_SCI_INT_OFF 46
#define FADT_PM1A_EVT_OFF 56
#define FADT_PM1A_CNT_OFF 64
#define FADT_PM1_EVT_LEN_OFF 88
#define FADT_PM1_CNT_LEN_OFF 89
#define FADT_P_LVL2_LAT_OFF 96
#define FADT_P_LVL3_LAT_OFF 98
#define FADT_FLAGS_OFF 112
#define FADT_PWR_BUTTON (1u << 4)   /* no fixed-feature power button */
#define FADT_SLP_BUTTON (1u << 5)
#define FADT_BOOT_ARCH_OFF 109
#define BOOT_ARCH_NO_VGA (1u << 2)
#define BOOT_ARCH_NO_CMOS_RTC (1u << 5)
#define FADT_DSDT_OFF 40
#define FADT_X_DSDT_OFF 140
#define FADT_MINOR_OFF 131
#define MADT_PCAT_COMPAT 1u

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += p[i];
	return (uint8_t)-sum;
}

static void sdt_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "HULLVM", 6);
	memcpy(t + 16, "HULLMVM ", 8);
	put32(t + 24, 1);
	memcpy(t + 28, "HULL", 4);
	put32(t + 32, 1);
}

static void sdt_finish(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = acpi_checksum(t, len);
}

long boot_write_acpi(uint8_t *dst, size_t room, uint64_t gpa, unsigned ncpus, uint64_t *rsdp_gpa)
{
	/* DSDT body: Name (_S5, Package () { 5, 5 }) — the SLP_TYP power.c acts on. */
	static const uint8_t s5_aml[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, ACPI_SLP_TYP_S5,
	                                  0x0a, ACPI_SLP_TYP_S5 };
	const size_t rsdp_off = 0, xsdt_off = 48, fadt_off = 112, dsdt_off = fadt_off + 288,
	             dsdt_len = SDT_HDR_LEN + sizeof(s5_aml), madt_off = dsdt_off + 64;
	size_t madt_len = SDT_HDR_LEN + 8 + 8 * (size_t)ncpus + 12;
	uint8_t *rsdp = dst + rsdp_off, *xsdt = dst + xsdt_off, *fadt = dst + fadt_off,
	        *dsdt = dst + dsdt_off, *madt = dst + madt_off, *p;

	if (ncpus == 0 || ncpus > 254 || madt_off + madt_len > room)
		return -ENOSPC;
	memset(dst, 0, madt_off + madt_len);

	sdt_header(dsdt, "DSDT", (uint32_t)dsdt_len, 2);
	memcpy(dsdt + SDT_HDR_LEN, s5_aml, sizeof(s5_aml));
	sdt_finish(dsdt, (uint32_t)dsdt_len);

	sdt_header(fadt, "FACP", FADT_LEN, 6);
	put32(fadt + FADT_DSDT_OFF, (uint32_t)(gpa + dsdt_off));
	put16(fadt + FADT_SCI_INT_OFF, ACPI_SCI_IRQ);
	put32(fadt + FADT_PM1A_EVT_OFF, ACPI_PM1_EVT_PORT);
	put32(fadt + FADT_PM1A_CNT_OFF, ACPI_PM1_CNT_PORT);
	fadt[FADT_PM1_EVT_LEN_OFF] = 4;
	fadt[FADT_PM1_CNT_LEN_OFF] = 2;
	put16(fadt + FADT_P_LVL2_LAT_OFF, 101);   /* > 100: no C2 */
	put16(fadt + FADT_P_LVL3_LAT_OFF, 1001);  /* > 1000: no C3 */
	put16(fadt + FADT_BOOT_ARCH_OFF, BOOT_ARCH_NO_VGA | BOOT_ARCH_NO_CMOS_RTC);
	put32(fadt + FADT_FLAGS_OFF, FADT_PWR_BUTTON | FADT_SLP_BUTTON);
	fadt[FADT_MINOR_OFF] = 0;
	put64(fadt + FADT_X_DSDT_OFF, gpa + dsdt_off);
	sdt_finish(fadt, FADT_LEN);

	sdt_header(madt, "APIC", (uint32_t)madt_len, 4);
	put32(madt + 36, 0xfee00000u);            /* local APIC address */
	put32(madt + 40, MADT_PCAT_COMPAT);       /* there is an 8259 pair (KVM's PIC) */
	p = madt + 44;
	for (unsigned i = 0; i < ncpus; i++, p += 8) {
		p[0] = 0;                             /* processor local APIC */
		p[1] = 8;
		p[2] = (uint8_t)i;                    /* ACPI processor UID */
		p[3] = (uint8_t)i;                    /* APIC id */
		put32(p + 4, 1);                      /* enabled */
	}
	p[0] = 1;                                 /* I/O APIC */
	p[1] = 12;
	p[2] = (uint8_t)ncpus;                    /* id, distinct from the LAPICs */
	put32(p + 4, 0xfec00000u);
	put32(p + 8, 0);                          /* GSI base */
	sdt_finish(madt, (uint32_t)madt_len);

	sdt_header(xsdt, "XSDT", SDT_HDR_LEN + 16, 1);
	put64(xsdt + SDT_HDR_LEN, gpa + fadt_off);
	put64(xsdt + SDT_HDR_LEN + 8, gpa + madt_off);
	sdt_finish(xsdt, SDT_HDR_LEN + 16);

	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "HULLVM", 6);
	rsdp[15] = 2;                             /* ACPI 2.0+: use the XSDT */
	put32(rsdp + 20, 36);
	put64(rsdp + 24, gpa + xsdt_off);
	rsdp[8] = acpi_checksum(rsdp, 20);
	rsdp[32] = acpi_checksum(rsdp, 36);
	*rsdp_gpa = gpa + rsdp_off;
	return (long)(madt_off + madt_len);
}
