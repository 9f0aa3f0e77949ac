// SPDX-License-Identifier: Apache-2.0
// Faults during a live capture (SPEC 7), with each backend (afpacket, bpf on
// tcx, bpf on clsact) on a WireGuard testbed of each test's own: the capture
// interface deleted under a running wgcap, and a ring far too small for a
// UDP flood, whose every lost packet must be counted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <regex>
#include <set>
#include <thread>

#include "base/unique_fd.hpp"
#include "file/pcap_reader.hpp"
#include "support/background_process.hpp"
#include "support/live_wgcap.hpp"
#include "support/privileges.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "support/testbed.hpp"

namespace wgcap {
namespace {

using namespace std::chrono_literals;
using test::BackgroundProcess;
using test::StatsField;
using ::testing::HasSubstr;

struct Backend {
  const char* name;
  std::vector<std::string> env;  // e.g. WGCAP_TC_ATTACH=clsact
  std::vector<std::string> args; // --mode ...
  const char* listening;         // what the listening line names
};

const Backend kAFPacket{"afpacket", {}, {"--mode", "afpacket"}, "afpacket"};
const Backend kBpfTcx{"bpf_tcx", {}, {"--mode", "bpf"}, "bpf/tcx"};
const Backend kBpfClsact{"bpf_clsact", {"WGCAP_TC_ATTACH=clsact"}, {"--mode", "bpf"}, "bpf/tc"};

// Test names then read "# GetParam() = afpacket", not the struct's bytes.
void PrintTo(const Backend& b, std::ostream* os) {
  *os << b.name;
}

// Without tcx (before 6.6) the default attachment is clsact.
std::string Listening(const Backend& b) {
  const std::string named = b.listening;
  return named == "bpf/tcx" && !test::KernelHasTcx() ? "bpf/tc" : named;
}

int CountLines(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// The BPF programs a process holds (programs and links alike name theirs in
// /proc/PID/fdinfo).
std::set<std::uint32_t> ProgramIds(pid_t pid) {
  std::set<std::uint32_t> ids;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fdinfo", ec)) {
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("prog_id:", 0) == 0) {
        ids.insert(static_cast<std::uint32_t>(std::stoul(line.substr(8))));
      }
    }
  }
  return ids;
}

// Whether the kernel still has program `id`: anything attached (a tc
// filter, a tcx link) or any open fd keeps it.
bool ProgramExists(std::uint32_t id) {
  const int fd = bpf_prog_get_fd_by_id(id);
  if (fd >= 0) {
    close(fd);
    return true;
  }
  return errno != ENOENT;
}

// The programs a wgcap that exited held are gone from the kernel. It frees
// them when the last reference goes, partly from a work queue: allow it a
// moment.
void ExpectReleased(const std::set<std::uint32_t>& programs) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  std::set<std::uint32_t> left = programs;
  while (!left.empty() && std::chrono::steady_clock::now() < deadline) {
    std::erase_if(left, [](std::uint32_t id) { return !ProgramExists(id); });
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(left.empty()) << left.size() << " of wgcap's programs are still loaded";
}

class LiveFault : public ::testing::TestWithParam<Backend> {
protected:
  void SetUp() override {
    WGCAP_REQUIRE_PRIVILEGES();
    // Its own testbed: one test deletes an interface of it, the other
    // changes its qdisc. Down in TearDown, also when the test failed.
    testbed_ = std::make_unique<test::Testbed>("lf");
    ASSERT_TRUE(testbed_->up()) << testbed_->up_output();
  }
  void TearDown() override { testbed_.reset(); }

  std::unique_ptr<BackgroundProcess> StartWgcap(const std::vector<std::string>& args) {
    const Backend& b = GetParam();
    std::vector<std::string> argv = {"env"};
    argv.insert(argv.end(), b.env.begin(), b.env.end());
    argv.insert(argv.end(), {test::WgcapBinary(), "-i", testbed_->if_a});
    argv.insert(argv.end(), b.args.begin(), b.args.end());
    argv.insert(argv.end(), args.begin(), args.end());
    // `ip netns exec` and env exec, so the PID is wgcap's own.
    auto p = std::make_unique<BackgroundProcess>(testbed_->InA(argv), dir_.path(), "wgcap");
    EXPECT_TRUE(p->WaitForStderr("listening on " + testbed_->if_a + " (" + Listening(b) + ")", 10s))
        << p->Stderr();
    return p;
  }

