/* agent.c — hull's guest /init (statically linked, PID 1 in the microVM).
 *
 * For now it is the test init of the microVM work: it mounts the basics,
 * writes the boot-timer device, runs the checks named on the kernel command
 * line and reports each as one console line, then reboots (hull boots Linux
 * with reboot=t, so that ends the VM at once).  The full agent (OCI process
 * setup, stdio and exit status over vsock) builds on this file later.
 *
 * Command-line knobs (read from /proc/cmdline):
 *   hull.check=cpus,blk,blkwrite,vsock,net   which checks to run
 *   hull.cpus=N            cpus: expected number of online vCPUs
 *   hull.blk=TEXT          blk: /dev/vda must start with TEXT
 *   hull.vsock=PORT        vsock: connect to the host (CID 2) on PORT, expect an echo
 *   hull.vsock_listen=PORT vsocklisten: accept one host connection on PORT, echo a line
 *   hull.ip=A.B.C.D/NN     net: address for eth0
 *   hull.peer=A.B.C.D:PORT net: TCP peer to reach; it must answer with a line
 *   hull.hold=SECONDS      stay up this long before rebooting (memory measurements)
 *   hull.bench=1           write the boot timer and end at once (boot benchmarks)
 * Output lines: "HULL_CHECK <name> ok|FAIL <detail>" and "HULL_INIT_DONE".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "microvm/microvm.h"

#define ISA_DEBUG_EXIT_PORT 0xf4   /* QEMU's isa-debug-exit, for the side-by-side benchmark */

static char cmdline[4096];

int agent_oci_main(void);   /* agent_oci.c */

static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDOUT_FILENO, buf, (size_t)n) < 0)
		return;
}

/* Value of "key=" on the kernel command line, copied to out; false if absent. */
static bool param(const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);

	for (const char *p = cmdline; *p;) {
		while (*p == ' ' || *p == '\n')
			p++;
		const char *end = p + strcspn(p, " \n");
		if ((size_t)(end - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = (size_t)(end - p) - klen - 1;
			if (n >= size)
				n = size - 1;
			memcpy(out, p + klen + 1, n);
			out[n] = '\0';
			return true;
		}
		p = end;
	}
	return false;
}

static bool check_wanted(const char *name)
{
	char list[256], *save = NULL;

	if (!param("hull.check", list, sizeof(list)))
		return false;
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (!strcmp(t, name))
			return true;
	return false;
}

static void boot_timer(void)
{
	if (ioperm(HULL_BOOT_TIMER_PORT, 1, 1) == 0) {
		outb(HULL_BOOT_TIMER_MAGIC, HULL_BOOT_TIMER_PORT);
	} else {
		int fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
		if (fd >= 0) {
			volatile uint8_t *p = mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, fd, HULL_BOOT_TIMER_MMIO);
			if (p != MAP_FAILED) {
				*p = HULL_BOOT_TIMER_MAGIC;
				munmap((void *)p, 4096);
			}
			close(fd);
		}
	}
}

static void check_cpus(void)
{
	char want[16];
	long online = sysconf(_SC_NPROCESSORS_ONLN);

	if (!param("hull.cpus", want, sizeof(want)))
		snprintf(want, sizeof(want), "1");
	if (online == atol(want))
		say("HULL_CHECK cpus ok online=%ld", online);
	else
		say("HULL_CHECK cpus FAIL online=%ld want=%s", online, want);
}

static void check_blk(bool do_write)
{
	char want[128], got[129] = { 0 };
	int fd = open("/dev/vda", (do_write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	ssize_t n;

	if (!param("hull.blk", want, sizeof(want)))
		snprintf(want, sizeof(want), "hull");
	if (fd < 0) {
		say("HULL_CHECK blk FAIL open /dev/vda: %s", strerror(errno));
		return;
	}
	n = pread(fd, got, strlen(want), 0);
	if (n != (ssize_t)strlen(want) || memcmp(got, want, strlen(want)) != 0) {
		say("HULL_CHECK blk FAIL read %zd bytes: '%s' want '%s'", n, got, want);
	} else {
		say("HULL_CHECK blk ok read '%s'", got);
	}
	if (do_write) {
		char sector[512];
		memset(sector, 0, sizeof(sector));
		snprintf(sector, sizeof(sector), "written-by-guest");
		if (pwrite(fd, sector, sizeof(sector), 4096) != (ssize_t)sizeof(sector) || fsync(fd) < 0)
			say("HULL_CHECK blkwrite FAIL: %s", strerror(errno));
		else
			say("HULL_CHECK blkwrite ok");
	}
	close(fd);
}

static bool read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		ssize_t r = read(fd, buf + n, 1);
		if (r <= 0)
			break;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return n > 0;
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = 5 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void check_vsock(void)
{
	char port[16], line[128];
	const char msg[] = "ping-from-guest\n";
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST };
	int fd;

	if (!param("hull.vsock", port, sizeof(port)))
		snprintf(port, sizeof(port), "1234");
	sa.svm_port = (unsigned)atoi(port);
	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		say("HULL_CHECK vsock FAIL socket: %s", strerror(errno));
		return;
	}
	set_timeouts(fd);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		say("HULL_CHECK vsock FAIL connect port %s: %s", port, strerror(errno));
	} else if (write(fd, msg, sizeof(msg) - 1) != (ssize_t)sizeof(msg) - 1) {
		say("HULL_CHECK vsock FAIL write: %s", strerror(errno));
	} else if (!read_line(fd, line, sizeof(line)) || strcmp(line, "ping-from-guest") != 0) {
		say("HULL_CHECK vsock FAIL echo '%s'", line);
	} else {
		say("HULL_CHECK vsock ok echo '%s'", line);
	}
	close(fd);
}

