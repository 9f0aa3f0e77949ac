// SPDX-License-Identifier: Apache-2.0
// Writes one prebuilt 128-byte IPv4 UDP packet (198.51.100.1 > 203.0.113.1,
// port 9) into a TUN device in a tight loop: the traffic the end-to-end
// benchmark captures. A packet written to a TUN fd is received by the device,
// so it passes AF_PACKET taps and TC ingress in the writer's own context,
// and the write rate is the datapath's rate.
//
//   tun_injector --dev NAME [--seconds S] [--count N] [--rate PPS]
//
// Opens /dev/net/tun in the namespace it runs in and attaches to NAME
// (creating it, non-persistent, if it does not exist; bench.sh creates it
// first so that captures can attach before the flood). Prints
// "packets=N errors=E seconds=S rate=R", then "cpu=C": the injector's own
// user + system CPU seconds. A write runs the receive path in the writer's
// context, so C includes what AF_PACKET taps and TC programs cost per
// packet (scripts/bench.sh flood compares it with a run without capture).
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench_packets.hpp"
#include "flood_clock.hpp"

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "tun_injector: %s\n", what.c_str());
  std::exit(1);
}

[[noreturn]] void Usage() {
  Die("usage: tun_injector --dev NAME [--seconds S] [--count N] [--rate PPS]");
}

// Brings the device up; a device that is down refuses writes with EIO.
void BringUp(const char* name) {
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    Die(std::string("socket: ") + std::strerror(errno));
  }
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ - 1));
  if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
    Die(std::string("SIOCGIFFLAGS ") + name + ": " + std::strerror(errno));
  }
  if ((ifr.ifr_flags & IFF_UP) == 0) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) {
      Die(std::string("SIOCSIFFLAGS ") + name + ": " + std::strerror(errno));
    }
  }
  close(s);
}

} // namespace

int main(int argc, char** argv) {
  std::string dev;
  wgcap::bench::FloodPlan plan;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      Usage();
    }
    const char* value = argv[++i];
    if (flag == "--dev") {
      dev = value;
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
  if (dev.empty() || dev.size() >= IFNAMSIZ || (plan.seconds <= 0 && plan.count == 0)) {
    Usage();
  }

  const int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    Die(std::string("open /dev/net/tun: ") + std::strerror(errno));
  }
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::memcpy(ifr.ifr_name, dev.data(), dev.size()); // shorter than IFNAMSIZ, checked above
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
    Die("TUNSETIFF " + dev + ": " + std::strerror(errno));
  }
  BringUp(ifr.ifr_name);

  // The TUN driver takes the packet's family from its first nibble (4).
  const wgcap::bench::Bytes packet = wgcap::bench::Ipv4Udp();
  wgcap::bench::RunFlood(plan, "tun_injector", [&] {
    return write(fd, packet.data(), packet.size()) == static_cast<ssize_t>(packet.size());
  });
  close(fd);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  std::printf("cpu=%.3f\n", seconds(usage.ru_utime) + seconds(usage.ru_stime));
  return 0;
}
