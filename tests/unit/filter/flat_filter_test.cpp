// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "support/verdict_packets.hpp"
#include "wgcap/filter_parser.hpp"
#include "wgcap/matcher.hpp"

namespace wgcap {
namespace {

// Each flat Filter must select exactly what its expression form selects.
struct Case {
  Filter filter;
  const char* expression;
};

Filter Make(void (*set)(Filter&)) {
  Filter f;
  set(f);
  return f;
}

TEST(FlatFilter, EmptyMatchesAll) {
  Filter f;
  EXPECT_TRUE(f.IsEmpty());
  EXPECT_TRUE(f.MatchesAll());
  for (const auto& p : test::VerdictPackets()) {
    EXPECT_TRUE(f.Match(p.captured(), p.original_length())) << p.name;
  }
}

TEST(FlatFilter, AgreesWithTheExpressionForm) {
  const std::vector<Case> cases = {
      {Make([](Filter& f) { f.src_ip = *IpAddress::Parse("192.0.2.1"); }), "src host 192.0.2.1"},
      {Make([](Filter& f) { f.dst_ip = *IpAddress::Parse("2001:db8::1"); }),
       "dst host 2001:db8::1"},
      {Make([](Filter& f) { f.host = *IpAddress::Parse("::ffff:192.0.2.1"); }), "host 192.0.2.1"},
      {Make([](Filter& f) { f.port = 53; }), "port 53"},
      {Make([](Filter& f) { f.src_port = 5353; }), "src port 5353"},
      {Make([](Filter& f) { f.dst_port = 443; }), "dst port 443"},
      {Make([](Filter& f) { f.proto = 6; }), "proto 6"},
      {Make([](Filter& f) {
         f.host = *IpAddress::Parse("192.0.2.1");
         f.proto = 6;
         f.dst_port = 443;
       }),
       "host 192.0.2.1 and tcp and dst port 443"},
      {Make([](Filter& f) {
         f.src_ip = *IpAddress::Parse("192.0.2.1");
         f.dst_ip = *IpAddress::Parse("203.0.113.5");
         f.port = 53;
       }),
       "src host 192.0.2.1 and dst host 203.0.113.5 and port 53"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(c.filter.IsEmpty());
    auto expr = ParseFilter(c.expression);
    ASSERT_TRUE(expr.ok());
    int matched = 0;
    for (const auto& p : test::VerdictPackets()) {
      const bool want = (*expr)->Match(p.captured(), p.original_length());
      EXPECT_EQ(c.filter.Match(p.captured(), p.original_length()), want)
          << c.expression << " / " << p.name;
      matched += want;
    }
    EXPECT_GT(matched, 0) << c.expression << " selects nothing: a weak case";
  }
}

} // namespace
} // namespace wgcap
