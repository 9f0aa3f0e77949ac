// SPDX-License-Identifier: Apache-2.0
#include "capture/bpf/tc_netlink.hpp"

#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace wgcap::tc {
namespace {

// 64 KiB: more than one datagram of a dump holds (the kernel fills up to
// 32 KiB), so a reply is never cut short.
constexpr std::size_t kReceiveWords = 8192;

// One request: header, tcmsg, attributes. Our requests are small and fixed
// in shape; running out of room is a bug, reported as EMSGSIZE, not UB.
class Request {
public:
  Request(std::uint16_t type, std::uint16_t flags) {
    nlmsghdr header{};
    header.nlmsg_len = NLMSG_LENGTH(sizeof(tcmsg));
    header.nlmsg_type = type;
    header.nlmsg_flags = NLM_F_REQUEST | flags;
    std::memcpy(buf_.data(), &header, sizeof(header));
  }
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
  tcmsg* tc() { return static_cast<tcmsg*>(NLMSG_DATA(header())); }
  std::size_t length() { return header()->nlmsg_len; }
  bool overflowed() const noexcept { return overflow_; }

  // Returns the attribute's offset, for closing a nest.
  std::size_t Attr(std::uint16_t type, const void* data, std::size_t size) {
    const std::size_t at = NLMSG_ALIGN(length());
    if (at + RTA_SPACE(size) > buf_.size()) {
      overflow_ = true;
      return at;
    }
    rtattr attr{};
    attr.rta_type = type;
    attr.rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
    std::memcpy(buf_.data() + at, &attr, sizeof(attr));
    if (size > 0) {
      std::memcpy(buf_.data() + at + RTA_LENGTH(0), data, size);
    }
    header()->nlmsg_len = static_cast<std::uint32_t>(at + RTA_SPACE(size));
    return at;
  }
  void U32(std::uint16_t type, std::uint32_t v) { Attr(type, &v, sizeof(v)); }
  void Str(std::uint16_t type, const std::string& s) { Attr(type, s.c_str(), s.size() + 1); }
  std::size_t BeginNest(std::uint16_t type) { return Attr(type | NLA_F_NESTED, nullptr, 0); }
  void EndNest(std::size_t at) {
    if (!overflow_) {
      reinterpret_cast<rtattr*>(buf_.data() + at)->rta_len =
          static_cast<unsigned short>(length() - at);
    }
  }

private:
  alignas(nlmsghdr) std::array<unsigned char, 512> buf_{};
  bool overflow_ = false;
};

Request TcRequest(std::uint16_t type, std::uint16_t flags, int ifindex, std::uint32_t parent,
                  std::uint32_t handle, std::uint32_t info) {
  Request r(type, flags);
  r.tc()->tcm_family = AF_UNSPEC;
  r.tc()->tcm_ifindex = ifindex;
  r.tc()->tcm_parent = parent;
  r.tc()->tcm_handle = handle;
  r.tc()->tcm_info = info;
  return r;
}

std::uint32_t FilterInfo(std::uint16_t priority, std::uint16_t protocol) {
  return TC_H_MAKE(static_cast<std::uint32_t>(priority) << 16, htons(protocol));
}

// The kernel's extended-ack text of an NLMSG_ERROR, if it sent one.
std::string ExtackMessage(const nlmsghdr* h) {
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) {
    return {};
  }
  const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
  std::size_t at = NLMSG_HDRLEN + sizeof(nlmsgerr);
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
    if (err->msg.nlmsg_len < NLMSG_HDRLEN) {
      return {};
    }
    at += err->msg.nlmsg_len - NLMSG_HDRLEN;
  }
  at = NLMSG_ALIGN(at);
  if (at >= h->nlmsg_len) {
    return {};
  }
  int left = static_cast<int>(h->nlmsg_len - at);
  const auto* attr =
      reinterpret_cast<const rtattr*>(reinterpret_cast<const unsigned char*>(h) + at);
  for (; RTA_OK(attr, left); attr = RTA_NEXT(attr, left)) {
    if ((attr->rta_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
      const char* text = static_cast<const char*>(RTA_DATA(attr));
      return std::string(text, strnlen(text, RTA_PAYLOAD(attr)));
    }
  }
  return {};
}

Error KernelError(const char* operation, int errnum, const std::string& extack) {
  return ErrnoError(operation, errnum, extack.empty() ? std::string() : "kernel: " + extack);
}

