/*
 * The machine's floor for moving bytes (issue 21 item 3): the least CPU any broker could spend
 * taking bytes from a socket into a file, and sending a file's bytes to a socket. No protocol, no
 * framing, no checksums: recv(2) + write(2) into one file, and sendfile(2) out of it. A broker's
 * CPU-seconds per GiB divided by this program's is how far it is from the machine's limit.
 *
 *   floor sink PORT FILE            accept one connection on 127.0.0.1:PORT, append what it sends to
 *                                   FILE until it closes
 *   floor source FILE PORT BYTES    accept one connection, send FILE's bytes (from the start again
 *                                   at its end) until BYTES are sent or the peer closes
 *
 * Prints "READY" once listening, and at the end one JSON line: bytes, seconds, user and system
 * CPU-seconds (getrusage), CPU-seconds per GiB. Built by bench/cpu-per-gib.ts with `cc -O2`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1 << 20)

static void die(const char *what) {
  perror(what);
  exit(1);
}

static int accept_one(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) die("socket");
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (listen(s, 1) < 0) die("listen");
  printf("READY\n");
  fflush(stdout);
  int c = accept(s, NULL, NULL);
  if (c < 0) die("accept");
  close(s);
  return c;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void report(const char *mode, long long bytes, double started) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  double user = (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6;
  double sys = (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
  double gib = (double)bytes / (1024.0 * 1024.0 * 1024.0);
  printf("{\"mode\":\"%s\",\"bytes\":%lld,\"seconds\":%.6f,\"cpu\":{\"userS\":%.6f,\"systemS\":%.6f,\"perGiB\":%.6f}}\n",
         mode, bytes, now_s() - started, user, sys, gib > 0 ? (user + sys) / gib : 0.0);
}

static int sink(int port, const char *file) {
  int out = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (out < 0) die("open");
  int c = accept_one(port);
  char *buf = malloc(CHUNK);
  if (buf == NULL) die("malloc");
  long long bytes = 0;
  double started = now_s();
  for (;;) {
    ssize_t n = recv(c, buf, CHUNK, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("recv");
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) die("write");
      off += w;
    }
    bytes += n;
  }
  report("sink", bytes, started);
  return 0;
}

static int source(const char *file, int port, long long limit) {
  int in = open(file, O_RDONLY);
  if (in < 0) die("open");
  struct stat st;
  if (fstat(in, &st) < 0 || st.st_size == 0) die("empty file");
  int c = accept_one(port);
  long long bytes = 0;
  off_t off = 0;
  double started = now_s();
  while (bytes < limit) {
    if (off >= st.st_size) off = 0;
    size_t want = (size_t)(st.st_size - off);
    if (want > CHUNK) want = CHUNK;
    if ((long long)want > limit - bytes) want = (size_t)(limit - bytes);
    ssize_t n = sendfile(c, in, &off, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) break;
    if (n < 0) die("sendfile");
    bytes += n;
  }
  close(c);
  report("source", bytes, started);
  return 0;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc == 4 && strcmp(argv[1], "sink") == 0) return sink(atoi(argv[2]), argv[3]);
  if (argc == 5 && strcmp(argv[1], "source") == 0) return source(argv[2], atoi(argv[3]), atoll(argv[4]));
  fprintf(stderr, "usage: floor sink PORT FILE | floor source FILE PORT BYTES\n");
  return 2;
}
