// SPDX-License-Identifier: Apache-2.0
// `wgcap -r FILE --wg-peers DUMP 'peer KEY'` (SPEC 10), run as a user would:
// the dump's peers attribute the file's packets, `peer` keeps exactly one
// peer's, and a key prefix that names no peer or several is refused with
// the candidates.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "support/packet_builder.hpp"
#include "support/pcapng_builder.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/pcap_writer.hpp"
#include "wireguard/peer_table.hpp"

namespace wgcap {
namespace {

using test::PacketBuilder;
using test::ProcessResult;
using ::testing::HasSubstr;
using ::testing::Not;

PeerKey MakeKey(std::uint8_t first, std::uint8_t fifth) {
  PeerKey k{};
  for (std::size_t i = 0; i < k.size(); ++i) {
    k[i] = static_cast<std::uint8_t>(0x30 + i);
  }
  k[0] = first;
  k[5] = fifth;
  return k;
}
// Alice and Bob share their first six base64 characters; Carol does not.
const std::string kAlice = wireguard::KeyToBase64(MakeKey(0x10, 0x35));
const std::string kBob = wireguard::KeyToBase64(MakeKey(0x10, 0xf0));
const std::string kCarol = wireguard::KeyToBase64(MakeKey(0x90, 0x35));

// `wg show wg0 dump`: the interface line, then one line per peer.
std::string Dump() {
  const std::string tail = "\t0\t0\t0\toff\n";
  return "cHJpdmF0ZSBrZXkgbm90IHVzZWQgaGVyZSEhISEhISE=\t" + kCarol + "\t51820\toff\n" + kAlice +
         "\t(none)\t203.0.113.1:51820\t192.0.2.0/25,2001:db8:a::/48" + tail + kBob +
         "\t(none)\t203.0.113.2:51820\t192.0.2.128/25" + tail + kCarol +
         "\t(none)\t(none)\t198.51.100.0/24,2001:db8:c::/48" + tail;
}

// A pcap records no direction: a packet is its source's peer's, else its
// destination's.
std::vector<std::vector<std::uint8_t>> Traffic() {
  return {
      PacketBuilder::Ipv4("192.0.2.5", "10.0.0.1").Udp(1, 2).Build(),          // 0 alice
      PacketBuilder::Ipv4("10.0.0.1", "192.0.2.5").Tcp(3, 4).Build(),          // 1 alice (dst)
      PacketBuilder::Ipv4("192.0.2.200", "10.0.0.1").Tcp(5, 6).Build(),        // 2 bob
      PacketBuilder::Ipv6("2001:db8:a::9", "2001:db8::1").Udp(7, 8).Build(),   // 3 alice
      PacketBuilder::Ipv6("2001:db8:c::7", "2001:db8::1").Tcp(9, 10).Build(),  // 4 carol
      PacketBuilder::Ipv4("203.0.113.50", "203.0.113.51").Tcp(11, 12).Build(), // 5 nobody
      PacketBuilder::Ipv4("198.51.100.9", "192.0.2.5").Udp(13, 14).Build(),    // 6 carol (src)
  };
}

class CliWgPeers : public ::testing::Test {
protected:
  void SetUp() override {
    MemoryWriter out;
    PcapWriter writer(out, 65535);
    ASSERT_TRUE(writer.WriteHeader().ok());
    std::int64_t ts = 1'700'000'000'000'000'000;
    for (const auto& p : Traffic()) {
      ASSERT_TRUE(writer.WritePacket(ts += 1000, p).ok());
    }
    input_ = dir_.File("in.pcap");
    test::WriteFileBytes(input_, out.bytes());
    // The same packets as wgcap writes them into pcapng: some attributed
    // when captured (packet 0 to Carol, though the dump now routes its
    // address to Alice), others not.
    test::PcapngBuilder recorded;
    recorded.Interface(101);
    const auto traffic = Traffic();
    const std::vector<std::string> peer_of = {kCarol, "", kBob, kAlice, "", "", ""};
    for (std::size_t i = 0; i < traffic.size(); ++i) {
      std::vector<std::string> comments;
      if (!peer_of[i].empty()) {
        comments.push_back("peer=" + peer_of[i]);
      }
      recorded.EpbWithComments(0, 1000 * (i + 1), traffic[i], 0, comments);
    }
    recorded_ = dir_.File("recorded.pcapng");
    test::WriteFileBytes(recorded_, recorded.bytes);
    dump_ = dir_.File("wg0.dump");
    const std::string text = Dump();
    test::WriteFileBytes(dump_, {text.begin(), text.end()});
  }

