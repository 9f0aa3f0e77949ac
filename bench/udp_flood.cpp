// SPDX-License-Identifier: Apache-2.0
// The UDP flood through the WireGuard testbed, and the socket that takes it.
//
//   udp_flood send --dst ADDR --port P [--size BYTES] [--seconds S] [--count N] [--rate PPS]
//   udp_flood sink --bind ADDR --port P
//
// send: a connected UDP socket, one send() per packet, BYTES the IP packet
// size (default 128, as tun_injector's). Prints "packets=N errors=E seconds=S rate=R".
// sink: binds the port with the smallest receive buffer and never reads,
// until SIGINT/SIGTERM: packets to a bound port are dropped silently once
// the buffer is full, where an unbound port would make the receiver answer
// with ICMP port unreachable (traffic of its own in the capture).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "flood_clock.hpp"

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "udp_flood: %s\n", what.c_str());
  std::exit(1);
}

[[noreturn]] void Usage() {
  Die("usage: udp_flood send --dst ADDR --port P [--size BYTES] [--seconds S] [--count N] "
      "[--rate PPS]\n       udp_flood sink --bind ADDR --port P");
}

sockaddr_in Address(const std::string& text, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, text.c_str(), &a.sin_addr) != 1) {
    Die("not an IPv4 address: " + text);
  }
  return a;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    Usage();
  }
  const std::string mode = argv[1];
  std::string address;
  int port = 0;
  std::size_t size = 128;
  wgcap::bench::FloodPlan plan;
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      Usage();
    }
    const char* value = argv[++i];
    if (flag == "--dst" || flag == "--bind") {
      address = value;
    } else if (flag == "--port") {
      port = std::atoi(value);
    } else if (flag == "--size") {
      size = std::strtoul(value, nullptr, 10);
    } else if (flag == "--seconds") {
      plan.seconds = std::atof(value);
    } else if (flag == "--count") {
      plan.count = std::strtoull(value, nullptr, 10);
    } else if (flag == "--rate") {
      plan.rate = std::atof(value);
    } else {
      Usage();
    }
  }
  if (address.empty() || port <= 0 || port > 65535 || size < 28) {
    Usage();
  }
  const sockaddr_in to = Address(address, port);
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    Die(std::string("socket: ") + std::strerror(errno));
  }

  if (mode == "sink") {
    const int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof one); // the kernel's minimum
    if (bind(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
      Die("bind " + address + ":" + std::to_string(port) + ": " + std::strerror(errno));
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    int signal = 0;
    sigwait(&set, &signal);
    close(fd);
    return 0;
  }
  if (mode != "send" || (plan.seconds <= 0 && plan.count == 0)) {
    Usage();
  }
  if (connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    Die("connect " + address + ":" + std::to_string(port) + ": " + std::strerror(errno));
  }
  const std::vector<char> payload(size - 28, 'x'); // IPv4 and UDP headers
  wgcap::bench::RunFlood(plan, "udp_flood", [&] {
    return send(fd, payload.data(), payload.size(), 0) == static_cast<ssize_t>(payload.size());
  });
  close(fd);
  return 0;
}