  // Packets that left A's tunnel interface: handed to wireguard-go or
  // dropped by the TUN driver when wireguard-go fell behind (both after
  // both capture points).
  std::int64_t TxPackets() const {
    std::int64_t total = 0;
    for (const char* counter : {"tx_packets", "tx_dropped"}) {
      const auto r = test::Run(testbed_->InA(
          {"cat", "/sys/class/net/" + testbed_->if_a + "/statistics/" + std::string(counter)}));
      EXPECT_EQ(r.exit_code, 0) << r.err;
      total += std::atoll(r.out.c_str());
    }
    return total;
  }

  std::unique_ptr<test::Testbed> testbed_;
  test::TempDir dir_;
};

// SPEC 7: the interface vanishes while wgcap writes a file. wgcap stops by
// itself with exit 1 and a message naming the interface, the file keeps
// what was captured before, and nothing wgcap loaded stays in the kernel.
TEST_P(LiveFault, InterfaceRemovedStopsWithExitOneAndKeepsTheFile) {
  const std::string out = dir_.File("removed.pcap");
  auto wgcap = StartWgcap({"-w", out, "icmp"});
  const std::set<std::uint32_t> programs = ProgramIds(wgcap->pid());
  EXPECT_EQ(programs.empty(), std::string(GetParam().name) == "afpacket")
      << "the bpf backends hold their programs, afpacket none";
  const auto ping =
      test::Run(testbed_->InA({"ping", "-c", "3", "-i", "0.05", "-W", "2", testbed_->addr_b}));
  ASSERT_EQ(ping.exit_code, 0) << ping.out << ping.err;

  const auto del = test::Run(testbed_->InA({"ip", "link", "del", testbed_->if_a}));
  ASSERT_EQ(del.exit_code, 0) << del.err;
  const auto code = wgcap->Wait(10s);
  ASSERT_TRUE(code.has_value()) << "still running after its interface was removed: "
                                << wgcap->Stderr();
  const std::string err = wgcap->Stderr();
  EXPECT_EQ(*code, 1) << err;
  // afpacket says "Network is down; the interface went down or was
  // removed", bpf "the interface was removed".
  EXPECT_THAT(err, ::testing::ContainsRegex("wgcap: capture on " + testbed_->if_a +
                                            ": [^\n]*was removed\n"));
  EXPECT_THAT(err, HasSubstr("6 packets captured\n"));

  const auto read = test::Run({"tcpdump", "-nn", "-r", out});
  EXPECT_EQ(read.exit_code, 0) << "a complete file: " << read.err;
  EXPECT_EQ(CountLines(read.out, "ICMP echo request"), 3) << read.out;
  EXPECT_EQ(CountLines(read.out, "ICMP echo reply"), 3) << read.out;

  // The device took its hooks with it; what could stay is a program kept by
  // a link or fd wgcap failed to release.
  ExpectReleased(programs);
}

// The interface set down (not removed): no more packets can come, so wgcap
// stops as tcpdump does, with exit 1, a message and the file complete, and
// (the device still being there) takes its hooks off it.
TEST_P(LiveFault, InterfaceSetDownStopsWithExitOneAndDetaches) {
  const std::string out = dir_.File("down.pcap");
  auto wgcap = StartWgcap({"-w", out, "icmp"});
  const std::set<std::uint32_t> programs = ProgramIds(wgcap->pid());
  const auto ping =
      test::Run(testbed_->InA({"ping", "-c", "2", "-i", "0.05", "-W", "2", testbed_->addr_b}));
  ASSERT_EQ(ping.exit_code, 0) << ping.out << ping.err;

  const auto down = test::Run(testbed_->InA({"ip", "link", "set", testbed_->if_a, "down"}));
  ASSERT_EQ(down.exit_code, 0) << down.err;
  const auto code = wgcap->Wait(10s);
  ASSERT_TRUE(code.has_value()) << "still running after its interface went down: "
                                << wgcap->Stderr();
  const std::string err = wgcap->Stderr();
  EXPECT_EQ(*code, 1) << err;
  EXPECT_THAT(
      err, ::testing::ContainsRegex("wgcap: capture on " + testbed_->if_a + ": [^\n]*went down"));
  EXPECT_THAT(err, HasSubstr("4 packets captured\n"));
  const auto read = test::Run({"tcpdump", "-nn", "-r", out});
  EXPECT_EQ(read.exit_code, 0) << "a complete file: " << read.err;
  EXPECT_EQ(CountLines(read.out, "ICMP echo"), 4) << read.out;
  ExpectReleased(programs);
  const auto filters =
      test::Run(testbed_->InA({"tc", "filter", "show", "dev", testbed_->if_a, "ingress"}));
  EXPECT_EQ(filters.out, "") << "a filter left on the device";
}

