// SPDX-License-Identifier: Apache-2.0
// Issue 19, least privilege: the generated filter loads in a process that
// became uid 65534 holding only CAP_BPF and CAP_NET_ADMIN (no CAP_PERFMON,
// no CAP_SYS_ADMIN), where the verifier runs restricted: no pointer
// comparisons but packet against packet end, speculative paths walked.
// Each expression is loaded in a forked child that drops to that set; the
// child reports the verifier's processed-instruction count.
#include <gtest/gtest.h>

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grp.h>

#include <cstdio>
#include <string>

#include "capture/bpf/ebpf_filter_runner.hpp"
#include "support/privileges.hpp"
#include "support/relation_builder.hpp"
#include "support/testrun_corpus.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap {
namespace {

constexpr uid_t kNobody = 65534;

// Becomes uid/gid 65534 with exactly CAP_BPF + CAP_NET_ADMIN effective and
// permitted; "" or why not.
std::string DropToBpfAndNetAdmin() {
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 || setgroups(0, nullptr) != 0 ||
      setresgid(kNobody, kNobody, kNobody) != 0 || setresuid(kNobody, kNobody, kNobody) != 0) {
    return "cannot become uid 65534";
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective |= CAP_TO_MASK(CAP_NET_ADMIN);
  data[CAP_TO_INDEX(CAP_BPF)].effective |= CAP_TO_MASK(CAP_BPF);
  for (auto& d : data) {
    d.permitted = d.effective;
  }
  if (syscall(SYS_capset, &header, data) != 0) {
    return "capset failed";
  }
  __user_cap_data_struct now[2] = {};
  if (syscall(SYS_capget, &header, now) != 0 || now[0].effective != data[0].effective ||
      now[1].effective != data[1].effective || getuid() != kNobody) {
    return "the capability set did not take";
  }
  return "";
}

struct ChildLoad {
  bool loaded = false;
  std::uint32_t verified_insns = 0;
  std::string message;
  bool direct_access = false;
};

ChildLoad LoadRestricted(const FilterExpression& expression) {
  int fds[2];
  if (pipe(fds) != 0) {
    return {false, 0, "pipe"};
  }
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string out = DropToBpfAndNetAdmin();
    if (out.empty()) {
      auto runner = EbpfFilterRunner::Create(expression, {0, true});
      out = runner.ok()
                ? "ok " + std::to_string((*runner)->verified_insns()) +
                      ((*runner)->direct_access()
                           ? " direct"
                           : " helper-only (direct refused: " + (*runner)->direct_refused() + ")")
                : "error " + runner.error().message;
    } else {
      out = "error " + out;
    }
    const ssize_t n = write(fds[1], out.data(), out.size());
    _exit(n == static_cast<ssize_t>(out.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) {
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ChildLoad r;
  if (out.rfind("ok ", 0) == 0) {
    r.loaded = true;
    r.verified_insns = static_cast<std::uint32_t>(std::stoul(out.substr(3)));
    r.direct_access = out.find(" direct") != std::string::npos;
  }
  r.message = out;
  return r;
}

// 40 terms: ten blocks of a protocol, a port, an IPv4 host and an IPv6 net.
std::string FortyTerms() {
  std::string text;
  for (int i = 0; i < 10; ++i) {
    text += (i ? " or " : "") + std::string("(tcp and dst port ") + std::to_string(1000 + i) +
            " and src host 198.51.100." + std::to_string(i + 1) +
            " and not net 2001:db8:" + std::to_string(i) + "::/48)";
  }
  return text;
}

// tcp[((tcp[12] & 0xf0) >> 2):4] == 0x47455420: a load at a variable offset.
FilterExpression VariableOffsetRelation() {
  test::AstBuilder b;
  const int offset =
      b.Bin(ValueOp::Shr, b.Bin(ValueOp::And, b.Tcp(b.Const(12)), b.Const(0xf0)), b.Const(2));
  return b.Finish(b.Rel(b.Tcp(offset, 4), Relation::Equal, b.Const(0x47455420)));
}

FilterExpression Parsed(const std::string& text) {
  auto e = ParseFilterExpression(text);
  EXPECT_TRUE(e.ok()) << text;
  return e.ok() ? std::move(e).value() : FilterExpression{};
}

// `peer KEY and TEXT`, built by hand until the parser makes peer terms.
FilterExpression PeerAnd(const std::string& text) {
  test::AstBuilder b;
  PeerKey key{};
  key.fill(0xa5);
  return b.Finish(b.And(b.Peer(key), b.Adopt(Parsed(text))));
}

FilterExpression PeerOrPeer() {
  test::AstBuilder b;
  PeerKey one{}, two{};
  one.fill(1);
  two.fill(2);
  return b.Finish(b.Or(b.Peer(one), b.Not(b.Peer(two))));
}

TEST(EbpfLeastPrivilege, LoadsWithOnlyCapBpfAndCapNetAdmin) {
  WGCAP_REQUIRE_PRIVILEGES();
  const std::vector<std::pair<std::string, FilterExpression>> cases = {
      {"40 terms", Parsed(FortyTerms())},
      {"IPv6 prefixes",
       Parsed("ip6 net 2001:db8::/32 and src host 2001:db8::1 or dst net 2001:db8:1::/48")},
      {"protochain", Parsed("protochain 6 or proto 44 or ip6 protochain 51 or ip protochain 17")},
      {"port ranges", Parsed("tcp portrange 1000-2000 or udp src portrange 53-60 or "
                             "dst portrange 8000-8080")},
      {"relation at a variable offset", VariableOffsetRelation()},
      {"SYN only", Parsed("tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn")},
      {"HTTP GET", Parsed("tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420")},
      {"non-first fragments", Parsed("ip[6:2] & 0x1fff != 0")},
      {"ICMP echo, IPv6 next header, big", Parsed("icmp[icmptype] == icmp-echo or ip6[6] == 58 "
                                                  "or len > 1400")},
      {"icmp or less 100", Parsed("icmp or less 100")},
      {"peer and tcp port 443", PeerAnd("tcp port 443")}, // issue 22: the LPM lookup
      {"peer or peer", PeerOrPeer()},
      {"empty", FilterExpression{}},
  };
  for (const auto& [name, expression] : cases) {
    const ChildLoad r = LoadRestricted(expression);
    EXPECT_TRUE(r.loaded) << name << ": " << r.message;
    EXPECT_GT(r.verified_insns, 0u) << name;
    std::printf("%-32s verifier processed %u insns (CAP_BPF + CAP_NET_ADMIN): %s\n", name.c_str(),
                r.verified_insns, r.message.c_str());
    ::testing::Test::RecordProperty(name + " verified_insns", static_cast<int>(r.verified_insns));
  }
}

// Issue 23: every expression of libpcap's TESTrun corpus that wgcap parses
// loads in the restricted verifier too (one child loads them all).
TEST(EbpfLeastPrivilege, LoadsEveryTestrunCorpusExpression) {
  WGCAP_REQUIRE_PRIVILEGES();
  const auto expressions = test::ReadExpressionList(
      std::string(WGCAP_SOURCE_DIR) + "/tests/data/libpcap-testrun/ip-expressions.txt");
  ASSERT_GT(expressions.size(), 600u);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    std::string out = DropToBpfAndNetAdmin();
    int loaded = 0;
    for (std::size_t i = 0; out.empty() && i < expressions.size(); ++i) {
      auto e = ParseFilterExpression(expressions[i]);
      if (!e.ok()) {
        continue; // libpcap_testrun_test accounts for what does not parse
      }
      auto runner = EbpfFilterRunner::Create(*e, {0, true});
      if (!runner.ok()) {
        out += expressions[i] + ": " + runner.error().message + "\n";
      } else {
        ++loaded;
      }
    }
    out = "loaded " + std::to_string(loaded) + "\n" + out;
    const ssize_t n = write(fds[1], out.data(), out.size());
    _exit(n == static_cast<ssize_t>(out.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) {
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_EQ(out.rfind("loaded ", 0), 0u) << out;
  const std::size_t first_line = out.find('\n');
  EXPECT_EQ(first_line, out.size() - 1) << "refused as uid 65534 with CAP_BPF + CAP_NET_ADMIN:\n"
                                        << out;
  EXPECT_GT(std::stoul(out.substr(7)), 600u) << out;
}

} // namespace
} // namespace wgcap
