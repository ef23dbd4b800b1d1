/* serial.c — a 16550A UART on COM1 (0x3f8, IRQ 4), output only.
 *
 * Attached only with cfg.console: the guest then gets console=ttyS0 and its
 * output goes to cfg.console_fd.  What Linux needs from it: the autoconfig
 * probe (scratch register, IER read-back, loopback MSR, FIFO bits in IIR) and
 * a THRE interrupt whenever the transmit register empties with ETBEI set —
 * without that interrupt user-space writes to /dev/console stall forever.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fs.h"
#include "microvm/vm.h"

#define COM1_BASE 0x3f8

#define UART_IER_THRI 0x02
#define UART_IIR_NO_INT 0x01
#define UART_IIR_THRI 0x02
#define UART_IIR_FIFO 0xc0
#define UART_LCR_DLAB 0x80
#define UART_MCR_LOOP 0x10
#define UART_LSR_TEMT 0x40
#define UART_LSR_THRE 0x20

struct serial {
	struct vm_dev dev;
	struct hull_vm *vm;
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thre_pending;
	bool irq_level;
	int out_fd;
	char buf[256];
	size_t buf_len;
};

static void serial_flush(struct serial *s)
{
	if (s->buf_len && s->out_fd >= 0)
		hull_write_all(s->out_fd, s->buf, s->buf_len);
	s->buf_len = 0;
}

static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & 1) ? UART_IIR_FIFO : 0;

	if ((s->ier & UART_IER_THRI) && s->thre_pending)
		return fifo | UART_IIR_THRI;
	return fifo | UART_IIR_NO_INT;
}

/* The IOAPIC pin is edge-triggered: raise it when an interrupt becomes
 * pending, drop it when none is, so each new cause makes a new edge. */
static void serial_update_irq(struct serial *s)
{
	bool level = !(serial_iir(s) & UART_IIR_NO_INT);

	if (level != s->irq_level) {
		s->irq_level = level;
		vm_irq_level(s->vm, VM_SERIAL_IRQ, level);
	}
}

static void serial_read(struct vm_dev *dev, uint64_t off, void *data, uint32_t len)
{
	struct serial *s = dev->opaque;
	uint8_t *v = data, msr;

	if (len != 1)
		return;
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case 0: *v = (s->lcr & UART_LCR_DLAB) ? s->dll : 0; break;
	case 1: *v = (s->lcr & UART_LCR_DLAB) ? s->dlm : s->ier; break;
	case 2:
		*v = serial_iir(s);
		/* Reading IIR acknowledges a THRE interrupt. */
		if ((*v & 0x0f) == UART_IIR_THRI)
			s->thre_pending = false;
		break;
	case 3: *v = s->lcr; break;
	case 4: *v = s->mcr; break;
	case 5: *v = UART_LSR_TEMT | UART_LSR_THRE; break;
	case 6:
		if (s->mcr & UART_MCR_LOOP) {
			/* loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
			msr = (uint8_t)(((s->mcr & 1) << 5) | ((s->mcr & 2) << 3) | ((s->mcr & 4) << 4) | ((s->mcr & 8) << 4));
			*v = msr;
		} else {
			*v = 0xb0;   /* DCD, DSR, CTS */
		}
		break;
	case 7: *v = s->scr; break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_write(struct vm_dev *dev, uint64_t off, const void *data, uint32_t len)
{
	struct serial *s = dev->opaque;
	uint8_t v = *(const uint8_t *)data;

	if (len != 1)
		return;
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case 0:
		if (s->lcr & UART_LCR_DLAB) {
			s->dll = v;
		} else if (!(s->mcr & UART_MCR_LOOP)) {
			s->buf[s->buf_len++] = (char)v;
			if (v == '\n' || s->buf_len == sizeof(s->buf))
				serial_flush(s);
			s->thre_pending = true;   /* sent at once: the register is empty again */
		}
		break;
	case 1:
		if (s->lcr & UART_LCR_DLAB) {
			s->dlm = v;
		} else {
			if (!(s->ier & UART_IER_THRI) && (v & UART_IER_THRI))
				s->thre_pending = true;
			s->ier = v & 0x0f;
		}
		break;
	case 2: s->fcr = v; break;
	case 3: s->lcr = v; break;
	case 4: s->mcr = v & 0x1f; break;
	case 7: s->scr = v; break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static const struct vm_dev_ops serial_ops = { .read = serial_read, .write = serial_write };

static void serial_free(void *opaque)
{
	struct serial *s = opaque;

	serial_flush(s);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int serial_attach(struct hull_vm *vm, struct hull_err *err)
{
	struct serial *s;
	int r;

	if (!vm->cfg.console)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return hull_errf(err, ENOMEM, "serial");
	s->dev = (struct vm_dev){ .name = "serial", .ops = &serial_ops, .opaque = s };
	s->vm = vm;
	s->out_fd = vm->cfg.console_fd;
	pthread_mutex_init(&s->lock, NULL);
	r = vm_add_cleanup(vm, serial_free, s, err);
	if (r < 0)
		return r;
	return bus_add(&vm->pio, COM1_BASE, 8, &s->dev, err);
}

VM_DEVICE_TYPE(serial, serial_attach);
