// SPDX-License-Identifier: Apache-2.0
// Helper for extract.py: compiles filter expressions with the installed
// libpcap exactly as tcpdump -r on a LINKTYPE_RAW file would (DLT_RAW,
// snaplen 65535, optimizer on, netmask 0 as tcpdump passes for a savefile,
// so "ip broadcast" means 0.0.0.0 or 255.255.255.255), and reports whether the
// compilation asked for a host, network or Ethernet name. The name lookups
// are interposed below (link with -rdynamic so libpcap binds to them): they
// fail without touching DNS, /etc/hosts, /etc/networks or /etc/ethers, so an expression that needs
// a name is both detected and independent of the machine it runs on. Protocol and service names
// (/etc/protocols, /etc/services) are not DNS: getaddrinfo() without a node,
// which libpcap uses for service names, goes on to the C library.
//
// Input on stdin: expressions separated by NUL bytes. Output, one line per
// expression: "<opt> <unopt> <lookups> <error>", where opt/unopt are "ok" or
// "err" (optimized / unoptimized compile) and lookups is "-" or a
// comma-separated list of the lookup functions that were called.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ether_addr;

static char lookups[256];

static void note(const char* name) {
  if (strstr(lookups, name) != NULL)
    return;
  if (lookups[0] != '\0')
    strncat(lookups, ",", sizeof lookups - strlen(lookups) - 1);
  strncat(lookups, name, sizeof lookups - strlen(lookups) - 1);
}

int getaddrinfo(const char* node, const char* service, const struct addrinfo* hints,
                struct addrinfo** res) {
  typedef int (*real_t)(const char*, const char*, const struct addrinfo*, struct addrinfo**);
  real_t real = (real_t)dlsym(RTLD_NEXT, "getaddrinfo");
  if (real == NULL)
    return EAI_SYSTEM;
  if (node == NULL)
    return real(node, service, hints, res);
  // A numeric address (libpcap parses IPv6 literals with getaddrinfo) is no
  // lookup: resolve it numerically only, and fail anything else as a name.
  struct addrinfo numeric;
  memset(&numeric, 0, sizeof numeric);
  if (hints != NULL)
    numeric = *hints;
  numeric.ai_flags |= AI_NUMERICHOST;
  int rc = real(node, service, &numeric, res);
  if (rc == 0)
    return 0;
  note("getaddrinfo");
  return EAI_NONAME;
}

struct hostent* gethostbyname(const char* name) {
  (void)name;
  note("gethostbyname");
  return NULL;
}

struct hostent* gethostbyname2(const char* name, int af) {
  (void)name;
  (void)af;
  note("gethostbyname2");
  return NULL;
}

struct netent* getnetbyname(const char* name) {
  (void)name;
  note("getnetbyname");
  return NULL;
}

int getnetbyname_r(const char* name, struct netent* result_buf, char* buf, size_t buflen,
                   struct netent** result, int* h_errnop) {
  (void)name;
  (void)result_buf;
  (void)buf;
  (void)buflen;
  *result = NULL;
  if (h_errnop != NULL)
    *h_errnop = HOST_NOT_FOUND;
  note("getnetbyname_r");
  return 0;
}

int ether_hostton(const char* hostname, struct ether_addr* addr) {
  (void)hostname;
  (void)addr;
  note("ether_hostton");
  return -1;
}

static int compile(pcap_t* p, const char* expr, int optimize, char* err, size_t errlen) {
  struct bpf_program prog;
  if (pcap_compile(p, &prog, expr, optimize, 0) != 0) {
    snprintf(err, errlen, "%s", pcap_geterr(p));
    return 0;
  }
  pcap_freecode(&prog);
  return 1;
}

int main(void) {
  pcap_t* p = pcap_open_dead(DLT_RAW, 65535);
  if (p == NULL)
    return 2;
  size_t cap = 1 << 16;
  char* expr = malloc(cap);
  size_t len = 0;
  int c;
  for (;;) {
    c = getchar();
    if (c != EOF && c != '\0') {
      if (len + 1 >= cap)
        expr = realloc(expr, cap *= 2);
      expr[len++] = (char)c;
      continue;
    }
    if (c == EOF && len == 0)
      break;
    expr[len] = '\0';
    lookups[0] = '\0';
    char err_opt[PCAP_ERRBUF_SIZE + 1] = "";
    char err_unopt[PCAP_ERRBUF_SIZE + 1] = "";
    int opt = compile(p, expr, 1, err_opt, sizeof err_opt);
    int unopt = compile(p, expr, 0, err_unopt, sizeof err_unopt);
    const char* err = !unopt ? err_unopt : err_opt;
    for (char* q = err_unopt; *q; ++q)
      if (*q == '\n')
        *q = ' ';
    for (char* q = err_opt; *q; ++q)
      if (*q == '\n')
        *q = ' ';
    printf("%s %s %s %s\n", opt ? "ok" : "err", unopt ? "ok" : "err", lookups[0] ? lookups : "-",
           err);
    fflush(stdout);
    len = 0;
    if (c == EOF)
      break;
  }
  free(expr);
  pcap_close(p);
  return 0;
}
