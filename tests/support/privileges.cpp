// SPDX-License-Identifier: Apache-2.0
#include "support/privileges.hpp"

#include <bpf/bpf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

namespace wgcap::test {
namespace {

constexpr int kCapNetAdmin = 12;
constexpr int kCapSysAdmin = 21;
constexpr int kCapBpf = 39;

unsigned long long EffectiveCapabilities() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      return std::stoull(line.substr(7), nullptr, 16);
    }
  }
  return 0;
}

} // namespace

std::string MissingPrivileges() {
  const unsigned long long caps = EffectiveCapabilities();
  auto has = [caps](int cap) { return (caps >> cap) & 1ULL; };
  if (!has(kCapBpf) && !has(kCapSysAdmin)) {
    return "needs CAP_BPF (or CAP_SYS_ADMIN) to load BPF programs";
  }
  if (!has(kCapNetAdmin)) {
    return "needs CAP_NET_ADMIN to attach TC programs and create namespaces";
  }
  return {};
}

bpf_insn Insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off,
              std::int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

bool KernelHasTcx() {
  // A tcx query on lo (ifindex 1, in every namespace): a kernel before 6.6
  // does not know attach type 46 (BPF_TCX_INGRESS) and says EINVAL.
  __u32 count = 0;
  return bpf_prog_query(1, static_cast<bpf_attach_type>(46), 0, nullptr, nullptr, &count) == 0 ||
         errno != EINVAL;
}

bool VerifierFencesSpeculation() {
  // r2 = 1; if r2 == 1 goto ok; r0 = *(u64 *)(r2 + 0); exit; ok: r0 = 0; exit.
  // The branch is decided, so the load runs only mispredicted; there r2 is
  // not known to be 1, and a scalar is no pointer.
  const bpf_insn prog[] = {
      Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 1),
      Insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_2, 0, 2, 1),
      Insn(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_0, BPF_REG_2, 0, 0),
      Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
      Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  // In a child, which may drop CAP_PERFMON (and CAP_SYS_ADMIN, which
  // implies it) for itself alone.
  const pid_t pid = fork();
  if (pid == 0) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    syscall(SYS_capget, &header, data);
    data[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
    data[CAP_PERFMON / 32].effective &= ~(1u << (CAP_PERFMON % 32));
    if (syscall(SYS_capset, &header, data) != 0) {
      _exit(2);
    }
    const int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "wgt_spec", "GPL", prog, 6, nullptr);
    _exit(fd >= 0 ? 0 : 1);
  }
  int status = 0;
  return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0;
}

bool PrivilegedRequired() {
  const char* v = std::getenv("WGCAP_REQUIRE_PRIVILEGED");
  return v != nullptr && std::string(v) == "1";
}

} // namespace wgcap::test
