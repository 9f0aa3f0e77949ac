// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace wgcap::test {

// A child process running while the test goes on; stdout and stderr go to
// files the test can read at any time. Killed (by its own PID) if the test
// ends without waiting for it.
class BackgroundProcess {
public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& output_dir,
                    const std::string& name);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }
  std::string Stdout() const;
  std::string Stderr() const;
  // Polls stderr until it contains `text`; false on timeout or exit.
  bool WaitForStderr(const std::string& text, std::chrono::milliseconds timeout);
  void Signal(int signo);
  // The exit code (-1 when killed by a signal), or nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string out_path_;
  std::string err_path_;
};

} // namespace wgcap::test
