// SPDX-License-Identifier: Apache-2.0
// Issue 20, exact loss accounting: a known number of packets written as
// fast as they go into a TUN device in a namespace of the test's own, while
// `wgcap -B 1 -w - --pcap` captures them with each backend and cannot keep up.
// Afterwards every packet the filter matched is either captured or counted
// lost, in the exit summary's own words:
//
//   captured + dropped by kernel + dropped by buffer == received by filter
//                                                   == packets the test sent that match
//
// and, for bpf, the kernel program saw exactly what the test sent. The
// device is in its own namespace with IPv6 off and strict rp_filter with no
// route back (as scripts/bench.sh sets it up), so the kernel sends nothing
// of its own on it and the test's packets are the only ones there.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <memory>
#include <optional>
#include <ostream>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support/background_process.hpp"
#include "support/live_wgcap.hpp"
#include "support/packet_builder.hpp"
#include "support/privileges.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "support/testbed.hpp"

namespace wgcap {
namespace {

using namespace std::chrono_literals;
using test::BackgroundProcess;
using test::StatsField;

struct Backend {
  const char* name;
  std::vector<std::string> env;  // e.g. WGCAP_TC_ATTACH=clsact
  std::vector<std::string> args; // --mode ...
  const char* listening;         // what the listening line names
  bool has_kernel_seen;          // bpf counts every packet its program ran on
};

const Backend kAFPacket{"afpacket", {}, {"--mode", "afpacket"}, "afpacket", false};
const Backend kBpfTcx{"bpf_tcx", {}, {"--mode", "bpf"}, "bpf/tcx", true};
const Backend kBpfClsact{
    "bpf_clsact", {"WGCAP_TC_ATTACH=clsact"}, {"--mode", "bpf"}, "bpf/tc", true};

// Without tcx (before 6.6) the default attachment is clsact.
std::string Listening(const Backend& b) {
  const std::string named = b.listening;
  return named == "bpf/tcx" && !test::KernelHasTcx() ? "bpf/tc" : named;
}

// What the test sends and what the expression keeps of it: kind A is UDP to
// port 9, kind B UDP to port 10 (sent alternately when there are two kinds).
struct FilterCase {
  const char* name;
  std::vector<std::string> expression; // empty: match all
  bool two_kinds;
};

const FilterCase kMatchAll{"match_all", {}, false};
const FilterCase kMatchHalf{"match_port_9", {"udp", "and", "dst", "port", "9"}, true};

using Param = std::tuple<Backend, FilterCase>;

void PrintTo(const Param& p, std::ostream* os) {
  *os << std::get<0>(p).name << "/" << std::get<1>(p).name;
}

// Sent per test. A 1 MiB ring holds ~6000 of these 128-byte packets (bpf
// samples or TPACKET_V3 frames), so 30000 (15000 matching in the two-kind
// case) overflow it several times over once the consumer is held (below).
constexpr std::int64_t kSent = 30000;
constexpr std::uint16_t kPortA = 9, kPortB = 10;
constexpr std::size_t kSeqAt = 28; // the payload: after the IPv4 and UDP headers

// The exit summary (and SIGUSR1's), in tcpdump's words; the last one in
// `err`, or nullopt when there is none.
struct Summary {
  std::int64_t captured = 0, received = 0, dropped_kernel = 0, dropped_buffer = 0;
  std::int64_t lost() const { return dropped_kernel + dropped_buffer; }
};

std::optional<Summary> LastSummary(const std::string& err) {
  static const std::regex block("([0-9]+) packets captured\n([0-9]+) packets received by filter\n"
                                "([0-9]+) packets dropped by kernel\n([0-9]+) packets dropped by "
                                "buffer\n");
  std::optional<Summary> last;
  for (auto it = std::sregex_iterator(err.begin(), err.end(), block); it != std::sregex_iterator();
       ++it) {
    const auto& m = *it;
    last = Summary{std::stoll(m[1].str()), std::stoll(m[2].str()), std::stoll(m[3].str()),
                   std::stoll(m[4].str())};
  }
  return last;
}

// A namespace with one TUN device and nothing of the kernel's own on it.
// Removed with everything in it (the device, wgcap's hooks) on destruction.
class TunNamespace {
public:
  TunNamespace() : ns("wgcap-flood-" + std::to_string(getpid())) {
    (void)test::Run({"ip", "netns", "delete", ns}); // left over by a killed run of this PID
    for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
             {"ip", "netns", "add", ns},
             {"ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
              "net.ipv6.conf.default.disable_ipv6=1", "net.ipv4.conf.all.rp_filter=1",
              "net.ipv4.conf.default.rp_filter=1"},
             {"ip", "-n", ns, "tuntap", "add", "dev", dev, "mode", "tun"},
             {"ip", "-n", ns, "link", "set", dev, "up"}}) {
      const auto r = test::Run(argv);
      if (r.exit_code != 0) {
        error = argv[0] + " " + argv[1] + " " + argv[2] + " ...: " + r.err;
        return;
      }
    }
  }
  ~TunNamespace() { (void)test::Run({"ip", "netns", "delete", ns}); }
  TunNamespace(const TunNamespace&) = delete;
  TunNamespace& operator=(const TunNamespace&) = delete;

