/* nettool.c — tiny, bounded network helper for tests/integration/test_net.sh
 * and bench/net.sh.  Built static by those scripts (gcc -static) so it runs
 * inside busybox containers.  Every mode gives up after a timeout.
 *
 *   nettool udp-echo PORT SECS        answer each datagram with "pong:" + data
 *   nettool udp-ask IP PORT MSG SECS  send MSG, print the reply (exit 1: none)
 *   nettool tcp-sink PORT SECS        accept one connection, read to EOF,
 *                                      print "BYTES SECONDS MBIT/S"
 *   nettool tcp-source IP PORT MBYTES send MBYTES MiB of zeros, print the same
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void timeout(int fd, int secs)
{
	struct timeval tv = { .tv_sec = secs };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static struct sockaddr_in addr(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	if (ip && inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, "nettool: bad address %s\n", ip);
		exit(2);
	}
	return a;
}

static void report(long long bytes, double secs)
{
	printf("%lld %.3f %.1f\n", bytes, secs, secs > 0 ? (double)bytes * 8 / secs / 1e6 : 0.0);
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "udp-echo")) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0), secs = atoi(argv[3]);
		struct sockaddr_in a = addr(NULL, atoi(argv[2]));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			perror("bind");
			return 1;
		}
		double end = now() + secs;
		while (now() < end) {
			char buf[1500], out[1600];
			struct sockaddr_in peer;
			socklen_t pl = sizeof(peer);
			timeout(fd, 1);
			ssize_t n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&peer, &pl);
			if (n <= 0)
				continue;
			buf[n] = '\0';
			int k = snprintf(out, sizeof(out), "pong:%s", buf);
			sendto(fd, out, (size_t)k, 0, (struct sockaddr *)&peer, pl);
		}
		return 0;
	}
	if (argc >= 6 && !strcmp(argv[1], "udp-ask")) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0), secs = atoi(argv[5]);
		struct sockaddr_in a = addr(argv[2], atoi(argv[3]));
		timeout(fd, 1);
		for (int i = 0; i < secs; i++) {
			char buf[1600];
			sendto(fd, argv[4], strlen(argv[4]), 0, (struct sockaddr *)&a, sizeof(a));
			ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
			if (n > 0) {
				buf[n] = '\0';
				printf("%s\n", buf);
				return 0;
			}
		}
		return 1;
	}
	if (argc >= 4 && !strcmp(argv[1], "tcp-sink")) {
		int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
		setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		struct sockaddr_in a = addr(NULL, atoi(argv[2]));
		if (bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 1) < 0) {
			perror("bind");
			return 1;
		}
		timeout(ls, atoi(argv[3]));
		int fd = accept(ls, NULL, NULL);
		if (fd < 0) {
			perror("accept");
			return 1;
		}
		timeout(fd, 10);
		static char buf[1 << 16];
		long long total = 0;
		double t0 = now();
		ssize_t n;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			total += n;
		report(total, now() - t0);
		return 0;
	}
	if (argc >= 5 && !strcmp(argv[1], "tcp-source")) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = addr(argv[2], atoi(argv[3]));
		timeout(fd, 10);
		for (int i = 0; i < 50 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0; i++) {
			close(fd);
			usleep(100000);
			fd = socket(AF_INET, SOCK_STREAM, 0);
			timeout(fd, 10);
		}
		static char buf[1 << 16];
		long long want = atoll(argv[4]) << 20, total = 0;
		double t0 = now();
		while (total < want) {
			ssize_t n = write(fd, buf, sizeof(buf));
			if (n <= 0) {
				perror("write");
				return 1;
			}
			total += n;
		}
		shutdown(fd, SHUT_WR);
		char c;
		while (read(fd, &c, 1) > 0)
			;
		report(total, now() - t0);
		return 0;
	}
	fprintf(stderr, "usage: nettool udp-echo PORT SECS | udp-ask IP PORT MSG SECS | tcp-sink PORT SECS | "
		"tcp-source IP PORT MBYTES\n");
	return 2;
}
