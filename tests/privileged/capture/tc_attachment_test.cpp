// SPDX-License-Identifier: Apache-2.0
// TcAttachment (SPEC 2) on a veth pair between two namespaces of this test's
// own (192.0.2.1 in A, 192.0.2.2 in B): tcx links and clsact filters appear,
// run on real traffic and go away with the object. Everything under test runs
// on a thread inside namespace A. Sharing a device and errors are in
// tc_attachment_sharing_test.cpp and tc_attachment_errors_test.cpp.
#include "tc_attachment_fixture.hpp"

namespace wgcap {
namespace {

using namespace tc_test;

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

} // namespace
} // namespace wgcap
