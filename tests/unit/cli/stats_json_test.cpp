// SPDX-License-Identifier: Apache-2.0
// `--stats` (SPEC 6): one JSON object of the final Stats, with one object
// per captured interface for live captures.
#include "cli/stats_json.hpp"

#include <gtest/gtest.h>

namespace wgcap::cli {
namespace {

Stats TwoInterfaces() {
  Stats s;
  s.received = 9;
  s.matched = 8;
  s.packets = 7;
  s.bytes = 700;
  s.dropped = 1;
  s.kernel_seen = 30;
  s.kernel_matched = 12;
  s.kernel_ring_drops = 2;
  s.interfaces = {{.ifindex = 4, .kernel = {.seen = 10, .matched = 5, .ring_drops = 2}},
                  {.ifindex = 3, .kernel = {.seen = 20, .matched = 7}}};
  return s;
}

TEST(StatsJson, AFileHasTheTotalsOnly) {
  EXPECT_EQ(StatsJson(TwoInterfaces(), "file"),
            "{\"backend\":\"file\",\"received\":9,\"matched\":8,\"packets\":7,\"bytes\":700,"
            "\"dropped\":1,\"kernel_seen\":30,\"kernel_matched\":12,\"kernel_ring_drops\":2,"
            "\"kernel_drops\":0,\"kernel_filter_fallback\":0}");
}

// Each interface gets its own kernel counters (found by ifindex, not by
// position), in the order the interfaces were given.
TEST(StatsJson, EachInterfaceHasItsOwnCounters) {
  const std::string json =
      StatsJson(TwoInterfaces(), "bpf/tcx+afpacket",
                {{"wg0", 3, "bpf/tcx", 4}, {"wg1", 4, "afpacket", 3}, {"wg2", 9, "afpacket", 0}});
  const std::string totals = "\"kernel_drops\":0,\"kernel_filter_fallback\":0";
  ASSERT_NE(json.find(totals + ",\"interfaces\":["), std::string::npos) << json;
  EXPECT_EQ(json.substr(json.find("\"interfaces\"")),
            "\"interfaces\":["
            "{\"name\":\"wg0\",\"ifindex\":3,\"backend\":\"bpf/tcx\",\"packets\":4,"
            "\"kernel_seen\":20,\"kernel_matched\":7,\"kernel_ring_drops\":0,\"kernel_drops\":0,"
            "\"kernel_filter_fallback\":0},"
            "{\"name\":\"wg1\",\"ifindex\":4,\"backend\":\"afpacket\",\"packets\":3,"
            "\"kernel_seen\":10,\"kernel_matched\":5,\"kernel_ring_drops\":2,\"kernel_drops\":0,"
            "\"kernel_filter_fallback\":0},"
            "{\"name\":\"wg2\",\"ifindex\":9,\"backend\":\"afpacket\",\"packets\":0,"
            "\"kernel_seen\":0,\"kernel_matched\":0,\"kernel_ring_drops\":0,\"kernel_drops\":0,"
            "\"kernel_filter_fallback\":0}]}");
}

// Interface names may hold what JSON must escape.
TEST(StatsJson, NamesAreEscaped) {
  const std::string json = StatsJson(Stats{}, "afpacket", {{"a\"b\\c\x01", 5, "afpacket", 0}});
  EXPECT_NE(json.find("{\"name\":\"a\\\"b\\\\c\\u0001\",\"ifindex\":5,"), std::string::npos)
      << json;
}

// UTF-8 stays as it is; a byte that is not part of a UTF-8 sequence is
// written as \u00XX, so the line is always valid JSON.
TEST(StatsJson, NamesThatAreNotUtf8StayValidJson) {
  auto name_of = [](const std::string& name) {
    const std::string json = StatsJson(Stats{}, "afpacket", {{name, 5, "afpacket", 0}});
    const auto at = json.find("{\"name\":\"") + 9;
    return json.substr(at, json.find("\",\"ifindex\"") - at);
  };
  EXPECT_EQ(name_of("wg-\xc3\xa9t\xc3\xa9"), "wg-\xc3\xa9t\xc3\xa9"); // été
  EXPECT_EQ(name_of("wg\xe2\x82\xac\xf0\x9f\x94\x92"),
            "wg\xe2\x82\xac\xf0\x9f\x94\x92");                 // € and a 4-byte
  EXPECT_EQ(name_of("wg\xff"), "wg\\u00ff");                   // never UTF-8
  EXPECT_EQ(name_of("wg\xc3"), "wg\\u00c3");                   // cut short
  EXPECT_EQ(name_of("\x80x"), "\\u0080x");                     // stray continuation
  EXPECT_EQ(name_of("\xc0\xaf"), "\\u00c0\\u00af");            // overlong '/'
  EXPECT_EQ(name_of("\xed\xa0\x80"), "\\u00ed\\u00a0\\u0080"); // a surrogate
}

} // namespace
} // namespace wgcap::cli
