// SPDX-License-Identifier: Apache-2.0
// `wgcap -w - | reader` with each backend (SPEC 4): a lone packet reaches the
// pipe promptly with no traffic after it. The bpf backend's kernel side
// wakes the reader only past a fill threshold (BPF_RB_NO_WAKEUP below it),
// so this is what shows that its poll timeout and the flush when the ring
// runs dry do not strand a packet; with -U too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/unique_fd.hpp"
#include "support/live_wgcap.hpp"

extern char** environ;

namespace wgcap::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new LiveTestbed("lp"));

// SPEC 4 promises 100 ms; the bound leaves room for a loaded machine.
constexpr auto kLatencyBound = 500ms;
constexpr int kProbes = 3;

struct Case {
  Backend backend;
  bool unbuffered; // -U
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.backend.name << (c.unbuffered ? "_U" : "");
}

// wgcap with its stdout on a pipe this test reads; stderr to a file.
class PipedWgcap {
public:
  PipedWgcap(const std::vector<std::string>& argv, const std::string& err_path)
      : err_path_(err_path) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2: " << std::strerror(errno);
      return;
    }
    read_.Reset(fds[0]);
    UniqueFd write_end(fds[1]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (const std::string& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    if (const int err = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
        err != 0) {
      ADD_FAILURE() << "posix_spawnp " << argv[0] << ": " << std::strerror(err);
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
  }
  ~PipedWgcap() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL); // our own child, by its PID
      Wait();
    }
  }

  std::string Stderr() const {
    std::ifstream in(err_path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool WaitForStderr(const std::string& text, std::chrono::milliseconds timeout) const {
    for (const auto end = Clock::now() + timeout; Clock::now() < end;) {
      if (Stderr().find(text) != std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  // Reads the pipe until `needle` is in what was read, or the timeout.
  bool ReadUntil(const std::string& needle, std::chrono::milliseconds timeout) {
    for (const auto end = Clock::now() + timeout; output_.find(needle) == std::string::npos;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
      pollfd p{read_.get(), POLLIN, 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        return false;
      }
      char buf[4096];
      const ssize_t n = read(read_.get(), buf, sizeof buf);
      if (n <= 0) {
        return false;
      }
      output_.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  int Interrupt() {
    kill(pid_, SIGINT);
    // Keeps the pipe drained until wgcap exits (EOF: the sentinel is never
    // written), so its last flush cannot block.
    (void)ReadUntil(std::string("\x01no such bytes\x02"), 10s);
    return Wait();
  }

private:
  int Wait() {
    int status = 0;
    const pid_t pid = std::exchange(pid_, -1);
    if (waitpid(pid, &status, 0) != pid) {
      return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  pid_t pid_ = -1;
  UniqueFd read_;
  std::string err_path_;
  std::string output_;
};

class LivePipeLatency : public LiveTest, public ::testing::WithParamInterface<Case> {
protected:
  // One UDP datagram from A to B, port 9 (B answers with an ICMP error,
  // which the filter leaves out).
  void SendProbe(const std::string& payload) {
    InNamespace(testbed_->ns_a, [&] {
      UniqueFd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      ASSERT_TRUE(s.valid()) << std::strerror(errno);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(9);
      ASSERT_EQ(inet_pton(AF_INET, testbed_->addr_b.c_str(), &to.sin_addr), 1);
      ASSERT_EQ(sendto(s.get(), payload.data(), payload.size(), 0,
                       reinterpret_cast<const sockaddr*>(&to), sizeof to),
                static_cast<ssize_t>(payload.size()))
          << std::strerror(errno);
    });
  }
};

TEST_P(LivePipeLatency, EachLonePacketReachesThePipePromptly) {
  const Case c = GetParam();
  std::vector<std::string> args = {"-w", "-"};
  if (c.unbuffered) {
    args.push_back("-U");
  }
  args.insert(args.end(), {"udp", "and", "dst", "port", "9"});
  PipedWgcap wgcap(WgcapArgv(c.backend, args), dir_.File("wgcap.err"));
  ASSERT_TRUE(wgcap.WaitForStderr(
      "listening on " + testbed_->if_a + " (" + Listening(c.backend) + ")", 10s))
      << wgcap.Stderr();
  // Nothing else matches: each probe is alone in the ring, with a quiet
  // interface after it, as in an interactive `wgcap -w - | tshark -r -`.
  for (int i = 0; i < kProbes; ++i) {
    std::this_thread::sleep_for(300ms);
    const std::string payload = "wgcap-pipe-latency-probe-" + std::to_string(i);
    const auto sent = Clock::now();
    SendProbe(payload);
    ASSERT_TRUE(wgcap.ReadUntil(payload, 5s)) << "probe " << i << " never reached the pipe\n"
                                              << wgcap.Stderr();
    const auto latency = Clock::now() - sent;
    EXPECT_LT(latency, kLatencyBound)
        << "probe " << i << " took "
        << std::chrono::duration_cast<std::chrono::milliseconds>(latency).count() << " ms";
  }
  ASSERT_EQ(wgcap.Interrupt(), 0) << wgcap.Stderr();
  EXPECT_THAT(wgcap.Stderr(), HasSubstr(std::to_string(kProbes) + " packets captured"));
}

INSTANTIATE_TEST_SUITE_P(Backends, LivePipeLatency,
                         ::testing::Values(Case{kAFPacket, false}, Case{kAFPacket, true},
                                           Case{kBpfTcx, false}, Case{kBpfTcx, true},
                                           Case{kBpfClsact, false}, Case{kBpfClsact, true}),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           return std::string(param.param.backend.name) +
                                  (param.param.unbuffered ? "_U" : "");
                         });

} // namespace
} // namespace wgcap::test
