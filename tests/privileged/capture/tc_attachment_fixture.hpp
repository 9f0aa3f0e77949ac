// SPDX-License-Identifier: Apache-2.0
// The veth pair in two namespaces, the counting program and the fixture the
// TcAttachment tests share.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bpf/bpf.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <set>
#include <thread>

#include "capture/bpf/tc_attachment.hpp"
#include "capture/bpf/tc_netlink.hpp"
#include "support/privileges.hpp"
#include "support/subprocess.hpp"

extern char** environ;

// A named namespace: the fixture must be one type in every file of the
// executable (GoogleTest checks a suite's fixture type).
namespace wgcap {
namespace tc_test {

using test::Insn;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kTcxIngress = static_cast<bpf_attach_type>(46);
constexpr auto kTcxEgress = static_cast<bpf_attach_type>(47);
inline const std::string kDev = "wgtca0";

// SCHED_CLS: counts its runs in slot `key` of an array map, returns
// TC_ACT_UNSPEC (tcx: TCX_NEXT), so the packet goes on as before.
inline UniqueFd CountingProgram(int map_fd, std::uint32_t key) {
  const bpf_insn insns[] = {
      Insn(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, static_cast<std::int32_t>(key)),
      Insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),
      Insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4),
      Insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd),
      Insn(0, 0, 0, 0, 0),
      Insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
      Insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 2, 0),
      Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1),
      Insn(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_0, BPF_REG_1, 0, BPF_ADD),
      Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, -1),
      Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  return UniqueFd(bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "wgtc_count", "GPL", insns,
                                std::size(insns), nullptr));
}

// Four counting programs (ingress/egress for two attachments) on one map.
struct Programs {
  Programs() : map(bpf_map_create(BPF_MAP_TYPE_ARRAY, "wgtc_counts", 4, 8, 4, nullptr)) {
    for (std::uint32_t k = 0; k < 4; ++k) {
      prog[k] = CountingProgram(map.get(), k);
    }
  }
  bool ok() const { return map.valid() && prog[0].valid() && prog[3].valid(); }
  std::uint64_t Count(std::uint32_t key) const {
    std::uint64_t v = 0;
    EXPECT_EQ(bpf_map_lookup_elem(map.get(), &key, &v), 0);
    return v;
  }
  std::uint32_t Id(int k) const {
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    EXPECT_EQ(bpf_obj_get_info_by_fd(prog[k].get(), &info, &len), 0);
    return info.id;
  }
  UniqueFd map;
  UniqueFd prog[4];
};

// Program ids attached on the tcx hook (this thread's namespace).
inline std::set<std::uint32_t> TcxPrograms(int ifindex, bpf_attach_type type) {
  if (!test::KernelHasTcx()) {
    return {}; // nothing can be attached there, and the query says EINVAL
  }
  __u32 ids[64] = {};
  __u32 count = 64;
  EXPECT_EQ(bpf_prog_query(ifindex, type, 0, nullptr, ids, &count), 0) << std::strerror(errno);
  return std::set<std::uint32_t>(ids, ids + count);
}

// wgcap-priority filter handles on a hook (this thread's namespace).
inline std::set<std::uint32_t> OurHandles(int ifindex, tc::Hook hook) {
  auto nl = tc::RtNetlink::Open();
  EXPECT_TRUE(nl.ok());
  auto entries = nl->DumpFilters(ifindex, hook);
  EXPECT_TRUE(entries.ok()) << entries.error().message;
  std::set<std::uint32_t> handles;
  for (const auto& e : entries.ok() ? *entries : std::vector<tc::FilterEntry>{}) {
    if (e.priority == TcAttachment::kPriority && e.handle != 0) {
      handles.insert(e.handle);
    }
  }
  return handles;
}

