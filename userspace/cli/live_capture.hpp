// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "cli/arguments.hpp"
#include "cli/privilege_drop.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap::cli {

// `wgcap -i`: a capture backend → Session (Matcher) → pcap or text, until
// SIGINT/SIGTERM, -c, --duration or a failure. Returns the exit code.
int RunLiveCapture(const Arguments& args, std::shared_ptr<const ExpressionMatcher> matcher);

// Where a live capture's output and messages go: this process's stdout and
// stderr, or (wgcap serve) a client's socket.
struct LiveCaptureIo {
  ByteWriter* output = nullptr;                         // null: stdout
  std::function<void(const std::string& line)> message; // null: stderr
};

// Polled about every 50 ms: a returned reason ends the capture (a signal,
// a client gone); setting `print_counts` prints the counts so far (SIGUSR1).
struct LiveCaptureControl {
  std::function<const char*(bool& print_counts)> should_stop;
  // -Z: the output file is made this user's, and once the hooks are
  // attached the process becomes that user (never set by wgcap serve).
  const DropTarget* drop = nullptr;
};

// The capture loop itself, for RunLiveCapture and wgcap serve. `end_reason`
// says why it ended.
int RunLiveCaptureWith(const Arguments& args, std::shared_ptr<const ExpressionMatcher> matcher,
                       const LiveCaptureIo& io, const LiveCaptureControl& control,
                       std::string& end_reason);

// `wgcap -d`: the compiled filter forms. Returns the exit code.
int DumpFilters(const Arguments& args, const ExpressionMatcher& matcher);

} // namespace wgcap::cli
