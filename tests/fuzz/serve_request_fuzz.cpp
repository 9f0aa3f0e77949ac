// SPDX-License-Identifier: Apache-2.0
// What `wgcap serve` (running as root) reads from an unprivileged client:
// the bytes of its Unix socket as frames, each Arguments frame split into
// words and parsed as a capture request, its expression as a filter, as the
// daemon does for every client in one long-lived process. Nothing a client
// sends may crash it or leave state that changes how the next request parses.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "cli/arguments.hpp"
#include "fuzz_check.hpp"
#include "serve/frame.hpp"
#include "wgcap/filter_parser.hpp"

namespace {

using wgcap::fuzz::Fail;

// More than a request ever needs, and within what a socket pair buffers.
constexpr std::size_t kMaxInput = 64 * 1024;
constexpr int kMaxFrames = 16;

wgcap::Result<wgcap::cli::Arguments> ParseWords(std::vector<std::string> words) {
  words.insert(words.begin(), "wgcap");
  std::vector<char*> argv;
  for (auto& w : words) {
    argv.push_back(w.data());
  }
  argv.push_back(nullptr);
  return wgcap::cli::ParseArguments(static_cast<int>(words.size()), argv.data());
}

// A well-formed request parses the same whatever came before it.
void CheckFreshParse(std::string after) {
  std::replace(after.begin(), after.end(), '\0', ' ');
  auto known = ParseWords({"-i", "wg0", "-c", "5", "udp", "port", "53"});
  if (!known.ok() || known->interface != "wg0" || known->count != 5 || known->text.verbose ||
      known->text.ascii || known->expression != "udp port 53") {
    Fail("a request parses differently after the request \"" + after + "\": " +
         (known.ok() ? "interface \"" + known->interface + "\", expression \"" + known->expression +
                           "\", verbose " + std::to_string(known->text.verbose)
                     : known.error().message));
  }
}

void ParseRequest(const std::string& payload) {
  auto args = ParseWords(wgcap::serve::SplitArguments(payload));
  if (!args.ok()) {
    if (args.error().message.empty()) {
      Fail("a usage error without a message");
    }
    return;
  }
  (void)wgcap::ParseFilter(args->expression);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxInput) {
    return 0;
  }
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    Fail("socketpair");
  }
  const int buffer = 1 << 20;
  setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  if (size > 0 && write(fds[0], data, size) != static_cast<ssize_t>(size)) {
    Fail("write to the socket pair");
  }
  close(fds[0]); // the client is done: the daemon sees the end of the stream
  for (int i = 0; i < kMaxFrames; ++i) {
    auto frame = wgcap::serve::ReadFrame(fds[1], 0);
    if (!frame.ok() || !frame->has_value()) {
      break;
    }
    const wgcap::serve::Frame& f = **frame;
    if (f.payload.size() > wgcap::serve::kMaxFrame) {
      Fail("a frame of " + std::to_string(f.payload.size()) + " bytes");
    }
    if (f.type == wgcap::serve::FrameType::Arguments) {
      ParseRequest(f.payload);
      CheckFreshParse(f.payload);
    }
  }
  close(fds[1]);
  return 0;
}
