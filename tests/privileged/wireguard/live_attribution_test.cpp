// SPDX-License-Identifier: Apache-2.0
// Attribution on a WireGuard server (SPEC 10), live: the testbed's A has two
// peers, B and C, with allowed-ips of their own; echo traffic from each of
// the three ends, IPv4 and IPv6, crosses A's interface, and every packet is
// counted to the right peer in `wgcap -e` text (` peer KEY8`) and in pcapng
// (`peer=KEY` as tshark's frame.comment), with each backend; a `peer`
// filter keeps exactly one peer's packets.
#include <bpf/bpf.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "support/live_wgcap.hpp"
#include "support/subprocess.hpp"

namespace wgcap::test {
namespace {

using namespace std::chrono_literals;

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new LiveTestbed("la", Testbed::Peers::Three));

// What the traffic below puts on A's interface: echo requests and their
// replies, so each ping is one packet in and one out.
struct Expected {
  int b = 0, c = 0; // packets attributed to B, to C
};

class LiveAttribution : public LiveTest, public ::testing::WithParamInterface<Backend> {
protected:
  void SetUp() override {
    LiveTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    ASSERT_EQ(testbed_->key_b.size(), 44u) << testbed_->up_output();
    ASSERT_EQ(testbed_->key_c.size(), 44u) << testbed_->up_output();
    ASSERT_NE(testbed_->key_b.substr(0, 8), testbed_->key_c.substr(0, 8));
  }