  // rx_packets or tx_packets of the device.
  std::int64_t Counter(const std::string& name) const {
    const auto r = test::Run(
        {"ip", "netns", "exec", ns, "cat", "/sys/class/net/" + dev + "/statistics/" + name});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::atoll(r.out.c_str());
  }

  const std::string ns;
  const std::string dev = "flood0";
  std::string error; // empty when set up
};

// Writes `count` packets into the device as fast as it goes, kind B at
// every odd position when `two_kinds`. The first 8 payload bytes number the
// packet (its UDP checksum is left stale: nothing checks it, the kernel
// drops the packet after TC ingress and the taps). A write runs the receive
// path, taps and TC ingress included, before it returns. Returns the writes
// that succeeded.
std::int64_t Flood(const TunNamespace& tun, std::int64_t count, bool two_kinds) {
  std::vector<std::uint8_t> kinds[2];
  for (int k = 0; k < 2; ++k) {
    kinds[k] = test::PacketBuilder::Ipv4("198.51.100.1", "203.0.113.1")
                   .Udp(40000, k == 0 ? kPortA : kPortB)
                   .PayloadSize(100)
                   .Build();
  }
  std::int64_t written = 0;
  test::InNamespace(tun.ns, [&] {
    const int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    ifreq ifr{};
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, tun.dev.c_str(), IFNAMSIZ - 1);
    ASSERT_EQ(ioctl(fd, TUNSETIFF, &ifr), 0) << std::strerror(errno);
    for (std::int64_t i = 0; i < count; ++i) {
      auto& p = kinds[two_kinds ? i % 2 : 0];
      for (int b = 0; b < 8; ++b) {
        p[kSeqAt + b] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(i) >> (56 - 8 * b));
      }
      written += write(fd, p.data(), p.size()) == static_cast<ssize_t>(p.size());
    }
    close(fd);
  });
  return written;
}

// The read end of the FIFO wgcap writes its pcap stream into. Nobody reads
// it until Start(): wgcap's writer blocks on the full pipe, its consumer
// then on the full session queue, and the kernel ring overflows. That makes
// losses certain on any machine, however fast the consumer, while wgcap
// stays a running process that keeps counting (unlike SIGSTOP). Start()
// reads on a thread until EOF (wgcap exited or was killed), so stopping
// wgcap cannot deadlock on the pipe; the destructor joins that thread, so
// the process must be destroyed first (declare this before it).
class PipeDrain {
public:
  explicit PipeDrain(const std::string& path) {
    if (mkfifo(path.c_str(), 0600) != 0) {
      return;
    }
    // Non-blocking: opening a FIFO for reading waits for a writer otherwise.
    fd_ = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    // The smallest pipe, so that little sits between wgcap and the test.
    (void)fcntl(fd_, F_SETPIPE_SZ, 4096);
  }
  ~PipeDrain() {
    if (reader_.joinable()) {
      reader_.join();
    }
    if (fd_ >= 0) {
      close(fd_);
    }
  }
  PipeDrain(const PipeDrain&) = delete;
  PipeDrain& operator=(const PipeDrain&) = delete;

