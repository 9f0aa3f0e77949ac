// SPDX-License-Identifier: Apache-2.0
// TcAttachment's errors: they name the interface and undo half-made
// attachments; without CAP_NET_ADMIN they say so.
#include "tc_attachment_fixture.hpp"

namespace wgcap {
namespace {

using namespace tc_test;

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
