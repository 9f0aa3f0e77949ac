// SPDX-License-Identifier: Apache-2.0
// The rows, files and fixture the bad-input matrix tests share.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "file/pcap_reader.hpp"
#include "support/cli_rows.hpp"
#include "support/packet_builder.hpp"
#include "support/pcapng_builder.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/pcap_writer.hpp"
#include "wgcap/session.hpp"

// A named namespace, not an anonymous one: the fixture must be one type in
// every file of the executable (GoogleTest checks a suite's fixture type).
namespace wgcap {
namespace bad_input {

using test::PacketBuilder;
using ::testing::HasSubstr;
using ::testing::Not;
using Bytes = std::vector<std::uint8_t>;

constexpr std::int64_t kT0 = 1700000000LL * 1000000000LL; // 2023-11-14 22:13:20 UTC
constexpr std::uint64_t kT0Micros = 1700000000ULL * 1000000ULL;

using Row = test::CliRow;
using test::RunRows;
using test::UsageRow;

// The three packets every good file holds, and their text lines.
inline std::vector<Bytes> Packets() {
  return {
      PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Tcp(40000, 443, 0x02).Build(),
      PacketBuilder::Ipv6("2001:db8:100::1", "2001:db8:100::2")
          .Udp(5000, 4000)
          .PayloadSize(8)
          .Build(),
      PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2").Icmp(8, 0, 7, 1).PayloadSize(8).Build(),
  };
}

inline const std::vector<std::string> kPcapLines = {
    "22:13:20.000000 [?    TCP] 198.51.100.1:40000 > 198.51.100.2:443 [S] length 0\n",
    "22:13:20.000001 [?    UDP] [2001:db8:100::1]:5000 > [2001:db8:100::2]:4000 length 8\n",
    "22:13:20.000002 [?   ICMP] 198.51.100.1 > 198.51.100.2 echo request, id 7, seq 1, length 16\n",
};

// The pcapng file records directions: out, in, none.
inline const std::vector<std::string> kPcapngLines = {
    "22:13:20.000000 [OUT  TCP] 198.51.100.1:40000 > 198.51.100.2:443 [S] length 0\n",
    "22:13:20.000001 [IN   UDP] [2001:db8:100::1]:5000 > [2001:db8:100::2]:4000 length 8\n",
    "22:13:20.000002 [?   ICMP] 198.51.100.1 > 198.51.100.2 echo request, id 7, seq 1, length 16\n",
};

inline std::string FirstLines(const std::vector<std::string>& lines, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += lines[i];
  }
  return out;
}

inline std::string Counts(std::size_t n) {
  const std::string k = std::to_string(n);
  return k + " packets read, " + k + " matched, " + k + " written\n";
}

inline void Le16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}

inline void Le32(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}

inline std::uint32_t ReadLe32(const Bytes& b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) | static_cast<std::uint32_t>(b[at + 1]) << 8 |
         static_cast<std::uint32_t>(b[at + 2]) << 16 | static_cast<std::uint32_t>(b[at + 3]) << 24;
}

// A little-endian µs pcap with any header snaplen and link type; `claimed`
// overrides the captured length a record's header states.
inline Bytes Pcap(std::uint32_t snaplen, std::uint32_t link_type, const std::vector<Bytes>& frames,
                  const std::vector<std::optional<std::uint32_t>>& claimed = {},
                  std::uint32_t magic = 0xa1b2c3d4, std::uint16_t major = 2) {
  Bytes b;
  Le32(b, magic);
  Le16(b, major);
  Le16(b, 4);
  Le32(b, 0);
  Le32(b, 0);
  Le32(b, snaplen);
  Le32(b, link_type);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto size = static_cast<std::uint32_t>(frames[i].size());
    Le32(b, 1700000000);
    Le32(b, static_cast<std::uint32_t>(i));
    Le32(b, i < claimed.size() && claimed[i] ? *claimed[i] : size);
    Le32(b, size);
    b.insert(b.end(), frames[i].begin(), frames[i].end());
  }
  return b;
}

// What `wgcap -w - --pcap` writes for the first n packets.
inline std::string PcapOutput(std::size_t n) {
  MemoryWriter out;
  PcapWriter w(out, kDefaultSnaplen);
  EXPECT_TRUE(w.WriteHeader().ok());
  const auto packets = Packets();
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(w.WritePacket(kT0 + static_cast<std::int64_t>(i) * 1000, packets[i]).ok());
  }
  return std::string(out.bytes().begin(), out.bytes().end());
}

inline Bytes PcapngFile() {
  MemoryWriter out;
  PcapngWriterOptions o;
  o.interface_name = "wg0";
  o.now_ns = [] { return kT0; };
  PcapngWriter w(out, o);
  const Direction directions[] = {Direction::Outbound, Direction::Inbound, Direction::Unknown};
  const auto packets = Packets();
  for (std::size_t i = 0; i < packets.size(); ++i) {
    PacketRecord p;
    p.timestamp_ns = kT0 + static_cast<std::int64_t>(i) * 1000;
    p.data = packets[i];
    p.direction = directions[i];
    EXPECT_TRUE(w.WritePacket(p).ok());
  }
  EXPECT_TRUE(w.Finish(Stats{}).ok());
  return out.bytes();
}

inline std::string Text(const Bytes& b) {
  return std::string(b.begin(), b.end());
}

class BadInputMatrix : public ::testing::Test {
protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    good_ = Write("good.pcap", Pcap(kDefaultSnaplen, kLinkTypeRaw, Packets()));
  }

  std::string Write(const std::string& name, const Bytes& bytes) const {
    const std::string path = dir_.File(name);
    test::WriteFileBytes(path, bytes);
    return path;
  }

  test::TempDir dir_;
  std::string good_;
};

} // namespace bad_input
} // namespace wgcap