// A connected UDP socket sending numbered datagrams and counting the sends
// the kernel took.
class NumberedFlood {
public:
  explicit NumberedFlood(int fd) : fd_(fd) {}

  // One datagram carrying the next number; false when send() refused it.
  bool SendOne() {
    std::uint8_t payload[kPayload] = {};
    const std::uint64_t seq = sent_;
    for (int i = 0; i < 8; ++i) {
      payload[i] = static_cast<std::uint8_t>(seq >> (56 - 8 * i));
    }
    if (send(fd_, payload, sizeof payload, 0) != static_cast<ssize_t>(sizeof payload)) {
      ++errors_;
      return false;
    }
    ++sent_;
    return true;
  }

  // As fast as it goes, for `duration` and at least `min_count` datagrams.
  void Flood(std::chrono::milliseconds duration, std::uint64_t min_count = 0) {
    const std::uint64_t start_count = sent_;
    const auto end = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < end || sent_ - start_count < min_count) {
      for (int i = 0; i < 64; ++i) {
        SendOne();
      }
      ASSERT_LT(errors_, 1000u) << "send: " << std::strerror(errno);
    }
  }

  std::uint64_t sent() const noexcept { return sent_; }
  std::uint64_t errors() const noexcept { return errors_; }

  // 128-byte IPv4 packets, as bench/udp_flood sends by default.
  static constexpr std::size_t kPayload = 128 - 28;

private:
  int fd_;
  std::uint64_t sent_ = 0;
  std::uint64_t errors_ = 0;
};

// The flood's numbers in a capture file, in file order.
std::vector<std::uint64_t> FloodNumbers(const std::string& path) {
  std::vector<std::uint64_t> numbers;
  auto in = ByteReader::OpenFile(path);
  if (!in) {
    ADD_FAILURE() << in.error().message;
    return numbers;
  }
  auto reader = OpenCaptureFile(std::move(in).value());
  if (!reader) {
    ADD_FAILURE() << reader.error().message;
    return numbers;
  }
  FileRecord record;
  for (;;) {
    auto more = (*reader)->Next(record);
    if (!more || !*more) {
      EXPECT_TRUE(more.ok()) << more.error().message;
      return numbers;
    }
    const auto& b = record.bytes; // raw IP: the device has no link header
    const std::size_t at = b.empty() ? 0 : (b[0] & 0x0f) * 4u + 8u;
    if (b.size() < at + 8 || b[0] >> 4 != 4) {
      ADD_FAILURE() << "not an IPv4 datagram of the flood at offset " << record.file_offset;
      continue;
    }
    std::uint64_t seq = 0;
    for (std::size_t i = 0; i < 8; ++i) {
      seq = seq << 8 | b[at + i];
    }
    numbers.push_back(seq);
  }
}