// Receives one datagram from the kernel into buf; its length, or an Error.
Result<std::size_t> Receive(int fd, std::vector<std::uint64_t>& buf, const char* operation) {
  for (;;) {
    sockaddr_nl from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n = recvfrom(fd, buf.data(), buf.size() * sizeof(buf[0]), MSG_TRUNC,
                               reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoError(operation, errno);
    }
    if (static_cast<std::size_t>(n) > buf.size() * sizeof(buf[0])) {
      return ErrnoError(operation, EMSGSIZE, "netlink reply truncated");
    }
    if (from.nl_pid != 0) {
      continue; // not from the kernel
    }
    return static_cast<std::size_t>(n);
  }
}

void ParseFilter(const nlmsghdr* h, std::vector<FilterEntry>& out) {
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(tcmsg))) {
    return;
  }
  const auto* t = static_cast<const tcmsg*>(NLMSG_DATA(h));
  FilterEntry e;
  e.handle = t->tcm_handle;
  e.priority = static_cast<std::uint16_t>(TC_H_MAJ(t->tcm_info) >> 16);
  e.protocol = ntohs(static_cast<std::uint16_t>(TC_H_MIN(t->tcm_info)));
  int left = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(tcmsg)));
  const rtattr* options = nullptr;
  for (const auto* a = reinterpret_cast<const rtattr*>(reinterpret_cast<const unsigned char*>(t) +
                                                       NLMSG_ALIGN(sizeof(tcmsg)));
       RTA_OK(a, left); a = RTA_NEXT(a, left)) {
    const int type = a->rta_type & NLA_TYPE_MASK;
    if (type == TCA_KIND) {
      const char* text = static_cast<const char*>(RTA_DATA(a));
      e.kind.assign(text, strnlen(text, RTA_PAYLOAD(a)));
    } else if (type == TCA_CHAIN && RTA_PAYLOAD(a) >= sizeof(std::uint32_t)) {
      std::memcpy(&e.chain, RTA_DATA(a), sizeof(e.chain));
    } else if (type == TCA_OPTIONS) {
      options = a;
    }
  }
  if (options != nullptr && e.kind == "bpf") {
    int nested_left = static_cast<int>(RTA_PAYLOAD(options));
    for (const auto* a = static_cast<const rtattr*>(RTA_DATA(options)); RTA_OK(a, nested_left);
         a = RTA_NEXT(a, nested_left)) {
      if ((a->rta_type & NLA_TYPE_MASK) == TCA_BPF_ID && RTA_PAYLOAD(a) >= sizeof(std::uint32_t)) {
        std::memcpy(&e.bpf_prog_id, RTA_DATA(a), sizeof(e.bpf_prog_id));
      }
    }
  }
  out.push_back(std::move(e));
}

} // namespace

std::uint32_t HookParent(Hook hook) noexcept {
  return TC_H_MAKE(TC_H_CLSACT, hook == Hook::Ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
}

const char* HookName(Hook hook) noexcept {
  return hook == Hook::Ingress ? "ingress" : "egress";
}

Result<RtNetlink> RtNetlink::Open() {
  UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd.valid()) {
    return ErrnoError("open rtnetlink socket", errno);
  }
  // Extended acks carry the kernel's reason; capped acks keep them small.
  const int one = 1;
  setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    return ErrnoError("bind rtnetlink socket", errno);
  }
  return RtNetlink(std::move(fd));
}

Status RtNetlink::Transact(nlmsghdr* request, const char* operation) {
  request->nlmsg_flags |= NLM_F_ACK;
  request->nlmsg_seq = ++seq_;
  if (send(fd_.get(), request, request->nlmsg_len, 0) < 0) {
    return ErrnoError(operation, errno);
  }
  std::vector<std::uint64_t> buf(kReceiveWords);
  for (;;) {
    auto n = Receive(fd_.get(), buf, operation);
    if (!n.ok()) {
      return n.error();
    }
    int left = static_cast<int>(*n);
    for (auto* r = reinterpret_cast<const nlmsghdr*>(buf.data()); NLMSG_OK(r, left);
         r = NLMSG_NEXT(r, left)) {
      if (r->nlmsg_seq != seq_ || r->nlmsg_type != NLMSG_ERROR) {
        continue; // a stale reply to an earlier request
      }
      if (r->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
        return ErrnoError(operation, EBADMSG, "short netlink ack");
      }
      const int error = static_cast<const nlmsgerr*>(NLMSG_DATA(r))->error;
      if (error == 0) {
        return {};
      }
      return KernelError(operation, -error, ExtackMessage(r));
    }
  }
}