  static void PingIn(const std::vector<std::string>& in_ns, const std::string& to, int count) {
    std::vector<std::string> argv = in_ns;
    argv.insert(argv.end(), {"ping", "-c", std::to_string(count), "-i", "0.05", "-W", "2", to});
    const auto r = test::Run(argv);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  // Distinct counts per peer and family, so a swap or a lost family shows.
  Expected SendFromEveryEnd() {
    const Testbed& t = *testbed_;
    PingIn(t.InB({}), t.addr_a, 3);
    PingIn(t.InB({}), t.addr6_a, 2);
    PingIn(t.InC({}), t.addr_a, 4);
    PingIn(t.InC({}), t.addr6_a, 1);
    Ping(t.addr_b, 1); // from the server: attributed by destination
    Ping(t.addr6_c, 2);
    return Expected{.b = 2 * (3 + 2 + 1), .c = 2 * (4 + 1 + 2)};
  }

  // Runs wgcap with `args` while the traffic flows; returns its text.
  std::string Capture(const std::vector<std::string>& args, Expected& expected) {
    auto wgcap = StartWgcap(GetParam(), args);
    expected = SendFromEveryEnd();
    std::this_thread::sleep_for(300ms);
    wgcap->Signal(SIGINT);
    EXPECT_EQ(wgcap->Wait(10s), std::optional<int>(0)) << wgcap->Stderr();
    return wgcap->Stdout();
  }

  // The peers are read again while the capture runs (every 500 ms). `change`
  // routes 203.0.113.0/24 through A's interface to a peer after wgcap (run
  // with `args`) started; a second later A pings 203.0.113.5 three times
  // (nobody answers: no replies). Returns wgcap's text. The route and what
  // `undo` names are removed again, also when an assertion fails.
  std::string CaptureAfterChange(const std::vector<std::string>& args,
                                 const std::vector<std::string>& change,
                                 const std::vector<std::string>& undo) {
    const Testbed& t = *testbed_;
    auto wgcap = StartWgcap(GetParam(), args);
    struct Restore {
      const Testbed& t;
      std::vector<std::string> undo;
      ~Restore() {
        test::Run(t.InA(undo));
        test::Run(t.InA({"ip", "route", "del", "203.0.113.0/24", "dev", t.if_a}));
      }
    } restore{t, undo};
    const auto routed = test::Run(t.InA({"ip", "route", "add", "203.0.113.0/24", "dev", t.if_a}));
    const auto changed = test::Run(t.InA(change));
    if (routed.exit_code != 0 || changed.exit_code != 0) {
      ADD_FAILURE() << "set-up failed: " << routed.err << changed.err;
      return {};
    }
    std::this_thread::sleep_for(1s);
    test::Run(t.InA({"ping", "-c", "3", "-i", "0.05", "-W", "1", "203.0.113.5"}));
    std::this_thread::sleep_for(300ms);
    wgcap->Signal(SIGINT);
    EXPECT_EQ(wgcap->Wait(10s), std::optional<int>(0)) << wgcap->Stderr();
    return wgcap->Stdout();
  }

  std::string Short(const std::string& key) const { return "peer " + key.substr(0, 8) + " "; }
};

TEST_P(LiveAttribution, EveryPacketCountedToItsPeerInTextAndPcapng) {
  const std::string file = dir_.File("peers.pcapng");
  Expected want;
  const std::string text = Capture({"-e", "--print", "-w", file, "icmp or icmp6"}, want);
  const Testbed& t = *testbed_;
  EXPECT_EQ(CountOf(text, Short(t.key_b)), want.b) << text;
  EXPECT_EQ(CountOf(text, Short(t.key_c)), want.c) << text;
  EXPECT_EQ(CountOf(text, "\n"), want.b + want.c) << "every line attributed:\n" << text;
  // Half of each peer's packets came in through the tunnel.
  EXPECT_EQ(CountOf(text, "[IN  ICMP] " + Short(t.key_b)), want.b / 2) << text;
  EXPECT_EQ(CountOf(text, "[OUT ICMP] " + Short(t.key_c)), want.c / 2) << text;

  const auto comments = test::Run({"tshark", "-r", file, "-T", "fields", "-e", "frame.comment"});
  ASSERT_EQ(comments.exit_code, 0) << comments.err;
  EXPECT_EQ(CountOf(comments.out, "peer=" + t.key_b + "\n"), want.b) << comments.out;
  EXPECT_EQ(CountOf(comments.out, "peer=" + t.key_c + "\n"), want.c) << comments.out;
  EXPECT_EQ(TcpdumpCount(file), want.b + want.c);
}

// `peer PREFIX` keeps one peer's packets, in the kernel (bpf) or the socket
// filter and the Matcher (afpacket).
TEST_P(LiveAttribution, PeerFilterKeepsOnePeer) {
  const Testbed& t = *testbed_;
  Expected want;
  const std::string text = Capture({"-e", "peer", t.key_c.substr(0, 8)}, want);
  EXPECT_EQ(CountOf(text, Short(t.key_c)), want.c) << text;
  EXPECT_EQ(CountOf(text, "\n"), want.c) << "only C's packets:\n" << text;
}

// B's allowed-ips, grown by 203.0.113.0/24 after wgcap started, attribute
// the server's packets to that network to B within a second, and B's `peer`
// filter (in the kernel's LPM trie with bpf) keeps them.
TEST_P(LiveAttribution, AllowedIpsAddedWhileCapturingAreAttributedWithinASecond) {
  const Testbed& t = *testbed_;
  const auto shown = test::Run(t.InA({"wg", "show", t.if_a, "allowed-ips"}));
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  std::string before; // B's allowed-ips now, comma-separated
  for (std::istringstream lines(shown.out); std::getline(lines, before);) {
    if (before.rfind(t.key_b + "\t", 0) == 0) {
      before = before.substr(t.key_b.size() + 1);
      std::replace(before.begin(), before.end(), ' ', ',');
      break;
    }
    before.clear();
  }
  ASSERT_FALSE(before.empty()) << shown.out;
  const std::string text = CaptureAfterChange(
      {"-e", "peer", t.key_b.substr(0, 8), "and", "icmp"},
      {"wg", "set", t.if_a, "peer", t.key_b, "allowed-ips", before + ",203.0.113.0/24"},
      {"wg", "set", t.if_a, "peer", t.key_b, "allowed-ips", before});
  EXPECT_EQ(CountOf(text, "[OUT ICMP] " + Short(t.key_b)), 3) << text;
  EXPECT_EQ(CountOf(text, "203.0.113.5"), 3) << text;
  EXPECT_EQ(CountOf(text, "\n"), 3) << text;
}

// A peer that did not exist when wgcap started (a new key, D, given
// 203.0.113.0/24) is attributed within a second, in text and in pcapng.
TEST_P(LiveAttribution, PeerAddedWhileCapturingIsAttributedWithinASecond) {
  const Testbed& t = *testbed_;
  const auto private_key = test::Run({"wg", "genkey"});
  ASSERT_EQ(private_key.exit_code, 0) << private_key.err;
  auto key_d = test::Run({"wg", "pubkey"}, private_key.out).out;
  key_d.erase(key_d.find_last_not_of("\n") + 1);
  ASSERT_EQ(key_d.size(), 44u) << key_d;
  const std::string file = dir_.File("new-peer.pcapng");
  const std::string text =
      CaptureAfterChange({"-e", "--print", "-w", file, "icmp"},
                         {"wg", "set", t.if_a, "peer", key_d, "allowed-ips", "203.0.113.0/24"},
                         {"wg", "set", t.if_a, "peer", key_d, "remove"});
  EXPECT_EQ(CountOf(text, "[OUT ICMP] " + Short(key_d)), 3) << text;
  EXPECT_EQ(CountOf(text, "\n"), 3) << text;
  const auto comments = test::Run({"tshark", "-r", file, "-T", "fields", "-e", "frame.comment"});
  ASSERT_EQ(comments.exit_code, 0) << comments.err;
  EXPECT_EQ(CountOf(comments.out, "peer=" + key_d + "\n"), 3) << comments.out;
}

INSTANTIATE_TEST_SUITE_P(Backends, LiveAttribution, ::testing::Values(kAFPacket, kBpfTcx),
                         [](const auto& p) { return std::string(p.param.name); });

// Entries of the wgcap_peers map process `pid` holds, found through its
// file descriptors (others' captures run beside it); -1 when it holds none.
int PeerTableEntriesOf(pid_t pid) {
  std::set<std::uint32_t> lpm_ids;
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fdinfo", ec)) {
    std::ifstream in(e.path());
    bool lpm = false;
    std::uint32_t id = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("map_type:", 0) == 0) {
        lpm = std::stoi(line.substr(9)) == BPF_MAP_TYPE_LPM_TRIE;
      } else if (line.rfind("map_id:", 0) == 0) {
        id = static_cast<std::uint32_t>(std::stoul(line.substr(7)));
      }
    }
    if (lpm && id != 0) {
      lpm_ids.insert(id);
    }
  }
  int entries = -1;
  for (const std::uint32_t id : lpm_ids) {
    const int fd = bpf_map_get_fd_by_id(id);
    bpf_map_info info{};
    std::uint32_t length = sizeof info;
    if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &length) == 0 &&
        std::string(info.name) == "wgcap_peers") {
      std::vector<std::uint8_t> key(info.key_size), next(info.key_size);
      entries = 0;
      for (const void* at = nullptr; bpf_map_get_next_key(fd, at, next.data()) == 0;
           at = key.data()) {
        key = next;
        ++entries;
      }
    }
    if (fd >= 0) {
      close(fd);
    }
  }
  return entries;
}