// SPEC 7, every lost packet counted: the smallest buffer (-B 1) under a UDP
// flood through the tunnel, with wgcap stopped (SIGSTOP) for part of it so
// the ring overflows on any machine, however fast wgcap drains it. wgcap
// keeps capturing after the losses, exits 0, and what the sender sent equals
// what wgcap captured plus every drop it reports, wherever they happened
// (kernel ring, AF_PACKET, session queue).
TEST_P(LiveFault, RingOverflowUnderFloodIsCountedExactly) {
  const std::string& a = testbed_->if_a;
  // wireguard-go's TUN device gets a qdisc (pfifo_fast); kernel WireGuard's
  // has none. Without one, both capture points (TC egress comes before a
  // qdisc, the AF_PACKET tap after it) see each datagram inside the send()
  // that hands it over, and nothing drops it before them: the sender's count
  // is the count at the interface. wireguard-go falling behind drops only
  // after both (TUN tx_dropped), which send() does not report unless the
  // socket has IP_RECVERR (then as ENOBUFS): so it has not.
  const auto noqueue =
      test::Run(testbed_->InA({"tc", "qdisc", "replace", "dev", a, "root", "noqueue"}));
  ASSERT_EQ(noqueue.exit_code, 0) << noqueue.err;

  constexpr std::uint16_t kPort = 9000;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(kPort);
  ASSERT_EQ(inet_pton(AF_INET, testbed_->addr_b.c_str(), &to.sin_addr), 1);
  // B binds the port and never reads: the flood ends there silently instead
  // of drawing ICMP port unreachable (which would fail the next send()).
  UniqueFd sink, sender;
  test::InNamespace(testbed_->ns_b, [&] {
    sink.Reset(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    const int one = 1;
    ASSERT_EQ(setsockopt(sink.get(), SOL_SOCKET, SO_RCVBUF, &one, sizeof one), 0);
    ASSERT_EQ(bind(sink.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to), 0)
        << std::strerror(errno);
  });
  test::InNamespace(testbed_->ns_a, [&] {
    sender.Reset(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(connect(sender.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to), 0)
        << std::strerror(errno);
  });
  ASSERT_TRUE(sink.valid() && sender.valid());

  const std::string out = dir_.File("flood.pcap");
  auto wgcap = StartWgcap({"-B", "1", "--stats", "-w", out, "udp and dst port 9000"});
  const std::int64_t tx_before = TxPackets();
  NumberedFlood flood(sender.get());
  flood.Flood(1s);
  // 60000 datagrams of 128 bytes are several times what a 1 MiB ring holds.
  wgcap->Signal(SIGSTOP);
  flood.Flood(500ms, 60000);
  wgcap->Signal(SIGCONT);
  const std::uint64_t resumed = flood.sent();
  flood.Flood(1s);
  // Then, once wgcap has long caught up, a slow tail it cannot miss.
  std::this_thread::sleep_for(1s);
  const std::uint64_t tail = flood.sent();
  for (int i = 0; i < 200; ++i) {
    flood.SendOne();
    std::this_thread::sleep_for(2ms);
  }
  const std::uint64_t sent = flood.sent();
  ASSERT_FALSE(HasFatalFailure());

  // Everything sent has left the interface (the tap may run after send()
  // returned where a device has a qdisc; here it is a check of the above).
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::int64_t at_interface = 0;
  while ((at_interface = TxPackets() - tx_before) < static_cast<std::int64_t>(sent) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(at_interface, static_cast<std::int64_t>(sent))
      << "the interface counted what the sender counted, and nothing else";

  wgcap->Signal(SIGINT);
  const auto code = wgcap->Wait(30s);
  ASSERT_TRUE(code.has_value()) << "still running 30 s after SIGINT: " << wgcap->Stderr();
  const std::string err = wgcap->Stderr();
  ASSERT_EQ(*code, 0) << err;

  const std::int64_t captured = StatsField(err, "packets");
  const std::int64_t drops = StatsField(err, "dropped") + StatsField(err, "kernel_ring_drops") +
                             StatsField(err, "kernel_drops");
  const std::string summary = "sent " + std::to_string(sent) + " (" +
                              std::to_string(flood.errors()) + " send errors), wgcap: " + err;
  EXPECT_GT(drops, 0) << "the ring overflowed while wgcap was stopped: " << summary;
  EXPECT_EQ(captured + drops, static_cast<std::int64_t>(sent))
      << "every packet sent was captured or reported lost: " << summary;
  EXPECT_EQ(StatsField(err, "kernel_matched"), static_cast<std::int64_t>(sent)) << summary;
  // The text summary says the same as the JSON.
  EXPECT_THAT(err, HasSubstr("\n" + std::to_string(captured) + " packets captured\n"));

  // The file holds exactly the packets counted as captured, each once, and
  // captures went on after the losses: some of the flood after SIGCONT and
  // all of the slow tail.
  const std::vector<std::uint64_t> numbers = FloodNumbers(out);
  EXPECT_EQ(static_cast<std::int64_t>(numbers.size()), captured);
  std::vector<bool> seen(sent, false);
  std::uint64_t after_resume = 0, of_tail = 0, duplicates = 0;
  for (const std::uint64_t n : numbers) {
    ASSERT_LT(n, sent) << "a number the flood never sent";
    duplicates += seen[n];
    seen[n] = true;
  }
  for (std::uint64_t n = resumed; n < sent; ++n) {
    (n < tail ? after_resume : of_tail) += seen[n];
  }
  EXPECT_EQ(duplicates, 0u);
  EXPECT_GT(after_resume, 0u) << "nothing captured of the flood after SIGCONT: " << summary;
  EXPECT_EQ(of_tail, sent - tail) << "the slow tail after the flood: " << summary;
}

INSTANTIATE_TEST_SUITE_P(Backends, LiveFault, ::testing::Values(kAFPacket, kBpfTcx, kBpfClsact),
                         [](const ::testing::TestParamInfo<Backend>& b) { return b.param.name; });

} // namespace
} // namespace wgcap
