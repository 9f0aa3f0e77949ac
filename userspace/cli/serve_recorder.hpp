// SPDX-License-Identifier: Apache-2.0
// wgcap serve's recorder: `wgcap serve --socket PATH -i IFACE -w BASE [-C MB]
// [-G SECONDS] [-W N] [expression]` also captures IFACE into files for the
// daemon's whole life, beside the captures clients ask for and outside their
// limits. It is the capture `wgcap -i IFACE -w BASE` runs (RunLiveCaptureWith
// with the same outputs), on a thread of the daemon.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli/arguments.hpp"
#include "wgcap/filter_parser.hpp"
#include "wgcap/result.hpp"

namespace wgcap::cli {

// What the recorder captures, checked before the daemon listens.
struct RecorderPlan {
  Arguments args;
  std::shared_ptr<const ExpressionMatcher> matcher;
};

// `words`: the capture options and expression given to `wgcap serve`. An
// Error with errnum 0 is a usage or filter error (exit 2); with an errnum, the
// system said no (no such interface, a directory it cannot write: exit 1).
Result<RecorderPlan> ParseRecorder(const std::vector<std::string>& words);

// The local time that starts each line of the daemon's log.
std::string LogTimestamp();

class ServeRecorder {
public:
  // The capture ends once `stopping` is true (the daemon's SIGTERM).
  ServeRecorder(RecorderPlan plan, const std::atomic<bool>& stopping);
  ~ServeRecorder(); // joins the thread
  ServeRecorder(const ServeRecorder&) = delete;
  ServeRecorder& operator=(const ServeRecorder&) = delete;

  // Starts the capture on its own thread. Returns once it is capturing (its
  // start line logged), or why it could not start: one line per message the
  // capture gave, the last one the failure.
  Status Start();
  // Waits until the capture has ended and its files are complete.
  void Join();

private:
  void Run();
  void Said(const std::string& line);
  void Capturing();

  RecorderPlan plan_;
  const std::atomic<bool>& stopping_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool capturing_ = false;
  bool ended_ = false;
  std::vector<std::string> early_lines_; // before the start line
};

} // namespace wgcap::cli
