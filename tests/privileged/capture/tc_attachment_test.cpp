// SPDX-License-Identifier: Apache-2.0
// TcAttachment (SPEC 2) on a veth pair between two namespaces of this test's
// own (192.0.2.1 in A, 192.0.2.2 in B): tcx links and clsact filters appear,
// run on real traffic and go away with the object; foreign qdiscs and filters
// survive; leftovers of a killed run go, those of running instances stay.
// Everything under test runs on a thread inside namespace A.
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

namespace wgcap {
namespace {

using test::Insn;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kTcxIngress = static_cast<bpf_attach_type>(46);
constexpr auto kTcxEgress = static_cast<bpf_attach_type>(47);
const std::string kDev = "wgtca0";

// SCHED_CLS: counts its runs in slot `key` of an array map, returns
// TC_ACT_UNSPEC (tcx: TCX_NEXT), so the packet goes on as before.
UniqueFd CountingProgram(int map_fd, std::uint32_t key) {
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
std::set<std::uint32_t> TcxPrograms(int ifindex, bpf_attach_type type) {
  if (!test::KernelHasTcx()) {
    return {}; // nothing can be attached there, and the query says EINVAL
  }
  __u32 ids[64] = {};
  __u32 count = 64;
  EXPECT_EQ(bpf_prog_query(ifindex, type, 0, nullptr, ids, &count), 0) << std::strerror(errno);
  return std::set<std::uint32_t>(ids, ids + count);
}

// wgcap-priority filter handles on a hook (this thread's namespace).
std::set<std::uint32_t> OurHandles(int ifindex, tc::Hook hook) {
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
void InNamespace(const std::string& ns, const std::function<void()>& body) {
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
std::string OutputOfChild(const std::function<std::string()>& body) {
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

TEST_F(TcAttachmentTest, TcxLinksRunOnTrafficAndVanishOnDestruction) {
  InNamespace(ns_a_, [&] {
    Programs p;
    ASSERT_TRUE(p.ok());
    if (!test::KernelHasTcx()) {
      // Before 6.6: Auto falls back to clsact and says why; Tcx fails so.
      auto a = TcAttachment::Attach(Ifindex(), p.prog[0].get(), p.prog[1].get(), AttachMode::Auto);
      ASSERT_TRUE(a.ok()) << a.error().message;
      EXPECT_STREQ((*a)->kind(), "tc");
      EXPECT_THAT((*a)->fallback_reason(), HasSubstr("kernel lacks tcx"));
      a->reset();
      auto tcx = TcAttachment::Attach(Ifindex(), p.prog[0].get(), p.prog[1].get(), AttachMode::Tcx);
      ASSERT_FALSE(tcx.ok());
      EXPECT_THAT(tcx.error().message, HasSubstr("kernel lacks tcx (Linux 6.6+)"));
      EXPECT_FALSE(HasClsact());
      GTEST_SKIP() << "kernel lacks tcx (6.6+): checked the clsact fallback instead";
    }
    auto a = TcAttachment::Attach(Ifindex(), p.prog[0].get(), p.prog[1].get(), AttachMode::Auto);
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_STREQ((*a)->kind(), "tcx");
    EXPECT_EQ((*a)->fallback_reason(), "");
    EXPECT_EQ(TcxPrograms(Ifindex(), kTcxIngress), std::set<std::uint32_t>{p.Id(0)});
    EXPECT_EQ(TcxPrograms(Ifindex(), kTcxEgress), std::set<std::uint32_t>{p.Id(1)});
    const std::string links = test::Run({"bpftool", "link", "show"}).out;
    EXPECT_THAT(links, HasSubstr("  prog " + std::to_string(p.Id(0)) + " "));
    EXPECT_THAT(links, HasSubstr("  prog " + std::to_string(p.Id(1)) + " "));
    EXPECT_FALSE(HasClsact()) << "tcx needs no qdisc";
    Ping();
    EXPECT_GE(p.Count(0), 3u) << "echo replies in";
    EXPECT_GE(p.Count(1), 3u) << "echo requests out";

    a->reset();
    EXPECT_TRUE(TcxPrograms(Ifindex(), kTcxIngress).empty());
    EXPECT_TRUE(TcxPrograms(Ifindex(), kTcxEgress).empty());
    EXPECT_THAT(test::Run({"bpftool", "link", "show"}).out,
                Not(HasSubstr("  prog " + std::to_string(p.Id(0)) + " ")));
    const std::uint64_t in = p.Count(0), out = p.Count(1);
    Ping();
    EXPECT_EQ(p.Count(0), in);
    EXPECT_EQ(p.Count(1), out);
  });
}

TEST_F(TcAttachmentTest, ClsactCreatesQdiscAndFiltersAndRemovesBoth) {
  InNamespace(ns_a_, [&] {
    Programs p;
    ASSERT_TRUE(p.ok());
    auto a = TcAttachment::Attach(Ifindex(), p.prog[0].get(), p.prog[1].get(), AttachMode::Clsact);
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_STREQ((*a)->kind(), "tc");
    EXPECT_TRUE((*a)->created_qdisc());
    EXPECT_EQ((*a)->filter_handle() >> 8, static_cast<std::uint32_t>(getpid()));
    EXPECT_TRUE(HasClsact());
    char handle[16];
    std::snprintf(handle, sizeof(handle), "handle 0x%x ", (*a)->filter_handle());
    for (const char* hook : {"ingress", "egress"}) {
      const std::string shown = Filters(hook);
      EXPECT_THAT(shown, HasSubstr("pref 49374 bpf"));
      EXPECT_THAT(shown, HasSubstr(handle));
      EXPECT_THAT(shown, HasSubstr(std::string("wgcap_") + hook + " direct-action"));
    }
    Ping();
    EXPECT_GE(p.Count(0), 3u);
    EXPECT_GE(p.Count(1), 3u);

    (*a)->Detach();
    (*a)->Detach(); // idempotent, and the destructor after it
    EXPECT_FALSE((*a)->attached());
    EXPECT_EQ(Filters("ingress"), "");
    EXPECT_EQ(Filters("egress"), "");
    EXPECT_FALSE(HasClsact()) << "we created it, and it is empty";
    const std::uint64_t in = p.Count(0), out = p.Count(1);
    Ping();
    EXPECT_EQ(p.Count(0), in);
    EXPECT_EQ(p.Count(1), out);
  });
}

TEST_F(TcAttachmentTest, ForeignQdiscAndFiltersSurvive) {
  InNamespace(ns_a_, [&] {
    Programs p;
    ASSERT_TRUE(p.ok());
    // A clsact qdisc and a filter that were there before us.
    Tc({"qdisc", "add", "dev", kDev, "clsact"});
    AddForeignFilter();
    auto a = TcAttachment::Attach(Ifindex(), p.prog[0].get(), p.prog[1].get(), AttachMode::Clsact);
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_FALSE((*a)->created_qdisc());
    Ping();
    EXPECT_GE(p.Count(0), 3u) << "runs after the foreign filter";
    a->reset();
    EXPECT_TRUE(HasClsact());
    EXPECT_THAT(Filters("ingress"), HasSubstr("pref 1 u32"));
    EXPECT_THAT(Filters("ingress"), Not(HasSubstr("pref 49374")));
    EXPECT_EQ(Filters("egress"), "");

    // A qdisc we created, with a foreign filter added meanwhile, stays too.
    Tc({"qdisc", "del", "dev", kDev, "clsact"});
    auto b = TcAttachment::Attach(Ifindex(), p.prog[0].get(), p.prog[1].get(), AttachMode::Clsact);
    ASSERT_TRUE(b.ok()) << b.error().message;
    EXPECT_TRUE((*b)->created_qdisc());
    AddForeignFilter();
    b->reset();
    EXPECT_TRUE(HasClsact());
    EXPECT_THAT(Filters("ingress"), HasSubstr("pref 1 u32"));
    EXPECT_THAT(Filters("ingress"), Not(HasSubstr("pref 49374")));
  });
}

TEST_F(TcAttachmentTest, TwoAttachmentsOnOneDeviceEachRemoveOnlyTheirOwn) {
  InNamespace(ns_a_, [&] {
    Programs p;
    ASSERT_TRUE(p.ok());
    const int ifindex = Ifindex();
    // tcx: both run (each continues to the next), each link goes alone.
    if (test::KernelHasTcx()) {
      auto a = TcAttachment::Attach(ifindex, p.prog[0].get(), p.prog[1].get(), AttachMode::Tcx);
      auto b = TcAttachment::Attach(ifindex, p.prog[2].get(), p.prog[3].get(), AttachMode::Tcx);
      ASSERT_TRUE(a.ok() && b.ok());
      Ping();
      for (std::uint32_t k = 0; k < 4; ++k) {
        EXPECT_GE(p.Count(k), 3u) << k;
      }
      a->reset();
      EXPECT_EQ(TcxPrograms(ifindex, kTcxIngress), std::set<std::uint32_t>{p.Id(2)});
      EXPECT_EQ(TcxPrograms(ifindex, kTcxEgress), std::set<std::uint32_t>{p.Id(3)});
      b->reset();
      EXPECT_TRUE(TcxPrograms(ifindex, kTcxIngress).empty());
    }

    // clsact: distinct handles; the first created the qdisc, but may not
    // delete it while the second's filters are on it; the second did not
    // create it, so it stays (empty) after both.
    auto c = TcAttachment::Attach(ifindex, p.prog[0].get(), p.prog[1].get(), AttachMode::Clsact);
    auto d = TcAttachment::Attach(ifindex, p.prog[2].get(), p.prog[3].get(), AttachMode::Clsact);
    ASSERT_TRUE(c.ok() && d.ok());
    EXPECT_TRUE((*c)->created_qdisc());
    EXPECT_FALSE((*d)->created_qdisc());
    const std::uint32_t hc = (*c)->filter_handle(), hd = (*d)->filter_handle();
    EXPECT_NE(hc, hd);
    EXPECT_EQ(OurHandles(ifindex, tc::Hook::Ingress), (std::set<std::uint32_t>{hc, hd}));
    c->reset();
    EXPECT_EQ(OurHandles(ifindex, tc::Hook::Ingress), std::set<std::uint32_t>{hd});
    EXPECT_EQ(OurHandles(ifindex, tc::Hook::Egress), std::set<std::uint32_t>{hd});
    EXPECT_TRUE(HasClsact());
    d->reset();
    EXPECT_TRUE(OurHandles(ifindex, tc::Hook::Ingress).empty());
    EXPECT_TRUE(OurHandles(ifindex, tc::Hook::Egress).empty());
    EXPECT_TRUE(HasClsact()) << "not created by the last one to leave";
  });
}

TEST_F(TcAttachmentTest, LeftoversOfDeadOwnersGoOthersStay) {
  InNamespace(ns_a_, [&] {
    Programs p;
    ASSERT_TRUE(p.ok());
    const int ifindex = Ifindex();
    auto mine = TcAttachment::Attach(ifindex, p.prog[0].get(), p.prog[1].get(), AttachMode::Clsact);
    ASSERT_TRUE(mine.ok()) << mine.error().message;
    AddForeignFilter();

    // Two other instances: one keeps running, one is SIGKILLed. Each reports
    // its handle and waits for the pipe `hold` to close.
    int report[2], hold[2];
    ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(hold, O_CLOEXEC), 0);
    UniqueFd report_r(report[0]), report_w(report[1]), hold_r(hold[0]), hold_w(hold[1]);
    auto start_instance = [&](Child& child) {
      child.pid = fork();
      if (child.pid == 0) {
        hold_w.Reset();
        auto a =
            TcAttachment::Attach(ifindex, p.prog[2].get(), p.prog[3].get(), AttachMode::Clsact);
        const std::uint32_t h = a.ok() ? (*a)->filter_handle() : 0;
        char c;
        if (write(report_w.get(), &h, sizeof(h)) != sizeof(h) || read(hold_r.get(), &c, 1) < 0) {
          _exit(2);
        }
        if (a.ok()) {
          a->reset(); // _exit runs no destructors: a clean stop detaches explicitly
        }
        _exit(0);
      }
      std::uint32_t h = 0;
      EXPECT_EQ(read(report_r.get(), &h, sizeof(h)), static_cast<ssize_t>(sizeof(h)));
      return h;
    };
    Child live, dead, reused;
    const std::uint32_t live_handle = start_instance(live);
    const std::uint32_t dead_handle = start_instance(dead);
    ASSERT_NE(live_handle, 0u);
    ASSERT_NE(dead_handle, 0u);
    dead.End(SIGKILL);

    // A PID that runs, but is not wgcap any more: a fresh `sleep` holds no
    // fd of our programs (they are close-on-exec).
    char sleep_arg[] = "sleep", seconds[] = "30";
    char* argv[] = {sleep_arg, seconds, nullptr};
    ASSERT_EQ(posix_spawnp(&reused.pid, "sleep", nullptr, nullptr, argv, environ), 0);
    // posix_spawn returns once the child's exec replaced its memory, which is
    // a little before close-on-exec closed its fds; the new name comes after.
    const std::string comm = "/proc/" + std::to_string(reused.pid) + "/comm";
    for (int i = 0; i < 1000 && test::Run({"cat", comm}).out != "sleep\n"; ++i) {
      usleep(1000);
    }
    const std::uint32_t reused_handle = static_cast<std::uint32_t>(reused.pid) << 8 | 1;
    auto nl = tc::RtNetlink::Open();
    ASSERT_TRUE(nl.ok());
    for (tc::Hook hook : {tc::Hook::Ingress, tc::Hook::Egress}) {
      ASSERT_TRUE(nl->AddBpfFilter(ifindex, hook, TcAttachment::kPriority, reused_handle,
                                   p.prog[2].get(), "wgcap_ingress")
                      .ok());
    }

    auto removed = TcAttachment::RemoveLeftovers(ifindex);
    ASSERT_TRUE(removed.ok()) << removed.error().message;
    EXPECT_EQ(*removed, 4) << "two of the killed run, two of the reused PID";
    const std::set<std::uint32_t> kept = {(*mine)->filter_handle(), live_handle};
    EXPECT_EQ(OurHandles(ifindex, tc::Hook::Ingress), kept);
    EXPECT_EQ(OurHandles(ifindex, tc::Hook::Egress), kept);
    EXPECT_THAT(Filters("ingress"), HasSubstr("pref 1 u32"));
    auto again = TcAttachment::RemoveLeftovers(ifindex);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, 0);

    hold_w.Reset();
    EXPECT_EQ(live.End(0), 0);
    EXPECT_EQ(OurHandles(ifindex, tc::Hook::Ingress),
              std::set<std::uint32_t>{(*mine)->filter_handle()});
  });
}

TEST_F(TcAttachmentTest, ErrorsNameTheInterfaceAndUndoHalfAttachments) {
  InNamespace(ns_a_, [&] {
    Programs p;
    ASSERT_TRUE(p.ok());
    const bool has_tcx = test::KernelHasTcx();
    for (AttachMode mode : {AttachMode::Auto, AttachMode::Tcx, AttachMode::Clsact}) {
      auto a = TcAttachment::Attach(987654, p.prog[0].get(), p.prog[1].get(), mode);
      ASSERT_FALSE(a.ok());
      if (mode == AttachMode::Tcx && !has_tcx) {
        // Before 6.6 the kernel refuses the attach type before it looks at
        // the device.
        EXPECT_THAT(a.error().message, HasSubstr("kernel lacks tcx"));
        continue;
      }
      EXPECT_THAT(a.error().message, HasSubstr("No such device"));
      EXPECT_THAT(a.error().message, HasSubstr("no interface with index 987654"));
    }
    const auto leftovers = TcAttachment::RemoveLeftovers(987654);
    ASSERT_FALSE(leftovers.ok());
    EXPECT_THAT(leftovers.error().message, HasSubstr("987654"));

    // A program of the wrong type on egress: the tcx EINVAL is about the
    // program, not a kernel without tcx, so Auto reports it (no fallback),
    // and the ingress part is undone in both modes.
    const bpf_insn ret0[] = {Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
                             Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)};
    UniqueFd socket_filter(
        bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "wgtc_sf", "GPL", ret0, 2, nullptr));
    ASSERT_TRUE(socket_filter.valid());
    auto tcx =
        TcAttachment::Attach(Ifindex(), p.prog[0].get(), socket_filter.get(), AttachMode::Auto);
    ASSERT_FALSE(tcx.ok());
    EXPECT_EQ(tcx.error().errnum, EINVAL);
    if (has_tcx) {
      EXPECT_THAT(tcx.error().message, HasSubstr("attach tcx egress on " + kDev));
      EXPECT_THAT(tcx.error().message, HasSubstr("SCHED_CLS"));
    } else {
      // Before 6.6 Auto is clsact, whose error names the filter.
      EXPECT_THAT(tcx.error().message, HasSubstr("add bpf filter"));
    }
    EXPECT_TRUE(TcxPrograms(Ifindex(), kTcxIngress).empty());
    auto cls =
        TcAttachment::Attach(Ifindex(), p.prog[0].get(), socket_filter.get(), AttachMode::Clsact);
    ASSERT_FALSE(cls.ok());
    EXPECT_THAT(cls.error().message, HasSubstr("add bpf filter"));
    EXPECT_EQ(Filters("ingress"), "");
    EXPECT_FALSE(HasClsact());
  });
}

TEST_F(TcAttachmentTest, WithoutCapNetAdminTheErrorSaysSo) {
  InNamespace(ns_a_, [&] {
    Programs p;
    ASSERT_TRUE(p.ok());
    const int ifindex = Ifindex();
    const std::string text = OutputOfChild([&] {
      __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
      __user_cap_data_struct data[2] = {};
      syscall(SYS_capget, &header, data);
      // CAP_SYS_ADMIN stands in for CAP_NET_ADMIN in the kernel's checks.
      data[0].effective &= ~(1u << CAP_NET_ADMIN | 1u << CAP_SYS_ADMIN);
      if (syscall(SYS_capset, &header, data) != 0) {
        return std::string("capset failed");
      }
      std::string lines;
      for (AttachMode mode : {AttachMode::Auto, AttachMode::Clsact}) {
        auto a = TcAttachment::Attach(ifindex, p.prog[0].get(), p.prog[1].get(), mode);
        lines += (a.ok() ? std::string("attached") : a.error().message) + "\n";
      }
      return lines;
    });
    const auto newline = text.find('\n');
    ASSERT_NE(newline, std::string::npos) << text;
    // Linux 6.18 checks the capability when the program is loaded, not when
    // a tcx link is created: with the program fd in hand, tcx attaches.
    const std::string tcx = text.substr(0, newline);
    EXPECT_TRUE(tcx == "attached" || tcx.find("needs CAP_NET_ADMIN") != std::string::npos) << tcx;
    EXPECT_THAT(text.substr(newline + 1), HasSubstr("needs CAP_NET_ADMIN")) << "Clsact";
    EXPECT_TRUE(TcxPrograms(ifindex, kTcxIngress).empty());
    EXPECT_FALSE(HasClsact());
  });
}

} // namespace
} // namespace wgcap
