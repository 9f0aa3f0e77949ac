// SPDX-License-Identifier: Apache-2.0
// TcAttachment beside others on one device: foreign qdiscs and filters
// survive, two attachments each remove only their own, leftovers of a killed
// run go while those of running instances stay.
#include "tc_attachment_fixture.hpp"

namespace wgcap {
namespace {

using namespace tc_test;

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

} // namespace
} // namespace wgcap
