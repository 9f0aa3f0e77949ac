// SPDX-License-Identifier: Apache-2.0
#include "cli/serve_daemon.hpp"

#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <list>
#include <mutex>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

#include "base/unique_fd.hpp"
#include "cli/arguments.hpp"
#include "cli/capture_output.hpp"
#include "cli/interface_selection.hpp"
#include "cli/live_capture.hpp"
#include "cli/serve_recorder.hpp"
#include "cli/signals.hpp"
#include "serve/frame.hpp"
#include "wgcap/capture.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap::cli {
namespace {

using serve::FrameType;
using serve::SendFrame;

struct ServeOptions {
  std::string socket_path;
  std::vector<uid_t> allow_uids;
  std::vector<gid_t> allow_gids;
  int max_captures = 8;
  std::int64_t max_duration_ms = 0;  // 0 = no limit
  std::uint64_t max_bytes = 0;       // 0 = no limit
  std::vector<std::string> recorder; // the words that are not serve's own: -i, -w, ...
};

// serve's own options are all long ones; the other words configure the
// recorder (serve_recorder.hpp), so both can be given in any order.
void SplitServeWords(int argc, char** argv, std::vector<char*>& serve,
                     std::vector<std::string>& recorder) {
  static constexpr std::string_view kWithValue[] = {"--socket",       "--allow-group",
                                                    "--allow-uid",    "--max-captures",
                                                    "--max-duration", "--max-bytes"};
  serve.push_back(argv[0]);
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    const std::string_view name = word.substr(0, word.find('='));
    if (word == "--") {
      recorder.insert(recorder.end(), argv + i, argv + argc);
      break;
    }
    if (word == "-h" || word == "--help") {
      serve.push_back(argv[i]);
    } else if (std::find(std::begin(kWithValue), std::end(kWithValue), name) !=
               std::end(kWithValue)) {
      serve.push_back(argv[i]);
      if (name == word && i + 1 < argc) {
        serve.push_back(argv[++i]);
      }
    } else {
      recorder.emplace_back(word);
    }
  }
  serve.push_back(nullptr);
}

Result<ServeOptions> ParseServeOptions(int all_argc, char** all_argv) {
  enum { kSocket = 256, kAllowGroup, kAllowUid, kMaxCaptures, kMaxDuration, kMaxBytes, kHelp };
  static const option longs[] = {{"socket", required_argument, nullptr, kSocket},
                                 {"allow-group", required_argument, nullptr, kAllowGroup},
                                 {"allow-uid", required_argument, nullptr, kAllowUid},
                                 {"max-captures", required_argument, nullptr, kMaxCaptures},
                                 {"max-duration", required_argument, nullptr, kMaxDuration},
                                 {"max-bytes", required_argument, nullptr, kMaxBytes},
                                 {"help", no_argument, nullptr, kHelp},
                                 {nullptr, 0, nullptr, 0}};
  ServeOptions o;
  std::vector<char*> own;
  SplitServeWords(all_argc, all_argv, own, o.recorder);
  const int argc = static_cast<int>(own.size()) - 1;
  char** argv = own.data();
  opterr = 0;
  optind = 1;
  int opt;
  auto bad = [](const std::string& m) { return Error{m, 0}; };
  while ((opt = getopt_long(argc, argv, ":h", longs, nullptr)) != -1) {
    const std::string value = optarg != nullptr ? optarg : "";
    switch (opt) {
    case kSocket:
      o.socket_path = value;
      break;
    case kAllowGroup: {
      gid_t gid = 0;
      if (const group* g = getgrnam(value.c_str()); g != nullptr) {
        gid = g->gr_gid;
      } else if (!ParseDecimal(value, gid)) {
        return bad("--allow-group: no group \"" + value + "\"");
      }
      o.allow_gids.push_back(gid);
      break;
    }
    case kAllowUid: {
      uid_t uid = 0;
      if (const passwd* p = getpwnam(value.c_str()); p != nullptr) {
        uid = p->pw_uid;
      } else if (!ParseDecimal(value, uid)) {
        return bad("--allow-uid: no user \"" + value + "\"");
      }
      o.allow_uids.push_back(uid);
      break;
    }
    case kMaxCaptures:
      if (!ParseDecimal(value, o.max_captures) || o.max_captures < 1) {
        return bad("--max-captures: invalid count \"" + value + "\" (expected a positive integer)");
      }
      break;
    case kMaxDuration:
      if (!ParseDurationMs(value, o.max_duration_ms)) {
        return bad("--max-duration: invalid duration \"" + value + "\" (e.g. 30s, 5m, 1h)");
      }
      break;
    case kMaxBytes:
      if (!ParseByteSize(value, o.max_bytes)) {
        return bad("--max-bytes: invalid size \"" + value + "\" (e.g. 500000, 64K, 100M, 2G)");
      }
      break;
    case kHelp:
    case 'h':
      return bad("help");
    case ':':
      return bad(std::string("option ") + argv[optind - 1] + " needs a value");
    default:
      return bad(std::string("unknown option ") + argv[optind - 1]);
    }
  }
  if (o.socket_path.empty()) {
    return bad("serve needs --socket PATH");
  }
  if (optind < argc) {
    return bad(std::string("unexpected argument \"") + argv[optind] + "\"");
  }
  return o;
}

