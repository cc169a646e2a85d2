/* Load generator for the echo benchmark: the same client for every framework.
 *
 * usage: echo_client PORT CONNECTIONS MESSAGE_SIZE SECONDS
 * Opens CONNECTIONS connections to 127.0.0.1:PORT; each sends a MESSAGE_SIZE message,
 * waits for all of it to come back, and repeats, for SECONDS seconds (after a short
 * warm-up). Prints {"round_trips": N, "bytes": B, "seconds": S} on stdout.
 * Single-threaded epoll, pinned to the last CPU so it does not compete with the server.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    size_t sent;
    size_t received;
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s PORT CONNECTIONS MESSAGE_SIZE SECONDS\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]), nconn = atoi(argv[2]);
    size_t size = (size_t)atol(argv[3]);
    double seconds = atof(argv[4]), warmup = 0.3;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu > 1) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(ncpu - 1, &set);
        sched_setaffinity(0, sizeof set, &set);
    }
    char *out = malloc(size), *in = malloc(size > 65536 ? size : 65536);
    memset(out, 'x', size);
    struct conn *conns = calloc(nconn, sizeof *conns);
    int ep = epoll_create1(0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    for (int i = 0; i < nconn; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) die("socket");
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(fd, F_SETFL, O_NONBLOCK);
        conns[i].fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (unsigned)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    long round_trips = 0;
    double start = now(), measure_from = start + warmup, end = measure_from + seconds;
    int measuring = 0;
    /* Kick off: every connection sends its first message. */
    for (int i = 0; i < nconn; i++) {
        ssize_t n = send(conns[i].fd, out, size, 0);
        if (n < 0 && errno != EAGAIN) die("send");
        conns[i].sent = n > 0 ? (size_t)n : 0;
        if (conns[i].sent < size) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (unsigned)i};
            epoll_ctl(ep, EPOLL_CTL_MOD, conns[i].fd, &ev);
        }
    }
    struct epoll_event events[1024];
    for (;;) {
        double t = now();
        if (!measuring && t >= measure_from) {
            measuring = 1;
            round_trips = 0;
        }
        if (t >= end) break;
        int n = epoll_wait(ep, events, 1024, 100);
        for (int e = 0; e < n; e++) {
            struct conn *c = &conns[events[e].data.u32];
            if (events[e].events & EPOLLOUT && c->sent < size) {
                ssize_t k = send(c->fd, out + c->sent, size - c->sent, 0);
                if (k > 0) c->sent += (size_t)k;
                if (c->sent == size) {
                    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = events[e].data.u32};
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
            }
            if (events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                for (;;) {
                    ssize_t k = recv(c->fd, in, 65536, 0);
                    if (k == 0) { fprintf(stderr, "server closed a connection\n"); return 1; }
                    if (k < 0) { if (errno == EAGAIN) break; die("recv"); }
                    c->received += (size_t)k;
                }
                if (c->received >= size && c->sent == size) {
                    c->received -= size;
                    round_trips++;
                    ssize_t k = send(c->fd, out, size, 0);
                    c->sent = k > 0 ? (size_t)k : 0;
                    if (c->sent < size) {
                        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT,
                                                 .data.u32 = events[e].data.u32};
                        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                    }
                }
            }
        }
    }
    double elapsed = now() - measure_from;
    printf("{\"round_trips\": %ld, \"bytes\": %ld, \"seconds\": %.6f}\n", round_trips,
           round_trips * (long)size, elapsed);
    for (int i = 0; i < nconn; i++) close(conns[i].fd);
    return 0;
}