static void check_vsock_listen(void)
{
	char port[16], line[128];
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY };
	int lfd, fd;

	if (!param("hull.vsock_listen", port, sizeof(port)))
		snprintf(port, sizeof(port), "5000");
	sa.svm_port = (unsigned)atoi(port);
	lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	set_timeouts(lfd);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
		say("HULL_CHECK vsocklisten FAIL listen on %s: %s", port, strerror(errno));
		return;
	}
	say("HULL_VSOCK_LISTENING %s", port);
	{
		/* accept() honours SO_RCVTIMEO; give the host 20 s. */
		struct timeval tv = { .tv_sec = 20 };
		setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		say("HULL_CHECK vsocklisten FAIL accept: %s", strerror(errno));
	} else {
		set_timeouts(fd);
		if (!read_line(fd, line, sizeof(line)))
			say("HULL_CHECK vsocklisten FAIL nothing received");
		else if (dprintf(fd, "echo:%s\n", line) < 0)
			say("HULL_CHECK vsocklisten FAIL write: %s", strerror(errno));
		else
			say("HULL_CHECK vsocklisten ok got '%s'", line);
		close(fd);
	}
	close(lfd);
}

static void check_net(void)
{
	char ip[64], peer[64], line[128], *slash, *colon;
	struct ifreq ifr = { 0 };
	struct sockaddr_in sin = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	int s, fd, prefix;

	if (!param("hull.ip", ip, sizeof(ip)) || !param("hull.peer", peer, sizeof(peer))) {
		say("HULL_CHECK net FAIL hull.ip/hull.peer not given");
		return;
	}
	slash = strchr(ip, '/');
	prefix = slash ? atoi(slash + 1) : 24;
	if (slash)
		*slash = '\0';
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, IFNAMSIZ, "eth0");
	inet_pton(AF_INET, ip, &sin.sin_addr);
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	if (s < 0 || ioctl(s, SIOCSIFADDR, &ifr) < 0) {
		say("HULL_CHECK net FAIL set address: %s", strerror(errno));
		return;
	}
	sin.sin_addr.s_addr = prefix ? htonl(~0u << (32 - prefix)) : 0;
	memcpy(&ifr.ifr_netmask, &sin, sizeof(sin));
	ioctl(s, SIOCSIFNETMASK, &ifr);
	ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
		say("HULL_CHECK net FAIL link up: %s", strerror(errno));
		close(s);
		return;
	}
	close(s);
	colon = strchr(peer, ':');
	if (!colon) {
		say("HULL_CHECK net FAIL hull.peer needs ADDR:PORT");
		return;
	}
	*colon = '\0';
	inet_pton(AF_INET, peer, &dst.sin_addr);
	dst.sin_port = htons((uint16_t)atoi(colon + 1));
	/* The host may still be configuring its end of the tap: retry for ~20 s. */
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		set_timeouts(fd);
		if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 20)
			break;
		close(fd);
		usleep(250 * 1000);
	}
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&sin, &(socklen_t){ sizeof(sin) }) < 0) {
		say("HULL_CHECK net FAIL connect %s:%s: %s", peer, colon + 1, strerror(errno));
	} else if (!read_line(fd, line, sizeof(line))) {
		say("HULL_CHECK net FAIL no reply from %s", peer);
	} else {
		say("HULL_CHECK net ok reply '%s'", line);
	}
	close(fd);
}

int main(void)
{
	int fd;
	char val[16];

	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	fd = open("/dev/console", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	boot_timer();
	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, cmdline, sizeof(cmdline) - 1);
		cmdline[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	/* VM-isolated containers: agent_oci.c (added by the VM-isolation work). */
	if (param("hull.mode", val, sizeof(val)) && !strcmp(val, "oci"))
		return agent_oci_main();
	say("HULL_INIT_START");
	if (param("hull.bench", val, sizeof(val))) {
		/* Benchmark guest: end at once; under QEMU, through isa-debug-exit. */
		if (ioperm(ISA_DEBUG_EXIT_PORT, 1, 1) == 0)
			outb(0, ISA_DEBUG_EXIT_PORT);
		reboot(RB_AUTOBOOT);
	}
	if (check_wanted("cpus"))
		check_cpus();
	if (check_wanted("blk") || check_wanted("blkwrite"))
		check_blk(check_wanted("blkwrite"));
	if (check_wanted("vsock"))
		check_vsock();
	if (check_wanted("vsocklisten"))
		check_vsock_listen();
	if (check_wanted("net"))
		check_net();
	if (param("hull.hold", val, sizeof(val)))
		sleep((unsigned)atoi(val));
	say("HULL_INIT_DONE");
	/* reboot() does not drain the console: wait until the UART sent it all. */
	tcdrain(STDOUT_FILENO);
	sync();
	reboot(RB_AUTOBOOT);
	return 0;
}
