// SPDX-License-Identifier: Apache-2.0
#include "capture/bpf/libbpf_log.hpp"

#include <bpf/libbpf.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace wgcap {
namespace {

// Per thread: libbpf calls the printer on the thread doing the load.
thread_local std::string log_buffer;
std::atomic<bool> echo_log{false};
// A verifier log can be megabytes; the tail holds the reason.
constexpr std::size_t kMaxKept = 64 * 1024;

int Print(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG && !echo_log.load(std::memory_order_relaxed)) {
    return 0;
  }
  // A verifier log arrives as one message of any length.
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (n <= 0) {
    return 0;
  }
  std::string line(static_cast<std::size_t>(n) + 1, '\0');
  std::vsnprintf(line.data(), line.size(), format, args);
  line.pop_back();
  log_buffer += line;
  if (log_buffer.size() > kMaxKept) {
    log_buffer.erase(0, log_buffer.size() - kMaxKept);
  }
  if (echo_log.load(std::memory_order_relaxed)) {
    std::fputs(line.c_str(), stderr);
  }
  return 0;
}

} // namespace

void RouteLibbpfLog(bool echo) {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(Print); });
  if (echo) {
    echo_log.store(true, std::memory_order_relaxed);
  }
}

std::string TakeLibbpfLog() {
  std::string out;
  out.swap(log_buffer);
  return out;
}

} // namespace wgcap