  bool ok() const { return fd_ >= 0; }
  void Start() {
    (void)fcntl(fd_, F_SETFL, 0); // blocking: read waits for data, 0 at EOF
    reader_ = std::thread([this] {
      std::uint8_t buf[65536];
      for (ssize_t n; (n = read(fd_, buf, sizeof buf)) != 0;) {
        if (n > 0) {
          bytes_.insert(bytes_.end(), buf, buf + n);
        } else if (errno != EINTR) {
          return;
        }
      }
    });
  }
  // After the destructor of the writer's process, or once it exited.
  const std::vector<std::uint8_t>& Finish() {
    if (reader_.joinable()) {
      reader_.join();
    }
    return bytes_;
  }

private:
  int fd_ = -1;
  std::thread reader_;
  std::vector<std::uint8_t> bytes_;
};

// The flood numbers of the packets in a pcap stream (wgcap writes it in the
// host's byte order: little-endian here), and how many are not kind A.
struct Records {
  std::vector<std::int64_t> numbers;
  std::int64_t not_kind_a = 0;
  bool well_formed = true;
};

Records ParsePcap(const std::vector<std::uint8_t>& s) {
  Records r;
  auto u32 = [&s](std::size_t at) {
    return static_cast<std::uint32_t>(s[at] | s[at + 1] << 8 | s[at + 2] << 16 | s[at + 3] << 24);
  };
  if (s.size() < 24 || u32(0) != 0xa1b2c3d4u) {
    r.well_formed = false;
    return r;
  }
  std::size_t at = 24;
  while (at + 16 <= s.size()) {
    const std::size_t len = u32(at + 8);
    at += 16;
    if (at + len > s.size() || len < kSeqAt + 8) {
      r.well_formed = false;
      return r;
    }
    std::int64_t seq = 0;
    for (std::size_t b = 0; b < 8; ++b) {
      seq = seq << 8 | s[at + kSeqAt + b];
    }
    r.numbers.push_back(seq);
    r.not_kind_a += (s[at + 22] << 8 | s[at + 23]) != kPortA; // the UDP destination port
    at += len;
  }
  r.well_formed = at == s.size();
  return r;
}

class LossAccounting : public ::testing::TestWithParam<Param> {
protected:
  void SetUp() override {
    WGCAP_REQUIRE_PRIVILEGES();
    tun_ = std::make_unique<TunNamespace>();
    ASSERT_EQ(tun_->error, "");
  }
  void TearDown() override { tun_.reset(); }

  // wgcap in the namespace, its stdout the FIFO at `fifo`, listening.
  std::unique_ptr<BackgroundProcess> StartWgcap(const std::string& fifo) {
    const auto& [b, f] = GetParam();
    // `ip netns exec`, sh and env all exec: the PID is wgcap's own.
    std::vector<std::string> argv = {
        "ip", "netns", "exec", tun_->ns, "sh", "-c", "exec \"$@\" >'" + fifo + "'", "sh", "env"};
    argv.insert(argv.end(), b.env.begin(), b.env.end());
    argv.insert(argv.end(),
                {test::WgcapBinary(), "-i", tun_->dev, "-B", "1", "--stats", "-w", "-", "--pcap"});
    argv.insert(argv.end(), b.args.begin(), b.args.end());
    argv.insert(argv.end(), f.expression.begin(), f.expression.end());
    auto p = std::make_unique<BackgroundProcess>(argv, dir_.path(), "wgcap");
    EXPECT_TRUE(p->WaitForStderr("listening on " + tun_->dev + " (" + Listening(b) + ")", 10s))
        << p->Stderr();
    return p;
  }

  std::unique_ptr<TunNamespace> tun_;
  test::TempDir dir_;
};