const char* kServeHelp = R"(usage: wgcap serve --socket PATH [--allow-group G] [--allow-uid U]
                   [--max-captures N] [--max-duration D] [--max-bytes B]
                   [-i IFACE -w BASE [-C MB] [-G SECONDS] [-W N] [-s N]
                    [--pcap] [--mode M] [-B MIB] [expression]]

Runs captures for permitted users who connect with `wgcap --connect PATH`.
root is always allowed; --allow-group and --allow-uid (names or numbers, may
repeat) add others. Limits apply to every request: --max-captures running at
once (default 8), --max-duration per capture (longer requests are cut to it),
--max-bytes streamed per capture. SIGINT/SIGTERM end every capture cleanly.

With -i and -w the daemon also records IFACE into BASE for its whole life,
as `wgcap -i IFACE -w BASE` would (rotated by -C, -G, -W; pcapng unless
BASE ends in .pcap or --pcap is given), beside the clients' captures. The limits above are for clients: the recorder neither
counts against them nor is cut by them. Its options, expression and
interface are checked before the daemon listens (exit 2 or 1); if it fails
later (disk full, interface gone) the daemon logs why and goes on serving
clients. SIGINT/SIGTERM complete its current file.
)";

class Daemon {
public:
  Daemon(ServeOptions options, std::optional<RecorderPlan> recorder)
      : o_(std::move(options)), recorder_plan_(std::move(recorder)) {}

  int Run() {
    CaptureSignals signals; // before any thread: only the signalfd sees them
    auto listener = Listen();
    if (!listener) {
      return Fail(listener.error());
    }
    if (recorder_plan_) {
      recorder_ = std::make_unique<ServeRecorder>(std::move(*recorder_plan_), stopping_);
      if (auto started = recorder_->Start(); !started) {
        std::istringstream lines(started.error().message);
        for (std::string line; std::getline(lines, line);) {
          std::fprintf(stderr, "wgcap serve: recorder: %s\n", line.c_str());
        }
        std::fputs("wgcap serve: the recorder did not start; not serving\n", stderr);
        ::unlink(o_.socket_path.c_str());
        return 1;
      }
    }
    std::fprintf(stderr, "%s wgcap serve: listening on %s\n", LogTimestamp().c_str(),
                 o_.socket_path.c_str());
    for (;;) {
      pollfd p{listener->get(), POLLIN, 0};
      const SignalEvent event = signals.Wait(0);
      if (event == SignalEvent::Stop) {
        break;
      }
      if (poll(&p, 1, 100) > 0) {
        const int fd = accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
          std::lock_guard lock(threads_mutex_);
          threads_.emplace_back([this, fd] { Serve(UniqueFd(fd)); });
        }
      }
    }
    stopping_.store(true);
    std::fprintf(stderr, "%s wgcap serve: stopping, ending every capture\n",
                 LogTimestamp().c_str());
    std::lock_guard lock(threads_mutex_);
    for (auto& t : threads_) {
      t.join();
    }
    if (recorder_) {
      recorder_->Join();
    }
    ::unlink(o_.socket_path.c_str());
    return 0;
  }

