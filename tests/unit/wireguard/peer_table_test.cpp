// SPDX-License-Identifier: Apache-2.0
// PeerTable: key text both ways, longest-prefix lookup as WireGuard routes,
// and resolving what a user types after `peer`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "wireguard/peer_table.hpp"

namespace wgcap::wireguard {
namespace {

using ::testing::HasSubstr;

PeerKey Key(std::initializer_list<std::uint8_t> head, std::uint8_t fill = 0) {
  PeerKey k;
  k.fill(fill);
  std::copy(head.begin(), head.end(), k.begin());
  return k;
}

PeerKey Counting() {
  PeerKey k;
  for (std::size_t i = 0; i < k.size(); ++i) {
    k[i] = static_cast<std::uint8_t>(i);
  }
  return k;
}

IpPrefix P(const char* text) {
  auto p = IpPrefix::Parse(text);
  EXPECT_TRUE(p) << text;
  return p ? *p : IpPrefix{};
}

IpAddress A(const char* text) {
  return *IpAddress::Parse(text);
}

TEST(PeerKeyText, MatchesStandardBase64BothWays) {
  EXPECT_EQ(KeyToBase64(Counting()), "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
  EXPECT_EQ(KeyToBase64(Key({}, 0xff)), "//////////////////////////////////////////8=");
  EXPECT_EQ(KeyFromBase64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="), Counting());
  EXPECT_EQ(KeyFromBase64(KeyToBase64(Key({0, 0, 0, 1}))), Key({0, 0, 0, 1}));
  EXPECT_FALSE(KeyFromBase64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"));  // no '='
  EXPECT_FALSE(KeyFromBase64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh!=")); // not base64
  EXPECT_FALSE(KeyFromBase64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=")); // stray bits
}

TEST(PeerKeyText, HexAsTheUapiWritesIt) {
  EXPECT_EQ(KeyFromHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
            Counting());
  EXPECT_EQ(KeyFromHex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"),
            Counting());
  EXPECT_FALSE(KeyFromHex("0001"));
  EXPECT_FALSE(KeyFromHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g"));
}

PeerTable Table() {
  PeerTable t;
  t.interface = "wg0";
  t.peers = {Peer{Counting(), {P("0.0.0.0/0"), P("::/0")}},
             Peer{Key({0, 0, 0, 1}), {P("192.0.2.0/24"), P("2001:db8::/32")}},
             Peer{Key({}), {P("192.0.2.128/25"), P("2001:db8:1::/48")}},
             Peer{Key({}, 0xff), {P("192.0.2.200/32")}}};
  return t;
}

TEST(PeerTableLookup, LongestPrefixWinsInBothFamilies) {
  const PeerTable t = Table();
  EXPECT_EQ(t.Lookup(A("192.0.2.200")), &t.peers[3]);   // /32 over /25 over /24 over /0
  EXPECT_EQ(t.Lookup(A("192.0.2.201")), &t.peers[2]);   // /25
  EXPECT_EQ(t.Lookup(A("192.0.2.5")), &t.peers[1]);     // /24
  EXPECT_EQ(t.Lookup(A("203.0.113.9")), &t.peers[0]);   // only /0
  EXPECT_EQ(t.Lookup(A("2001:db8:1::9")), &t.peers[2]); // /48 over /32
  EXPECT_EQ(t.Lookup(A("2001:db8:2::9")), &t.peers[1]);
  EXPECT_EQ(t.Lookup(A("fe80::1")), &t.peers[0]);
  // From packet bytes, as attribution will call it.
  const std::uint8_t inner[4] = {192, 0, 2, 130};
  EXPECT_EQ(t.Lookup(4, inner), &t.peers[2]);
}

TEST(PeerTableLookup, NoMatchAndNoCrossFamily) {
  PeerTable t = Table();
  t.peers.erase(t.peers.begin()); // without the /0 routes
  EXPECT_EQ(t.Lookup(A("203.0.113.9")), nullptr);
  EXPECT_EQ(t.Lookup(A("fe80::1")), nullptr);
  // ::ffff:192.0.2.5 parses as IPv4 and so is routed as IPv4.
  EXPECT_EQ(t.Lookup(A("::ffff:192.0.2.5")), &t.peers[0]);
  // An IPv6 address whose first bytes equal an IPv4 prefix is not inside it.
  EXPECT_EQ(t.Lookup(A("c000:2c8::")), nullptr);
  EXPECT_EQ(PeerTable{}.Lookup(A("192.0.2.1")), nullptr);
}

TEST(PeerTableResolve, FullKeyAndUnambiguousPrefix) {
  const PeerTable t = Table();
  auto full = t.Resolve("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
  ASSERT_TRUE(full) << full.error().message;
  EXPECT_EQ(full->public_key, Counting());
  auto prefix = t.Resolve("AAEC");
  ASSERT_TRUE(prefix) << prefix.error().message;
  EXPECT_EQ(prefix->public_key, Counting());
  auto longer = t.Resolve("AAAAAQ");
  ASSERT_TRUE(longer) << longer.error().message;
  EXPECT_EQ(longer->public_key, Key({0, 0, 0, 1}));
  EXPECT_EQ(longer->ShortKey(), "AAAAAQAA");
}

TEST(PeerTableResolve, AmbiguousNamesTheCandidates) {
  auto r = Table().Resolve("AAAA");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Usage);
  EXPECT_THAT(r.error().message, HasSubstr("ambiguous"));
  EXPECT_THAT(r.error().message, HasSubstr("AAAAAQAA, AAAAAAAA"));
  EXPECT_THAT(r.error().message, ::testing::Not(HasSubstr("AAECAwQF")));
}

TEST(PeerTableResolve, UnknownNamesTheInterfacesPeers) {
  auto r = Table().Resolve("Zzzz");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "peer \"Zzzz\" is no peer of wg0 (its peers: AAECAwQF, AAAAAQAA, AAAAAAAA, ////////)");
  PeerTable empty;
  empty.interface = "wg9";
  EXPECT_THAT(empty.Resolve("Zzzz").error().message, HasSubstr("its peers: none"));
  // A well-formed full key that is not a peer is unknown, not malformed.
  EXPECT_THAT(Table().Resolve("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh4=").error().message,
              HasSubstr("no peer of wg0"));
}

TEST(PeerTableResolve, TooShortAndNotBase64) {
  const PeerTable t = Table();
  EXPECT_EQ(t.Resolve("AAE").error().message,
            "peer \"AAE\": a key prefix needs at least 4 characters");
  EXPECT_EQ(t.Resolve("").error().kind, ErrorKind::Usage);
  EXPECT_THAT(t.Resolve("AA-C").error().message, HasSubstr("not a base64 public key"));
  EXPECT_THAT(t.Resolve("AAEC=").error().message, HasSubstr("not a base64 public key"));
  EXPECT_THAT(t.Resolve(std::string(45, 'A')).error().message, HasSubstr("not a base64"));
  EXPECT_THAT(t.Resolve("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=").error().message,
              HasSubstr("not a base64"));
}

// -i wg0,wg1: one key that is a peer on both links is one peer to resolve.
TEST(PeerTableMerge, OneKeyOnSeveralLinksResolvesAsOnePeer) {
  PeerTable wg1;
  wg1.interface = "wg1";
  wg1.peers = {Peer{Key({0, 0, 0, 1}), {P("198.51.100.0/24"), P("2001:db8::/32")}},
               Peer{Key({9}), {P("203.0.113.0/24")}}};
  const std::string both = KeyToBase64(Key({0, 0, 0, 1}));
  PeerTable appended = Table();
  appended.peers.insert(appended.peers.end(), wg1.peers.begin(), wg1.peers.end());
  EXPECT_THAT(appended.Resolve(both).error().message, HasSubstr("ambiguous"))
      << "appending the tables, as before, could not name the shared peer";

  const PeerTable merged = MergePeerTables({Table(), wg1});
  EXPECT_EQ(merged.interface, "wg0, wg1");
  ASSERT_EQ(merged.peers.size(), 5u) << "four on wg0, one more on wg1";
  auto full = merged.Resolve(both);
  ASSERT_TRUE(full) << full.error().message;
  EXPECT_EQ(full->public_key, Key({0, 0, 0, 1}));
  EXPECT_EQ(full->allowed_ips,
            (std::vector<IpPrefix>{P("192.0.2.0/24"), P("2001:db8::/32"), P("198.51.100.0/24")}))
      << "both links' allowed-ips, each once";
  auto prefix = merged.Resolve(both.substr(0, 8));
  ASSERT_TRUE(prefix) << prefix.error().message;
  EXPECT_EQ(prefix->public_key, Key({0, 0, 0, 1}));
  EXPECT_EQ(merged.Resolve(KeyToBase64(Key({9})))->public_key, Key({9}));
  EXPECT_THAT(merged.Resolve("AAAA").error().message, HasSubstr("ambiguous on wg0, wg1"))
      << "different keys sharing a prefix stay ambiguous";
  EXPECT_THAT(merged.Resolve("Zzzz").error().message, HasSubstr("no peer of wg0, wg1"));
  EXPECT_EQ(MergePeerTables({Table()}).peers, Table().peers) << "one table is itself";
  EXPECT_TRUE(MergePeerTables({}).peers.empty());
}

} // namespace
} // namespace wgcap::wireguard