// Runs body on a thread that entered namespace ns.
inline void InNamespace(const std::string& ns, const std::function<void()>& body) {
  std::thread t([&] {
    UniqueFd fd(open(("/var/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd.valid()) << ns;
    ASSERT_EQ(setns(fd.get(), CLONE_NEWNET), 0) << std::strerror(errno);
    body();
  });
  t.join();
}

// A child process of ours, ended by PID (SIGKILL) and reaped if still there.
struct Child {
  pid_t pid = -1;
  ~Child() { End(SIGKILL); }
  int End(int sig) {
    if (pid <= 0) {
      return -1;
    }
    if (sig != 0) {
      kill(pid, sig);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    return status;
  }
};

// Runs body in a forked child (of this thread: same namespace) and returns
// what it returned; "exit N" if the child did not finish normally.
inline std::string OutputOfChild(const std::function<std::string()>& body) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    return "pipe failed";
  }
  UniqueFd out_r(out[0]), out_w(out[1]);
  Child child;
  child.pid = fork();
  if (child.pid == 0) {
    const std::string text = body();
    _exit(write(out_w.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()) ? 0
                                                                                            : 2);
  }
  out_w.Reset();
  std::string text;
  char buf[512];
  for (ssize_t n; (n = read(out_r.get(), buf, sizeof(buf))) > 0;) {
    text.append(buf, static_cast<std::size_t>(n));
  }
  const int status = child.End(0);
  return status == 0 ? text : "exit " + std::to_string(status);
}

class TcAttachmentTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    if (!test::MissingPrivileges().empty()) {
      return;
    }
    const std::string tag = "wgtc-" + std::to_string(getpid());
    ns_a_ = tag + "-a";
    ns_b_ = tag + "-b";
    const std::string a = "ip -n " + ns_a_ + " ", b = "ip -n " + ns_b_ + " ";
    const auto r = test::Run({"sh", "-ec",
                              "ip netns add " + ns_a_ + "; ip netns add " + ns_b_ + "; " + a +
                                  "link add " + kDev + " type veth peer name wgtcb0 netns " +
                                  ns_b_ + "; " + a + "addr add 192.0.2.1/24 dev " + kDev + "; " +
                                  b + "addr add 192.0.2.2/24 dev wgtcb0; " + a + "link set " +
                                  kDev + " up; " + b + "link set wgtcb0 up"});
    up_ = r.exit_code == 0;
    setup_error_ = r.err;
  }
  static void TearDownTestSuite() {
    if (!ns_a_.empty()) {
      test::Run({"ip", "netns", "del", ns_a_});
      test::Run({"ip", "netns", "del", ns_b_});
    }
  }
  void SetUp() override {
    WGCAP_REQUIRE_PRIVILEGES();
    ASSERT_TRUE(up_) << setup_error_;
  }
  // Each test starts on a bare device, also after a failed one.
  void TearDown() override {
    if (up_) {
      test::Run({"tc", "-n", ns_a_, "qdisc", "del", "dev", kDev, "clsact"});
    }
  }

  static std::string Tc(std::vector<std::string> args) {
    args.insert(args.begin(), {"tc", "-n", ns_a_});
    const auto r = test::Run(args);
    EXPECT_EQ(r.exit_code, 0) << args[3] << " " << args[4] << ": " << r.err;
    return r.out;
  }
  static std::string Filters(const char* hook) { return Tc({"filter", "show", "dev", kDev, hook}); }
  static bool HasClsact() {
    return Tc({"qdisc", "show", "dev", kDev}).find("clsact") != std::string::npos;
  }
  static void AddForeignFilter() {
    // u32 at priority 1 that matches nothing (no packet starts with these 4 bytes).
    Tc({"filter", "add", "dev", kDev, "ingress", "prio", "1", "protocol", "all", "u32", "match",
        "u32", "0x12345678", "0xffffffff", "at", "0"});
  }
  static void Ping() {
    const auto r = test::Run(
        {"ip", "netns", "exec", ns_a_, "ping", "-c", "3", "-i", "0.05", "-W", "2", "192.0.2.2"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  static int Ifindex() { return static_cast<int>(if_nametoindex(kDev.c_str())); }

  static inline std::string ns_a_, ns_b_, setup_error_;
  static inline bool up_ = false;
};

} // namespace tc_test
} // namespace wgcap
