// SPDX-License-Identifier: Apache-2.0
// SPEC 7, malformed files: pcap headers and records, link types that carry
// no IP, malformed pcapng blocks.
#include "cli_bad_input_matrix.hpp"

namespace wgcap {
namespace {

using namespace bad_input;

// --- malformed headers, lengths and link types ------------------------------

TEST_F(BadInputMatrix, MalformedPcapHeadersAndRecords) {
  const auto packets = Packets();
  const std::size_t third = 24 + (16 + packets[0].size()) + (16 + packets[1].size());
  const std::string near =
      Write("near.pcap", Pcap(kDefaultSnaplen, kLinkTypeRaw, packets, {}, 0xa2b2c3d4));
  Bytes gz = {0x1f, 0x8b, 0x08, 0x00};
  gz.resize(64, 0);
  const std::string gzip = Write("in.pcap.gz", gz);
  const std::string v3 =
      Write("v3.pcap", Pcap(kDefaultSnaplen, kLinkTypeRaw, packets, {}, 0xa1b2c3d4, 3));
  const std::string snap0 = Write("snap0.pcap", Pcap(0, kLinkTypeRaw, packets));
  const std::string snap_max = Write("snapmax.pcap", Pcap(0xffffffff, kLinkTypeRaw, packets));
  const std::string snap_neg = Write("snapneg.pcap", Pcap(0x80000000, kLinkTypeRaw, packets));
  const std::string over_snap = Write("oversnap.pcap", Pcap(40, kLinkTypeRaw, packets));
  const std::string absurd =
      Write("absurd.pcap", Pcap(kDefaultSnaplen, kLinkTypeRaw, packets, {{}, {}, 0xfffffff0u}));
  const std::string negative =
      Write("negative.pcap", Pcap(0x80000000, kLinkTypeRaw, packets, {{}, 0x80000000u}));
  const std::string above_max =
      Write("abovemax.pcap", Pcap(kDefaultSnaplen, kLinkTypeRaw, packets, {262145u}));
  RunRows({
      {"wrong magic",
       {"-r", near},
       1,
       {"wgcap: " + near + ": not a pcap or pcapng file (magic 0xd4c3b2a2 at byte offset 0)\n"},
       ""},
      {"gzip magic",
       {"-r", gzip},
       1,
       {"wgcap: " + gzip + ": not a pcap or pcapng file (magic 0x1f8b0800 at byte offset 0)\n"},
       ""},
      {"pcap version 3",
       {"-r", v3},
       1,
       {"wgcap: " + v3 + ": unsupported pcap version 3.4 at byte offset 4 (2.x needed)\n"},
       ""},
      // A header's snaplen is only what the writer said; records are judged
      // by their own length, up to a bound that is never allocated past.
      {"snaplen 0",
       {"-r", snap0},
       0,
       {"snapshot length 0\n", Counts(3)},
       FirstLines(kPcapLines, 3)},
      {"snaplen 0xffffffff",
       {"-r", snap_max},
       0,
       {"snapshot length 4294967295\n", Counts(3)},
       FirstLines(kPcapLines, 3)},
      {"snaplen 0x80000000",
       {"-r", snap_neg},
       0,
       {"snapshot length 2147483648\n", Counts(3)},
       FirstLines(kPcapLines, 3)},
      {"records longer than the header's snaplen",
       {"-r", over_snap},
       0,
       {Counts(3)},
       FirstLines(kPcapLines, 3)},
      {"absurd captured length",
       {"-r", absurd},
       1,
       {Counts(2), "wgcap: " + absurd + ": record at byte offset " + std::to_string(third) +
                       " claims 4294967280 captured bytes (at most 262144 allowed)\n"},
       FirstLines(kPcapLines, 2)},
      {"negative captured length",
       {"-r", negative},
       1,
       {Counts(1), "wgcap: " + negative + ": record at byte offset " +
                       std::to_string(24 + 16 + packets[0].size()) +
                       " claims 2147483648 captured bytes (at most 16777216 allowed)\n"},
       FirstLines(kPcapLines, 1)},
      {"captured length above 262144",
       {"-r", above_max},
       1,
       {Counts(0), "wgcap: " + above_max +
                       ": record at byte offset 24 claims 262145 captured bytes (at most 262144 "
                       "allowed)\n"},
       ""},
      {"absurd captured length -w -",
       {"-r", absurd, "-w", "-", "--pcap"},
       1,
       {"claims 4294967280 captured bytes"},
       PcapOutput(2)},
  });
}

TEST_F(BadInputMatrix, NonIpLinkTypes) {
  const auto packets = Packets();
  const Bytes arp = test::WithEthernet(Bytes(28, 0xaa), 0x0806);
  const std::string arp_only =
      Write("arp.pcap", Pcap(kDefaultSnaplen, kLinkTypeEthernet, {arp, arp, arp}));
  const std::string mixed = Write("mixed.pcap", Pcap(kDefaultSnaplen, kLinkTypeEthernet,
                                                     {test::WithEthernet(packets[0], 0x0800), arp,
                                                      test::WithEthernet(packets[2], 0x0800)}));
  const std::string runts =
      Write("runts.pcap", Pcap(kDefaultSnaplen, kLinkTypeEthernet, {Bytes(5, 0), {}}));
  Bytes null_other = {7, 0, 0, 0};
  null_other.insert(null_other.end(), packets[0].begin(), packets[0].end());
  const std::string loopback =
      Write("null.pcap", Pcap(kDefaultSnaplen, kLinkTypeNull, {null_other}));
  const std::string not_ip =
      Write("notip.pcap", Pcap(kDefaultSnaplen, kLinkTypeRaw, {Bytes(20, 0x00)}));
  const std::string wifi = Write("wifi.pcap", Pcap(kDefaultSnaplen, 105, packets));
  const std::string odd = Write("odd.pcap", Pcap(kDefaultSnaplen, 0xffff, packets));

  // pcapng: an unsupported first interface is refused like a pcap header; a
  // later one's packets are "not IP" (SPEC 5) after the earlier ones.
  test::PcapngBuilder wifi_first;
  wifi_first.Interface(105).Epb(0, kT0Micros, packets[0]);
  const std::string wifi_ng = Write("wifi.pcapng", wifi_first.bytes);
  test::PcapngBuilder second;
  second.Interface(static_cast<std::uint16_t>(kLinkTypeRaw))
      .Epb(0, kT0Micros, packets[0])
      .Interface(105)
      .Epb(1, kT0Micros + 1, packets[1]);
  const std::string second_ng = Write("second.pcapng", second.bytes);

  const std::string unsupported =
      " is not supported (wgcap reads raw IP, Ethernet, Linux cooked and "
      "loopback captures)\n";
  const std::string arp_line = " [?      ?] ??? len=28\n";
  RunRows({
      {"Ethernet, ARP only",
       {"-r", arp_only},
       0,
       {"link-type EN10MB (Ethernet)", Counts(3)},
       "22:13:20.000000" + arp_line + "22:13:20.000001" + arp_line + "22:13:20.000002" + arp_line},
      {"Ethernet, ARP between IP",
       {"-r", mixed},
       0,
       {Counts(3)},
       kPcapLines[0] + "22:13:20.000001" + arp_line + kPcapLines[2]},
      {"Ethernet, ARP filtered out",
       {"-r", arp_only, "ip or ip6"},
       0,
       {"3 packets read, 0 matched"},
       ""},
      {"Ethernet runts",
       {"-r", runts},
       0,
       {Counts(2)},
       "22:13:20.000000 [?      ?] ??? len=0\n22:13:20.000001 [?      ?] ??? len=0\n"},
      {"loopback, unknown family",
       {"-r", loopback},
       0,
       {Counts(1)},
       "22:13:20.000000 [?      ?] ??? len=40\n"},
      {"raw link type, not IP",
       {"-r", not_ip},
       0,
       {Counts(1)},
       "22:13:20.000000 [?      ?] ??? len=20\n"},
      {"link type 105", {"-r", wifi}, 1, {"wgcap: " + wifi + ": link-type 105" + unsupported}, ""},
      {"link type 65535",
       {"-r", odd},
       1,
       {"wgcap: " + odd + ": link-type 65535" + unsupported},
       ""},
      {"pcapng, first interface 105",
       {"-r", wifi_ng},
       1,
       {"wgcap: " + wifi_ng + ": link-type 105" + unsupported},
       ""},
      {"pcapng, second interface 105",
       {"-r", second_ng},
       0,
       {Counts(2)},
       kPcapLines[0] + "22:13:20.000001 [?      ?] ??? len=56\n"},
  });
}

TEST_F(BadInputMatrix, MalformedPcapngBlocks) {
  const auto packets = Packets();
  const auto raw = static_cast<std::uint16_t>(kLinkTypeRaw);
  // Two good packets, then a block that is wrong in one way.
  const auto two = [&] {
    test::PcapngBuilder f;
    f.Interface(raw).Epb(0, kT0Micros, packets[0]).Epb(0, kT0Micros + 1, packets[1]);
    return f;
  };
  test::PcapngBuilder trailer = two();
  const std::size_t at = trailer.bytes.size();
  trailer.Raw(pcapng::kEnhancedPacket, Bytes(24, 0), {}, 99);
  test::PcapngBuilder stranger = two();
  stranger.Epb(3, kT0Micros + 2, packets[2]);
  test::PcapngBuilder overrun = two();
  overrun.Epb(0, kT0Micros + 2, packets[2], {}, 0, 0xffffff00u);
  test::PcapngBuilder huge = two();
  huge.Raw(pcapng::kEnhancedPacket, Bytes(24, 0), 0x7ffffff0u);
  test::PcapngBuilder skipped = two();
  skipped.Raw(0x0bad, Bytes(24, 0), 0x40000000u, 0x40000000u);
  test::PcapngBuilder odd = two();
  odd.Raw(pcapng::kEnhancedPacket, Bytes(24, 0), 30);

  const std::string block = "block at byte offset " + std::to_string(at);
  const auto row = [&](const std::string& name, const test::PcapngBuilder& f,
                       const std::string& what) {
    const std::string path = Write(name + ".pcapng", f.bytes);
    return Row{name,
               {"-r", path},
               1,
               {Counts(2), "wgcap: " + path + ": " + what + "\n"},
               FirstLines(kPcapLines, 2)};
  };
  RunRows({
      row("trailer", trailer, block + ": trailing length 99 differs from the leading 36"),
      row("stranger", stranger,
          "packet " + block + ": interface 3 is not described in this section (1 are)"),
      row("overrun", overrun,
          "packet " + block + ": captured length 4294967040 overruns the block (length 68)"),
      row("huge", huge, block + " claims 2147483632 bytes (at most 16842752 allowed)"),
      row("skipped", skipped, "truncated " + block + ": block needs 1073741824 bytes, file has 36"),
      row("odd", odd, block + ": length 30 is not a multiple of 4"),
  });
}

} // namespace
} // namespace wgcap
