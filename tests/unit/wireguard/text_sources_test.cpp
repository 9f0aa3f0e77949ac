// SPDX-License-Identifier: Apache-2.0
// The two text sources of a PeerTable: wireguard-go's UAPI reply and the
// output of `wg show IFACE dump` / `wg show all dump`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "wireguard/peer_sources.hpp"

namespace wgcap::wireguard {
namespace {

using ::testing::HasSubstr;

constexpr const char* kHex1 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr const char* kB64_1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr const char* kHex2 = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
constexpr const char* kB64_2 = "//////////////////////////////////////////8=";

std::vector<std::string> Prefixes(const Peer& p) {
  std::vector<std::string> out;
  for (const auto& prefix : p.allowed_ips) {
    out.push_back(prefix.ToString());
  }
  return out;
}

TEST(UapiReply, PeersKeysInBase64AndAllowedIps) {
  const std::string reply = std::string("private_key=") + kHex2 +
                            "\nlisten_port=51820\n"
                            "public_key=" +
                            kHex1 +
                            "\nprotocol_version=1\nendpoint=192.0.2.1:51820\n"
                            "allowed_ip=198.51.100.2/32\nallowed_ip=2001:db8:100::2/128\n"
                            "tx_bytes=10\npublic_key=" +
                            kHex2 + "\nallowed_ip=203.0.113.77/24\nerrno=0\n\n";
  auto t = ParseUapiReply(reply, "wg0");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->interface, "wg0");
  ASSERT_EQ(t->peers.size(), 2u);
  EXPECT_EQ(t->peers[0].KeyText(), kB64_1);
  EXPECT_THAT(Prefixes(t->peers[0]),
              ::testing::ElementsAre("198.51.100.2/32", "2001:db8:100::2/128"));
  EXPECT_EQ(t->peers[1].KeyText(), kB64_2);
  EXPECT_THAT(Prefixes(t->peers[1]), ::testing::ElementsAre("203.0.113.0/24"));
}

TEST(UapiReply, NoPeers) {
  auto t = ParseUapiReply("listen_port=1\nerrno=0\n\n", "wg1");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_TRUE(t->peers.empty());
}

TEST(UapiReply, NonzeroErrnoIsAnError) {
  auto t = ParseUapiReply("errno=13\n\n", "wg0");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().errnum, 13);
  EXPECT_THAT(t.error().message, HasSubstr("UAPI get of wg0"));
  EXPECT_THAT(ParseUapiReply("errno=x1\n\n", "wg0").error().message,
              HasSubstr("line 1: bad errno"));
}

TEST(UapiReply, MalformedLinesNameTheirNumber) {
  EXPECT_EQ(ParseUapiReply("listen_port=1\ngarbage\nerrno=0\n\n", "wg0").error().message,
            "UAPI reply of wg0, line 2: not key=value: \"garbage\"");
  EXPECT_THAT(ParseUapiReply("public_key=abcd\nerrno=0\n\n", "wg0").error().message,
              HasSubstr("line 1: public_key is not 64 hex digits"));
  EXPECT_THAT(ParseUapiReply("allowed_ip=192.0.2.0/24\nerrno=0\n\n", "wg0").error().message,
              HasSubstr("line 1: allowed_ip before any public_key"));
  const std::string bad_ip = std::string("public_key=") + kHex1 + "\nallowed_ip=192.0.2.0/33\n";
  EXPECT_THAT(ParseUapiReply(bad_ip + "errno=0\n\n", "wg0").error().message,
              HasSubstr("line 2: allowed_ip \"192.0.2.0/33\": invalid prefix length"));
  EXPECT_THAT(ParseUapiReply(std::string("public_key=") + kHex1 + "\nallowed_ip=192.0.2.1\n" +
                                 "errno=0\n\n",
                             "wg0")
                  .error()
                  .message,
              HasSubstr("no prefix length"));
  EXPECT_THAT(ParseUapiReply("=1\nerrno=0\n\n", "wg0").error().message,
              HasSubstr("line 1: not key=value"));
}

TEST(UapiReply, CutShortWithoutErrno) {
  const std::string cut = std::string("public_key=") + kHex1 + "\nallowed_ip=192.0.2.0/24\n";
  EXPECT_THAT(ParseUapiReply(cut, "wg0").error().message, HasSubstr("ends without errno="));
  EXPECT_THAT(ParseUapiReply(cut + "\n", "wg0").error().message, HasSubstr("without errno="));
  EXPECT_THAT(ParseUapiReply("", "wg0").error().message, HasSubstr("without errno="));
}