  ProcessResult Wgcap(std::vector<std::string> args) {
    args.insert(args.begin(), test::WgcapBinary());
    return test::Run(args);
  }

  // The packets of Traffic() a filter keeps, by index, read back from -w.
  // `input` (pcap, by default) is read with --wg-peers when `with_dump`.
  std::vector<int> Kept(const std::string& expression, const std::string& input = {},
                        bool with_dump = true) {
    const std::string out = dir_.File("out.pcap");
    std::vector<std::string> args = {"-r", input.empty() ? input_ : input, "-w", out, expression};
    if (with_dump) {
      args.insert(args.begin(), {"--wg-peers", dump_});
    }
    const ProcessResult r = Wgcap(args);
    EXPECT_EQ(r.exit_code, 0) << expression << ": " << r.err;
    const std::vector<std::uint8_t> file = test::ReadFileBytes(out);
    const auto traffic = Traffic();
    std::vector<int> kept;
    // Each record: 16-byte header, then the packet; the order is the file's.
    for (std::size_t at = 24; at + 16 <= file.size();) {
      const std::uint32_t len = file[at + 8] | file[at + 9] << 8 | file[at + 10] << 16 |
                                static_cast<std::uint32_t>(file[at + 11]) << 24;
      const std::vector<std::uint8_t> bytes(file.begin() + at + 16, file.begin() + at + 16 + len);
      const auto it = std::find(traffic.begin(), traffic.end(), bytes);
      kept.push_back(it == traffic.end() ? -1 : static_cast<int>(it - traffic.begin()));
      at += 16 + len;
    }
    return kept;
  }