private:
  Result<UniqueFd> Listen() {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (o_.socket_path.size() >= sizeof addr.sun_path) {
      return Error{"--socket " + o_.socket_path + ": path too long", ENAMETOOLONG};
    }
    std::strcpy(addr.sun_path, o_.socket_path.c_str());
    UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      return ErrnoError("socket", errno);
    }
    // A socket file left by a daemon that died is replaced; a live daemon's
    // is not (connecting to it succeeds).
    struct stat st {};
    if (lstat(o_.socket_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      UniqueFd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        return Error{o_.socket_path + ": another wgcap serve is listening there", EADDRINUSE};
      }
      ::unlink(o_.socket_path.c_str());
    }
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      return ErrnoError("bind " + o_.socket_path, errno);
    }
    // Anyone who can reach the socket may connect, so that a refusal is a
    // message (SO_PEERCRED decides who captures); restrict further with the
    // directory's mode (e.g. /run/wgcap 0750 root:wgcap). The group is the
    // first allowed one, for tools that look.
    const gid_t group = o_.allow_gids.empty() ? getgid() : o_.allow_gids.front();
    if (chown(o_.socket_path.c_str(), getuid(), group) != 0 ||
        chmod(o_.socket_path.c_str(), 0666) != 0) {
      return ErrnoError("chmod " + o_.socket_path, errno);
    }
    if (listen(fd.get(), 16) != 0) {
      return ErrnoError("listen " + o_.socket_path, errno);
    }
    return fd;
  }

  bool Allowed(const ucred& peer) const {
    if (peer.uid == 0 || std::count(o_.allow_uids.begin(), o_.allow_uids.end(), peer.uid) > 0) {
      return true;
    }
    const passwd* pw = getpwuid(peer.uid);
    if (pw == nullptr) {
      return std::count(o_.allow_gids.begin(), o_.allow_gids.end(), peer.gid) > 0;
    }
    int n = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    if (getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n) < 0) {
      groups.resize(static_cast<std::size_t>(n));
      getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n);
    }
    groups.resize(static_cast<std::size_t>(std::max(n, 0)));
    groups.push_back(peer.gid);
    for (gid_t g : groups) {
      if (std::count(o_.allow_gids.begin(), o_.allow_gids.end(), g) > 0) {
        return true;
      }
    }
    return false;
  }

  // One connection: check, validate, capture, report.
  void Serve(UniqueFd client) {
    const int fd = client.get();
    auto refuse = [fd](const std::string& message, int code) {
      (void)SendFrame(fd, FrameType::Message, "wgcap serve: " + message + "\n");
      const std::uint8_t c = static_cast<std::uint8_t>(code);
      (void)SendFrame(fd, FrameType::Exit, std::span(&c, 1));
    };
    ucred peer{};
    socklen_t len = sizeof peer;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0) {
      return refuse("cannot identify the peer (SO_PEERCRED)", 1);
    }
    if (!Allowed(peer)) {
      std::fprintf(stderr, "%s refused uid=%u pid=%d: not allowed\n", LogTimestamp().c_str(),
                   peer.uid, peer.pid);
      return refuse("uid " + std::to_string(peer.uid) +
                        " may not capture here (ask for --allow-uid or a group in --allow-group)",
                    1);
    }
    auto request = serve::ReadFrame(fd, 5000);
    if (!request || !*request || (*request)->type != FrameType::Arguments) {
      return refuse("expected the capture arguments first", 2);
    }
    std::vector<std::string> words = serve::SplitArguments((*request)->payload);
    words.insert(words.begin(), "wgcap");
    std::vector<char*> argv;
    for (auto& w : words) {
      argv.push_back(w.data());
    }
    argv.push_back(nullptr);
    auto args = ParseArguments(static_cast<int>(words.size()), argv.data());
    if (!args) {
      return refuse(args.error().message, 2);
    }
    if (args->interface.empty() || !args->read_file.empty() || args->parity_check || args->dump) {
      return refuse("a request captures live: give -i IFACE (not -r, -d or --parity-check)", 2);
    }
    if (!args->drop_user.empty()) {
      return refuse("-Z is not available through wgcap serve (the daemon's privileges are its own)",
                    2);
    }
    if (!args->write_file.empty() && args->write_file != "-") {
      return refuse("the client writes files; the capture is streamed", 2);
    }
    // The daemon could read files its client may not: `wgcap --connect`
    // sends the expression from -F FILE instead.
    if (!args->filter_file.empty()) {
      return refuse("-F: the client reads the file and sends the expression", 2);
    }
    auto matcher = ParseFilter(args->expression);
    if (!matcher) {
      return refuse("filter: " + matcher.error().message, 2);
    }
    if (auto found = SelectInterfaces(args->interface); !found) {
      // Word for word what a local `wgcap -i` says (SPEC 6).
      (void)SendFrame(fd, FrameType::Message, "wgcap: " + found.error().message + "\n");
      const std::uint8_t c = 1;
      return (void)SendFrame(fd, FrameType::Exit, std::span(&c, 1));
    }
    if (o_.max_duration_ms > 0 &&
        (args->duration_ms == 0 || args->duration_ms > o_.max_duration_ms)) {
      args->duration_ms = o_.max_duration_ms;
      (void)SendFrame(fd, FrameType::Message,
                      "wgcap serve: the capture ends after " + std::to_string(o_.max_duration_ms) +
                          " ms (--max-duration)\n");
    }
    if (active_.fetch_add(1) >= o_.max_captures) {
      active_.fetch_sub(1);
      return refuse("too many captures running (limit " + std::to_string(o_.max_captures) + ")", 1);
    }
    std::fprintf(stderr, "%s start uid=%u pid=%d iface=%s expr='%s'\n", LogTimestamp().c_str(),
                 peer.uid, peer.pid, args->interface.c_str(), args->expression.c_str());
    std::string reason;
    const int code = Capture(fd, *args, std::move(matcher).value(), reason);
    active_.fetch_sub(1);
    std::fprintf(stderr, "%s end uid=%u pid=%d iface=%s expr='%s' exit=%d: %s\n",
                 LogTimestamp().c_str(), peer.uid, peer.pid, args->interface.c_str(),
                 args->expression.c_str(), code, reason.c_str());
  }

  int Capture(int fd, const Arguments& args, std::shared_ptr<const ExpressionMatcher> matcher,
              std::string& reason) {
    serve::FrameWriter out(fd);
    LiveCaptureIo io{
        &out, [fd](const std::string& line) { (void)SendFrame(fd, FrameType::Message, line); }};
    LiveCaptureControl control;
    control.should_stop = [&, fd](bool&) -> const char* {
      if (stopping_.load()) {
        return "the daemon is stopping";
      }
      if (o_.max_bytes > 0 && out.bytes_sent() >= o_.max_bytes) {
        return "the byte limit (--max-bytes) was reached";
      }
      pollfd p{fd, POLLIN | POLLRDHUP, 0};
      if (poll(&p, 1, 50) > 0) {
        if (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) {
          return "the client went away";
        }
        auto frame = serve::ReadFrame(fd, 1000);
        if (!frame || !*frame) {
          return "the client went away";
        }
        if ((*frame)->type == FrameType::Stop) {
          return "the client stopped it";
        }
      }
      return nullptr;
    };
    const int code = RunLiveCaptureWith(args, std::move(matcher), io, control, reason);
    const std::uint8_t c = static_cast<std::uint8_t>(code);
    (void)SendFrame(fd, FrameType::Exit, std::span(&c, 1));
    return code;
  }

  ServeOptions o_;
  std::optional<RecorderPlan> recorder_plan_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> active_{0};
  std::mutex threads_mutex_;
  std::list<std::thread> threads_;
  // -i IFACE -w BASE, outside the client limits; after stopping_, which its
  // thread reads, so it is destroyed (joined) first.
  std::unique_ptr<ServeRecorder> recorder_;
};

} // namespace

int RunServe(int argc, char** argv) {
  auto options = ParseServeOptions(argc, argv);
  if (!options) {
    if (options.error().message == "help") {
      std::fputs(kServeHelp, stdout);
      return 0;
    }
    std::fprintf(stderr, "wgcap serve: %s\nTry 'wgcap serve --help' for more information.\n",
                 options.error().message.c_str());
    return 2;
  }
  std::optional<RecorderPlan> recorder;
  if (!options->recorder.empty()) {
    auto plan = ParseRecorder(options->recorder);
    if (!plan) {
      const std::string& message = plan.error().message;
      const bool usage = plan.error().errnum == 0;
      // A mistyped serve option lands among the recorder's words too.
      const char* whose = message.starts_with("unknown option") ? "" : "recorder: ";
      std::fprintf(stderr, "wgcap serve: %s%s\n%s", whose, message.c_str(),
                   usage ? "Try 'wgcap serve --help' for more information.\n" : "");
      return usage ? 2 : 1;
    }
    recorder = std::move(plan).value();
  }
  return Daemon(std::move(options).value(), std::move(recorder)).Run();
}

} // namespace wgcap::cli
