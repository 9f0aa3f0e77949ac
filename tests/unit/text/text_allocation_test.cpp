// SPDX-License-Identifier: Apache-2.0
// The text writer's hot path allocates nothing per packet once its line
// buffer has grown, with every layout flag on (-#ttttX -e -v -A -S, and
// -ttt's state): counted by replacing the global operator new in this test
// binary only, which is why this test has a binary of its own.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "support/packet_builder.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/text_writer.hpp"

namespace {
std::atomic<long> allocations{0};
} // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc();
}

void operator delete(void* p) noexcept {
  std::free(p);
}

void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace wgcap {
namespace {

// Takes the bytes and keeps none, so only the writer's own allocations count.
class DiscardWriter final : public ByteWriter {
public:
  Status Write(std::span<const std::uint8_t>) override { return {}; }
  Status Flush() override { return {}; }
  using ByteWriter::Write;
};

TEST(TextAllocation, NonePerPacketOnceTheLineHasGrown) {
  const auto big = test::PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2")
                       .Tcp(40000, 443, 0x18, 1, 1)
                       .TcpOptions({1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2})
                       .Payload("GET / HTTP/1.1\r\n" + std::string(1400, 'x'))
                       .Build();
  const auto dns = test::PacketBuilder::Ipv4("198.51.100.1", "198.51.100.2")
                       .Udp(5000, 53)
                       .Payload(std::vector<std::uint8_t>{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                                                          1, 'a', 0, 0, 1, 0, 1})
                       .Build();
  for (const TimeStamp time : {TimeStamp::TimeOfDay, TimeStamp::SincePrevious, TimeStamp::DateTime,
                               TimeStamp::SinceFirst}) {
    DiscardWriter out;
    TextWriter writer(out, TextOptions{.verbose = true,
                                       .ascii = true,
                                       .hex = HexDump::HexAscii,
                                       .time = time,
                                       .nanoseconds = true,
                                       .interface_name = true,
                                       .number = true});
    PacketRecord big_record{.timestamp_ns = 1, .data = big, .original_length = 0, .ifindex = 1};
    big_record.original_length = static_cast<std::uint32_t>(big.size());
    PacketRecord dns_record{.timestamp_ns = 2, .data = dns, .ifindex = 1};
    dns_record.original_length = static_cast<std::uint32_t>(dns.size());
    const long start = allocations.load();
    ASSERT_TRUE(writer.WritePacket(big_record).ok()); // grows the line, resolves the name
    ASSERT_TRUE(writer.WritePacket(dns_record).ok());
    const long before = allocations.load();
    ASSERT_GT(before, start) << "the counter sees the first line grow";
    for (int i = 0; i < 100; ++i) {
      big_record.timestamp_ns += 1000;
      dns_record.timestamp_ns += 1000;
      ASSERT_TRUE(writer.WritePacket(big_record).ok());
      ASSERT_TRUE(writer.WritePacket(dns_record).ok());
    }
    EXPECT_EQ(allocations.load() - before, 0) << static_cast<int>(time);
  }
}

} // namespace
} // namespace wgcap