  test::TempDir dir_;
  std::string input_;
  std::string recorded_; // pcapng with peer comments
  std::string dump_;
};

TEST_F(CliWgPeers, PeerKeepsExactlyThatPeersPackets) {
  EXPECT_EQ(Kept("peer " + kAlice.substr(0, 7)), (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(Kept("peer " + kBob.substr(0, 7)), (std::vector<int>{2}));
  EXPECT_EQ(Kept("peer " + kCarol), (std::vector<int>{4, 6}));
  EXPECT_EQ(Kept("peer " + kCarol.substr(0, 4) + " and tcp"), (std::vector<int>{4}));
  EXPECT_EQ(Kept("not peer " + kAlice.substr(0, 7) + " and tcp"), (std::vector<int>{2, 4, 5}));
  EXPECT_EQ(Kept("peer " + kBob.substr(0, 7) + " or ip6"), (std::vector<int>{2, 3, 4}));
}

TEST_F(CliWgPeers, CountsOnStderr) {
  const ProcessResult r =
      Wgcap({"-r", input_, "--wg-peers", dump_, "-w", dir_.File("o.pcap"), "peer " + kAlice});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("7 packets read, 3 matched, 3 written"));
  // Without an expression every packet is written, attributed or not.
  const ProcessResult all = Wgcap({"-r", input_, "--wg-peers", dump_, "-w", dir_.File("all.pcap")});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_THAT(all.err, HasSubstr("7 packets read, 7 matched, 7 written"));
}

TEST_F(CliWgPeers, AmbiguousPrefixNamesTheCandidates) {
  const std::string prefix = kAlice.substr(0, 6);
  ASSERT_EQ(prefix, kBob.substr(0, 6));
  const ProcessResult r = Wgcap({"-r", input_, "--wg-peers", dump_, "tcp and peer " + prefix});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("wgcap: filter: column 9: peer \"" + prefix + "\" is ambiguous on " +
                               dump_ + ": " + kAlice.substr(0, 8) + ", " + kBob.substr(0, 8)));
  EXPECT_THAT(r.err, HasSubstr("\n  tcp and peer " + prefix + "\n          ^\n"));
  EXPECT_EQ(r.out, "");
}

TEST_F(CliWgPeers, UnknownPrefixNamesThePeers) {
  const ProcessResult r = Wgcap({"-r", input_, "--wg-peers", dump_, "peer zzzz"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("column 1: peer \"zzzz\" is no peer of " + dump_ +
                               " (its peers: " + kAlice.substr(0, 8) + ", " + kBob.substr(0, 8) +
                               ", " + kCarol.substr(0, 8) + ")"));
}

TEST_F(CliWgPeers, PeerWithoutPeersSaysWhereTheyComeFrom) {
  const std::string give =
      "; give the whole key, or --wg-peers FILE (the output of `wg show IFACE dump`)";
  const std::string prefix = kAlice.substr(0, 5);
  const ProcessResult r = Wgcap({"-r", input_, "udp or peer " + prefix});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("column 8: \"peer " + prefix +
                               "\": a key prefix is resolved against the peers the file "
                               "records, and " +
                               input_ + " records none (wgcap writes them into pcapng)" + give));
  // Standard input and a named pipe are read once: a prefix cannot be
  // looked up in their records first, and nothing of them is consumed by
  // trying.
  const ProcessResult piped =
      test::Run({"sh", "-c", test::WgcapBinary() + " -r - 'peer " + prefix + "' < " + recorded_});
  EXPECT_EQ(piped.exit_code, 2);
  EXPECT_THAT(piped.err, HasSubstr("the file records, and standard input is read once" + give));
  const std::string fifo = dir_.File("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const ProcessResult named =
      test::Run({"sh", "-c",
                 "cat " + recorded_ + " > " + fifo + " & " + test::WgcapBinary() + " -r " + fifo +
                     " 'peer " + prefix + "'; r=$?; cat " + fifo + " | wc -c; exit $r"});
  EXPECT_EQ(named.exit_code, 2);
  EXPECT_THAT(named.err, HasSubstr(fifo + " is read once"));
  EXPECT_EQ(named.out, std::to_string(test::ReadFileBytes(recorded_).size()) + "\n")
      << "the pipe's bytes are all still there";
  // A whole key needs no look: it matches what the records name.
  const ProcessResult whole =
      test::Run({"sh", "-c", test::WgcapBinary() + " -r - 'peer " + kAlice + "' < " + recorded_});
  EXPECT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_THAT(whole.err, HasSubstr("7 packets read, 1 matched"));
  // A file that cannot be opened says why, not that it is read once.
  for (const std::string& path : {dir_.File("nosuch.pcapng"), dir_.path()}) {
    const ProcessResult bad = Wgcap({"-r", path, "peer " + prefix});
    EXPECT_EQ(bad.exit_code, 1) << bad.err;
    EXPECT_THAT(bad.err, HasSubstr(path));
    EXPECT_THAT(bad.err, Not(HasSubstr("records")));
  }
}

// A pcapng wgcap wrote names each record's peer, attributed when it was
// captured: `peer` needs no dump.
TEST_F(CliWgPeers, RecordedPeersNeedNoDump) {
  EXPECT_EQ(Kept("peer " + kCarol.substr(0, 5), recorded_, false), (std::vector<int>{0}));
  EXPECT_EQ(Kept("peer " + kBob.substr(0, 7), recorded_, false), (std::vector<int>{2}));
  EXPECT_EQ(Kept("not peer " + kAlice + " and ip", recorded_, false),
            (std::vector<int>{0, 1, 2, 5, 6}));
  // A whole key the file never names matches nothing, as `host` would.
  const std::string silent = wireguard::KeyToBase64(MakeKey(0x77, 0x77));
  EXPECT_EQ(Kept("peer " + silent + " or udp", recorded_, false), (std::vector<int>{0, 3, 6}));
  // A prefix is resolved against the keys the file records, in the order
  // first seen.
  const ProcessResult unknown = Wgcap({"-r", recorded_, "peer zzzz"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("peer \"zzzz\" is no peer of " + recorded_ +
                                     " (its peers: " + kCarol.substr(0, 8) + ", " +
                                     kBob.substr(0, 8) + ", " + kAlice.substr(0, 8) + ")"));
  const ProcessResult ambiguous = Wgcap({"-r", recorded_, "peer " + kAlice.substr(0, 6)});
  EXPECT_EQ(ambiguous.exit_code, 2);
  EXPECT_THAT(ambiguous.err, HasSubstr("is ambiguous on " + recorded_));
}

// --wg-peers given with a recorded file attributes every packet by the
// dump's allowed-ips: the option re-attributes what the file recorded.
TEST_F(CliWgPeers, TheDumpReattributesARecordedFile) {
  EXPECT_EQ(Kept("peer " + kCarol, recorded_), (std::vector<int>{4, 6}));
  EXPECT_EQ(Kept("peer " + kAlice, recorded_), (std::vector<int>{0, 1, 3}));
  const ProcessResult text = Wgcap({"-r", recorded_, "--wg-peers", dump_, "-e"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(std::count(text.out.begin(), text.out.end(), '\n'), 7) << text.out;
  EXPECT_THAT(text.out, HasSubstr(" peer " + kAlice.substr(0, 8) + " 192.0.2.5:1 > 10.0.0.1:2 "));
}

TEST_F(CliWgPeers, BadUseAndBadFilesAreUsageErrors) {
  const ProcessResult live = Wgcap({"-i", "lo", "--wg-peers", dump_, "tcp"});
  EXPECT_EQ(live.exit_code, 2);
  EXPECT_THAT(live.err, HasSubstr("--wg-peers gives the peers of a file read with -r"));
  const ProcessResult missing = Wgcap({"-r", input_, "--wg-peers", dir_.File("nope"), "tcp"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("--wg-peers " + dir_.File("nope")));
  const std::string bad = dir_.File("bad.dump");
  const std::string text = Dump() + "garbage line\n";
  test::WriteFileBytes(bad, {text.begin(), text.end()});
  const ProcessResult broken = Wgcap({"-r", input_, "--wg-peers", bad, "tcp"});
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_THAT(broken.err, HasSubstr("--wg-peers " + bad +
                                    ": wg dump, line 5: expected 8 "
                                    "tab-separated columns, found 1"));
  const ProcessResult empty = Wgcap({"-r", input_, "--wg-peers=", "tcp"});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_THAT(empty.err, HasSubstr("--wg-peers: empty file name"));
}

// A server with thousands of peers has a dump of megabytes (150-200 bytes a
// peer): more than -F's 1 MiB is read, and only a file past 64 MiB is
// refused, with the limit in the message.
TEST_F(CliWgPeers, LargeDumpsAreReadAndOnlyHugeFilesRefused) {
  std::string text = Dump();
  const std::string tail = "\t0\t0\t0\toff\n";
  for (int i = 0; text.size() <= (std::size_t{3} << 20); ++i) {
    PeerKey k = MakeKey(0xe0, 0x01);
    k[1] = static_cast<std::uint8_t>(i >> 8);
    k[2] = static_cast<std::uint8_t>(i);
    char prefix[48];
    std::snprintf(prefix, sizeof prefix, "2001:db8:f:%x::/64", i);
    text += wireguard::KeyToBase64(k) + "\t(none)\t(none)\t" + prefix + tail;
  }
  dump_ = dir_.File("large.dump");
  test::WriteFileBytes(dump_, {text.begin(), text.end()});
  EXPECT_EQ(Kept("peer " + kAlice.substr(0, 7)), (std::vector<int>{0, 1, 3}));

  const std::string huge = dir_.File("huge.dump");
  test::WriteFileBytes(huge, {});
  ASSERT_EQ(truncate(huge.c_str(), (off_t{64} << 20) + 1), 0); // sparse: no disk used
  const ProcessResult r = Wgcap({"-r", input_, "--wg-peers", huge, "tcp"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--wg-peers " + huge +
                               ": larger than 64 MiB (some 300,000 peers); is it the output of "
                               "`wg show IFACE dump`?"));
}

TEST_F(CliWgPeers, BadKeyTextIsAFilterErrorWithItsColumn) {
  const ProcessResult r = Wgcap({"-r", input_, "--wg-peers", dump_, "peer ab$c"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("column 8: peer \"ab$c\": \"$\" is not a base64 character"));
}

// -d: the classic socket filter passes what a peer term could admit and
// says that the userspace Matcher decides.
TEST_F(CliWgPeers, DumpSaysTheSocketFilterLeavesPeersToTheMatcher) {
  const ProcessResult r = Wgcap({"-d", "peer " + kAlice.substr(0, 7) + " and tcp"});
  EXPECT_THAT(r.out, HasSubstr("classic BPF socket filter (afpacket)"));
  EXPECT_THAT(r.out, HasSubstr(", NOT exact:\n; classic BPF cannot look up WireGuard peers: the "
                               "socket filter passes every packet a `peer` term could admit and "
                               "the userspace Matcher decides\n"));
  const ProcessResult plain = Wgcap({"-d", "tcp"});
  EXPECT_THAT(plain.out, Not(HasSubstr("WireGuard peers")));
}

} // namespace
} // namespace wgcap