TEST(UapiSocket, MissingSocketIsNotFound) {
  auto t = ReadUapiPeers("wgcapnosuch0", "/nonexistent-wgcap-dir");
  ASSERT_FALSE(t);
  EXPECT_EQ(KindOf(t.error()), ErrorKind::NotFound);
  EXPECT_THAT(t.error().message, HasSubstr("/nonexistent-wgcap-dir/wgcapnosuch0.sock"));
}

const std::string kPriv = "cHJpdmF0ZWtleXByaXZhdGVrZXlwcml2YXRla2V5eHg=";

TEST(WgDump, OneInterfaceWithNoneAndLists) {
  const std::string dump = kPriv + "\t" + kB64_2 + "\t51820\toff\n" + kB64_1 +
                           "\t(none)\t192.0.2.1:51820\t198.51.100.2/32,2001:db8::/32\t0\t0\t0\t"
                           "off\n" +
                           kB64_2 + "\t(none)\t(none)\t(none)\t0\t0\t0\t25\n";
  auto t = ParseWgDump(dump, "wg0");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->interface, "wg0");
  ASSERT_EQ(t->peers.size(), 2u);
  EXPECT_EQ(t->peers[0].KeyText(), kB64_1);
  EXPECT_THAT(Prefixes(t->peers[0]), ::testing::ElementsAre("198.51.100.2/32", "2001:db8::/32"));
  EXPECT_EQ(t->peers[1].KeyText(), kB64_2);
  EXPECT_TRUE(t->peers[1].allowed_ips.empty());
}

TEST(WgDump, AllDumpSelectsTheInterface) {
  const std::string dump = "wg0\t" + kPriv + "\t" + kB64_2 + "\t51820\toff\n" + "wg0\t" + kB64_1 +
                           "\t(none)\t(none)\t192.0.2.0/24\t0\t0\t0\toff\n" + "wg1\t" + kPriv +
                           "\t" + kB64_1 + "\t51821\toff\n" + "wg1\t" + kB64_2 +
                           "\t(none)\t(none)\t203.0.113.0/24\t0\t0\t0\toff\n";
  auto wg1 = ParseWgDump(dump, "wg1");
  ASSERT_TRUE(wg1) << wg1.error().message;
  EXPECT_EQ(wg1->interface, "wg1");
  ASSERT_EQ(wg1->peers.size(), 1u);
  EXPECT_EQ(wg1->peers[0].KeyText(), kB64_2);
  EXPECT_EQ(ParseWgDump(dump, "wg7").error().message,
            "wg dump: no interface \"wg7\" (it holds wg0, wg1)");
  EXPECT_THAT(ParseWgDump(dump, "").error().message, HasSubstr("no interface \"\""));
  const std::string one = dump.substr(0, dump.find("wg1\t"));
  auto only = ParseWgDump(one, "");
  ASSERT_TRUE(only) << only.error().message;
  EXPECT_EQ(only->interface, "wg0");
  EXPECT_EQ(only->peers.size(), 1u);
}

TEST(WgDump, BadLinesNameTheirNumber) {
  const std::string head = kPriv + "\t" + kB64_2 + "\t51820\toff\n";
  EXPECT_EQ(ParseWgDump(head + kB64_1 + "\t(none)\t(none)\n", "wg0").error().message,
            "wg dump, line 2: expected 8 tab-separated columns, found 3");
  EXPECT_THAT(
      ParseWgDump(head + "nokey\t(none)\t(none)\t(none)\t0\t0\t0\toff\n", "wg0").error().message,
      HasSubstr("line 2: public key \"nokey\" is not base64"));
  EXPECT_THAT(
      ParseWgDump(head + "\n" + kB64_1 + "\t(none)\t(none)\t192.0.2.0/24,bad/8\t0\t0\t0\toff\n",
                  "wg0")
          .error()
          .message,
      HasSubstr("line 3: allowed-ip \"bad/8\": invalid address"));
  EXPECT_THAT(ParseWgDump("interface: wg0\n  public key: x\n", "wg0").error().message,
              HasSubstr("line 1: expected the interface line"));
  EXPECT_THAT(ParseWgDump("", "wg0").error().message, HasSubstr("empty"));
  EXPECT_EQ(ParseWgDump("", "wg0").error().kind, ErrorKind::Usage);
}

} // namespace
} // namespace wgcap::wireguard