Status RtNetlink::AddClsact(int ifindex) {
  Request r = TcRequest(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex, TC_H_CLSACT,
                        TC_H_MAKE(TC_H_CLSACT, 0), 0);
  r.Str(TCA_KIND, "clsact");
  return Transact(r.header(), "create clsact qdisc");
}

Status RtNetlink::DeleteClsact(int ifindex) {
  Request r = TcRequest(RTM_DELQDISC, 0, ifindex, TC_H_CLSACT, TC_H_MAKE(TC_H_CLSACT, 0), 0);
  r.Str(TCA_KIND, "clsact");
  return Transact(r.header(), "delete clsact qdisc");
}

Status RtNetlink::AddBpfFilter(int ifindex, Hook hook, std::uint16_t priority, std::uint32_t handle,
                               int prog_fd, const std::string& name) {
  Request r = TcRequest(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, ifindex, HookParent(hook),
                        handle, FilterInfo(priority, ETH_P_ALL));
  r.Str(TCA_KIND, "bpf");
  const std::size_t nest = r.BeginNest(TCA_OPTIONS);
  r.U32(TCA_BPF_FD, static_cast<std::uint32_t>(prog_fd));
  r.Str(TCA_BPF_NAME, name);
  r.U32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
  r.EndNest(nest);
  if (r.overflowed()) {
    return ErrnoError("add bpf filter", EMSGSIZE, "request too long");
  }
  return Transact(r.header(), "add bpf filter");
}

Status RtNetlink::DeleteFilter(int ifindex, Hook hook, std::uint16_t priority,
                               std::uint16_t protocol, std::uint32_t handle) {
  Request r = TcRequest(RTM_DELTFILTER, 0, ifindex, HookParent(hook), handle,
                        FilterInfo(priority, protocol));
  r.Str(TCA_KIND, "bpf");
  return Transact(r.header(), "delete bpf filter");
}

Result<std::vector<FilterEntry>> RtNetlink::DumpOnce(nlmsghdr* request, bool& interrupted) {
  constexpr const char* kOperation = "dump tc filters";
  if (send(fd_.get(), request, request->nlmsg_len, 0) < 0) {
    return ErrnoError(kOperation, errno);
  }
  std::vector<FilterEntry> entries;
  std::vector<std::uint64_t> buf(kReceiveWords);
  for (;;) {
    auto n = Receive(fd_.get(), buf, kOperation);
    if (!n.ok()) {
      return n.error();
    }
    int left = static_cast<int>(*n);
    for (auto* r = reinterpret_cast<const nlmsghdr*>(buf.data()); NLMSG_OK(r, left);
         r = NLMSG_NEXT(r, left)) {
      if (r->nlmsg_seq != seq_) {
        continue;
      }
      interrupted = interrupted || (r->nlmsg_flags & NLM_F_DUMP_INTR);
      if (r->nlmsg_type == NLMSG_DONE) {
        int error = 0;
        if (r->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
          std::memcpy(&error, NLMSG_DATA(r), sizeof(error));
        }
        if (error < 0) {
          return KernelError(kOperation, -error, {});
        }
        return entries;
      }
      if (r->nlmsg_type == NLMSG_ERROR) {
        if (r->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
          return ErrnoError(kOperation, EBADMSG, "short netlink error");
        }
        const int error = static_cast<const nlmsgerr*>(NLMSG_DATA(r))->error;
        return KernelError(kOperation, error < 0 ? -error : EPROTO, ExtackMessage(r));
      }
      if (r->nlmsg_type == RTM_NEWTFILTER) {
        ParseFilter(r, entries);
      }
    }
  }
}

Result<std::vector<FilterEntry>> RtNetlink::DumpFilters(int ifindex, Hook hook) {
  // A dump that raced with a change is flagged NLM_F_DUMP_INTR: run it again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    Request r = TcRequest(RTM_GETTFILTER, NLM_F_DUMP, ifindex, HookParent(hook), 0, 0);
    r.header()->nlmsg_seq = ++seq_;
    bool interrupted = false;
    auto entries = DumpOnce(r.header(), interrupted);
    if (!entries.ok() || !interrupted) {
      return entries;
    }
  }
  return ErrnoError("dump tc filters", EAGAIN, "filters kept changing during the dump");
}

} // namespace wgcap::tc
