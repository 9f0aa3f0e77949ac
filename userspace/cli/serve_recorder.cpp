// SPDX-License-Identifier: Apache-2.0
#include "cli/serve_recorder.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "cli/filter_file.hpp"
#include "cli/interface_selection.hpp"
#include "cli/live_capture.hpp"
#include "wgcap/capture.hpp"

namespace wgcap::cli {
namespace {

constexpr auto kTick = std::chrono::milliseconds(50);
constexpr std::string_view kPrefix = "wgcap: ";

Error Usage(std::string message) {
  return Error{std::move(message), 0};
}

// "column N: ..." with the expression and a caret under column N, as
// `wgcap` itself prints a filter error.
std::string FilterError(const std::string& message, const std::string& expression) {
  int column = 0;
  std::string text = "filter: " + message;
  if (std::sscanf(message.c_str(), "column %d", &column) == 1 && column > 0) {
    text +=
        "\n  " + expression + "\n  " + std::string(static_cast<std::size_t>(column - 1), ' ') + "^";
  }
  return text;
}

std::string DirectoryOf(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace

std::string LogTimestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

Result<RecorderPlan> ParseRecorder(const std::vector<std::string>& words) {
  std::vector<std::string> copy = words;
  copy.insert(copy.begin(), "wgcap");
  std::vector<char*> argv;
  for (auto& w : copy) {
    argv.push_back(w.data());
  }
  argv.push_back(nullptr);
  auto args = ParseArguments(static_cast<int>(copy.size()), argv.data());
  const std::string no_interface =
      "capture options without -i IFACE: the recorder needs -i IFACE and -w BASE";
  if (!args) {
    // Without -i, ParseArguments asks for -i or -r; only -i applies here.
    return Usage(args.error().message.starts_with("nothing to capture") ? no_interface
                                                                        : args.error().message);
  }
  if (args->version) {
    return Usage("unknown option --version");
  }
  if (!args->read_file.empty() || args->dump || args->parity_check || !args->connect.empty()) {
    return Usage("the recorder captures live into files: -r, -d, --parity-check and --connect "
                 "do not apply");
  }
  if (args->interface.empty()) {
    return Usage(no_interface);
  }
  if (args->write_file.empty() || args->write_file == "-") {
    return Usage("-i " + args->interface +
                 " needs -w BASE: the recorder writes files (rotated with -C, -G, -W)");
  }
  if (args->print) {
    return Usage("--print does not apply: the recorder writes only files");
  }
  if (args->count > 0 || args->duration_ms > 0) {
    return Usage("-c and --duration do not apply: the recorder runs as long as the daemon");
  }
  if (!args->filter_file.empty()) { // the daemon's own command line: its files
    auto expression = ReadFilterFile(args->filter_file);
    if (!expression) {
      return Usage(expression.error().message);
    }
    args->expression = std::move(expression).value();
  }
  auto matcher = ParseFilter(args->expression);
  if (!matcher) {
    return Usage(FilterError(matcher.error().message, args->expression));
  }
  if (auto found = SelectInterfaces(args->interface); !found) {
    return found.error();
  }
  // Rotated files are created as packets come, so an unwritable directory
  // would otherwise show only at the first packet.
  const std::string directory = DirectoryOf(args->write_file);
  if (access(directory.c_str(), W_OK | X_OK) != 0) {
    return ErrnoError("-w " + args->write_file + ": directory " + directory, errno,
                      "the recorder writes its files there");
  }
  return RecorderPlan{std::move(args).value(), std::move(matcher).value()};
}

ServeRecorder::ServeRecorder(RecorderPlan plan, const std::atomic<bool>& stopping)
    : plan_(std::move(plan)), stopping_(stopping) {}

ServeRecorder::~ServeRecorder() {
  Join();
}

Status ServeRecorder::Start() {
  thread_ = std::thread([this] { Run(); });
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return capturing_ || ended_; });
  if (capturing_) {
    return {};
  }
  std::string why;
  for (const auto& line : early_lines_) {
    why += (why.empty() ? "" : "\n") + line;
  }
  return Error{why.empty() ? "the capture ended before it started" : why, 0};
}

void ServeRecorder::Join() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

// What RunLiveCaptureWith says, as the daemon's log: the lines before the
// capture starts (a backend fallback, a filter note) and the start line. The
// counts it prints at the end, and the failure it names then, are in the end
// line instead.
void ServeRecorder::Said(const std::string& text) {
  const std::string line = text.ends_with('\n') ? text.substr(0, text.size() - 1) : text;
  const Arguments& a = plan_.args;
  std::lock_guard lock(mutex_);
  if (capturing_) {
    if (a.stats && line.starts_with('{')) {
      std::fprintf(stderr, "%s recorder iface=%s stats %s\n", LogTimestamp().c_str(),
                   a.interface.c_str(), line.c_str());
    }
    return;
  }
  if (line.starts_with("listening on ")) {
    for (const auto& early : early_lines_) {
      std::fprintf(stderr, "%s recorder iface=%s: %s\n", LogTimestamp().c_str(),
                   a.interface.c_str(), early.c_str());
    }
    std::fprintf(stderr, "%s recorder start iface=%s expr='%s' file=%s: %s\n",
                 LogTimestamp().c_str(), a.interface.c_str(), a.expression.c_str(),
                 a.write_file.c_str(), line.c_str());
    return;
  }
  if (line.starts_with(kPrefix)) {
    early_lines_.push_back(line.substr(kPrefix.size()));
  }
}

void ServeRecorder::Capturing() {
  {
    std::lock_guard lock(mutex_);
    if (capturing_) {
      return;
    }
    capturing_ = true;
  }
  changed_.notify_all();
}

void ServeRecorder::Run() {
  LiveCaptureIo io; // no stdout: -w without --print writes only the files
  io.message = [this](const std::string& line) { Said(line); };
  LiveCaptureControl control;
  control.should_stop = [this](bool&) -> const char* {
    Capturing(); // first called once the backend is attached
    std::this_thread::sleep_for(kTick);
    return stopping_.load() ? "the daemon is stopping" : nullptr;
  };
  std::string reason;
  const int code = RunLiveCaptureWith(plan_.args, plan_.matcher, io, control, reason);
  bool started;
  {
    std::lock_guard lock(mutex_);
    started = capturing_;
    ended_ = true;
  }
  changed_.notify_all();
  if (!started) {
    return; // Start() reports it; the daemon does not serve
  }
  const Arguments& a = plan_.args;
  std::fprintf(stderr, "%s recorder end iface=%s expr='%s' exit=%d: %s%s\n", LogTimestamp().c_str(),
               a.interface.c_str(), a.expression.c_str(), code, reason.c_str(),
               stopping_.load() ? ""
                                : "; the recorder has stopped, on-demand captures go on "
                                  "(restart wgcap serve to record again)");
}

} // namespace wgcap::cli
