// SPDX-License-Identifier: Apache-2.0
#include "cli/signals.hpp"

#include <poll.h>
#include <sys/signalfd.h>

#include <csignal>
#include <stdexcept>

namespace wgcap::cli {
namespace {

sigset_t CaptureSignalSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  return set;
}

} // namespace

CaptureSignals::CaptureSignals() {
  const sigset_t set = CaptureSignalSet();
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
    throw std::runtime_error("pthread_sigmask failed");
  }
  fd_.Reset(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd_.valid()) {
    throw std::runtime_error("signalfd failed");
  }
}

CaptureSignals::~CaptureSignals() {
  const sigset_t set = CaptureSignalSet();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

SignalEvent CaptureSignals::Wait(int timeout_ms) {
  pollfd p{fd_.get(), POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) {
    return SignalEvent::None;
  }
  signalfd_siginfo info{};
  if (read(fd_.get(), &info, sizeof info) != static_cast<ssize_t>(sizeof info)) {
    return SignalEvent::None;
  }
  return info.ssi_signo == SIGUSR1 ? SignalEvent::PrintCounts : SignalEvent::Stop;
}

} // namespace wgcap::cli
