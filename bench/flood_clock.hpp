// SPDX-License-Identifier: Apache-2.0
// Pacing and reporting shared by the two flood generators (tun_injector,
// udp_flood): run for a duration or a count, at full speed or at a rate, and
// say what was sent in one machine-readable line.
#pragma once

#include <time.h>

#include <cstdint>
#include <cstdio>

namespace wgcap::bench {

inline double Now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct FloodPlan {
  double seconds = 0;      // 0: until count
  std::uint64_t count = 0; // 0: until seconds
  double rate = 0;         // packets/s; 0: as fast as the sends go
};

// Calls send() (true: one packet sent; false: an error, counted) until the
// plan is done. Paced floods send each millisecond's share and then sleep,
// so the generator leaves the CPU to what is measured.
template <typename Send> void RunFlood(const FloodPlan& plan, const char* what, Send send) {
  std::uint64_t sent = 0;
  std::uint64_t errors = 0;
  const double start = Now();
  double now = start;
  const bool paced = plan.rate > 0;
  timespec tick{};
  clock_gettime(CLOCK_MONOTONIC, &tick);
  for (std::uint64_t round = 1;; ++round) {
    // Full speed: check the clock every 256 packets (vDSO, but not free).
    const std::uint64_t burst =
        paced ? static_cast<std::uint64_t>(plan.rate * 1e-3 * static_cast<double>(round)) -
                    static_cast<std::uint64_t>(plan.rate * 1e-3 * static_cast<double>(round - 1))
              : 256;
    for (std::uint64_t i = 0; i < burst; ++i) {
      if (plan.count != 0 && sent >= plan.count) {
        break;
      }
      if (send()) {
        ++sent;
      } else {
        ++errors;
      }
    }
    now = Now();
    if ((plan.count != 0 && sent >= plan.count) ||
        (plan.seconds > 0 && now - start >= plan.seconds)) {
      break;
    }
    if (errors > 1000 && sent == 0) {
      std::fprintf(stderr, "%s: every send fails\n", what);
      break;
    }
    if (paced) {
      tick.tv_nsec += 1'000'000;
      if (tick.tv_nsec >= 1'000'000'000) {
        tick.tv_nsec -= 1'000'000'000;
        ++tick.tv_sec;
      }
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, nullptr);
    }
  }
  const double elapsed = now - start;
  std::printf("packets=%llu errors=%llu seconds=%.3f rate=%.0f\n",
              static_cast<unsigned long long>(sent), static_cast<unsigned long long>(errors),
              elapsed, elapsed > 0 ? static_cast<double>(sent) / elapsed : 0.0);
}

} // namespace wgcap::bench