// Asks for the counts (SIGUSR1) until wgcap says it has dealt with all
// `matched` packets, so that SIGINT does not cut a consumer still draining
// its ring. A consumer that loses packets without counting them never gets
// there: then the test fails on the final counts after the timeout.
void WaitUntilAccounted(BackgroundProcess& wgcap, std::int64_t matched) {
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    wgcap.Signal(SIGUSR1);
    std::this_thread::sleep_for(100ms);
    const auto s = LastSummary(wgcap.Stderr());
    if (s && s->received == matched && s->captured + s->lost() == matched) {
      return;
    }
  }
}

TEST_P(LossAccounting, CapturedPlusReportedLossesEqualsMatched) {
  const auto& [backend, filter] = GetParam();
  const std::int64_t matched = filter.two_kinds ? kSent / 2 : kSent;
  PipeDrain drain(dir_.File("pcap.fifo"));
  ASSERT_TRUE(drain.ok()) << std::strerror(errno);
  auto wgcap = StartWgcap(dir_.File("pcap.fifo"));
  ASSERT_FALSE(HasFailure());

  const std::int64_t rx_before = tun_->Counter("rx_packets");
  const std::int64_t tx_before = tun_->Counter("tx_packets");
  ASSERT_EQ(Flood(*tun_, kSent, filter.two_kinds), kSent) << "every write went through";
  EXPECT_EQ(tun_->Counter("rx_packets") - rx_before, kSent) << "the device received the flood";
  EXPECT_EQ(tun_->Counter("tx_packets") - tx_before, 0) << "and sent nothing of its own";

  drain.Start();
  WaitUntilAccounted(*wgcap, matched);
  wgcap->Signal(SIGINT);
  const auto code = wgcap->Wait(30s);
  ASSERT_TRUE(code.has_value()) << "still running 30 s after SIGINT: " << wgcap->Stderr();
  const std::string err = wgcap->Stderr();
  ASSERT_EQ(*code, 0) << err;
  const Records records = ParsePcap(drain.Finish());

  const auto s = LastSummary(err);
  ASSERT_TRUE(s.has_value()) << "no exit summary: " << err;
  EXPECT_EQ(s->received, matched) << "received by filter is what matched: " << err;
  EXPECT_EQ(s->captured + s->lost(), s->received) << "accounted: " << err;
  // Certain by construction (the unread pipe): the test is about losses.
  EXPECT_GT(s->lost(), 0) << "nothing lost although the consumer was held: " << err;
  EXPECT_GT(s->captured, 0) << err;
  if (backend.has_kernel_seen) {
    EXPECT_EQ(StatsField(err, "kernel_seen"), kSent) << "the program ran on every packet: " << err;
  }
  // The JSON says the same as the text; each loss counted in one place.
  EXPECT_EQ(StatsField(err, "packets"), s->captured);
  EXPECT_EQ(StatsField(err, "kernel_matched"), s->received);
  EXPECT_EQ(StatsField(err, "kernel_drops") + StatsField(err, "kernel_ring_drops"),
            s->dropped_kernel);
  EXPECT_EQ(StatsField(err, "dropped"), s->dropped_buffer);

  // The stream holds exactly the captured packets, each once, all matching.
  ASSERT_TRUE(records.well_formed) << "a cut or malformed pcap stream";
  EXPECT_EQ(static_cast<std::int64_t>(records.numbers.size()), s->captured);
  EXPECT_EQ(records.not_kind_a, 0) << "a packet the filter does not match was written";
  const std::set<std::int64_t> unique(records.numbers.begin(), records.numbers.end());
  EXPECT_EQ(unique.size(), records.numbers.size()) << "a packet written twice";
  EXPECT_TRUE(unique.empty() || (*unique.begin() >= 0 && *unique.rbegin() < kSent));
}

INSTANTIATE_TEST_SUITE_P(Backends, LossAccounting,
                         ::testing::Combine(::testing::Values(kAFPacket, kBpfTcx, kBpfClsact),
                                            ::testing::Values(kMatchAll, kMatchHalf)),
                         [](const ::testing::TestParamInfo<Param>& p) {
                           return std::string(std::get<0>(p.param).name) + "_" +
                                  std::get<1>(p.param).name;
                         });

} // namespace
} // namespace wgcap