class LivePeerTable : public LiveTest {};

// Only a `peer` term needs the kernel's copy of the peers: without one the
// bpf capture leaves wgcap_peers empty (so a server with more allowed-ips
// than it holds keeps bpf), yet every packet is still attributed in the
// output; with one it holds each allowed-ip of A's peers.
TEST_F(LivePeerTable, FilledOnlyForPeerTerms) {
  const Testbed& t = *testbed_;
  const auto shown = test::Run(t.InA({"wg", "show", t.if_a, "allowed-ips"}));
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  int allowed_ips = 0; // each line: KEY, a tab, the prefixes
  std::istringstream lines(shown.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line.substr(line.find('\t') + 1));
    for (std::string word; words >> word;) {
      allowed_ips += word.find('/') != std::string::npos ? 1 : 0;
    }
  }
  ASSERT_GE(allowed_ips, 4) << shown.out; // B's and C's, IPv4 and IPv6

  auto plain = StartWgcap(kBpfTcx, {"-e", "icmp"});
  EXPECT_EQ(PeerTableEntriesOf(plain->pid()), 0) << "no `peer`, no kernel table";
  Ping(t.addr_b, 1);
  std::this_thread::sleep_for(300ms);
  plain->Signal(SIGINT);
  EXPECT_EQ(plain->Wait(10s), std::optional<int>(0)) << plain->Stderr();
  EXPECT_EQ(CountOf(plain->Stdout(), "peer " + t.key_b.substr(0, 8) + " "), 2) << plain->Stdout();

  auto filtered = StartWgcap(kBpfTcx, {"-e", "peer", t.key_b.substr(0, 8)});
  EXPECT_EQ(PeerTableEntriesOf(filtered->pid()), allowed_ips) << shown.out;
  filtered->Signal(SIGINT);
  EXPECT_EQ(filtered->Wait(10s), std::optional<int>(0)) << filtered->Stderr();
}

} // namespace
} // namespace wgcap::test
