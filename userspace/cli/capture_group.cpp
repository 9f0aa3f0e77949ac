// SPDX-License-Identifier: Apache-2.0
#include "cli/capture_group.hpp"

#include <algorithm>

#include "cli/stats_json.hpp"

namespace wgcap::cli {

Status
CaptureGroup::Open(const std::vector<SelectedInterface>& interfaces, Session& session,
                   const std::function<CaptureOptions(int ifindex)>& options_for,
                   const std::function<void(const std::string& name, const Error&)>& on_fallback) {
  for (const SelectedInterface& i : interfaces) {
    auto capture = OpenCapture(i.name, session, options_for(i.ifindex),
                               [&](const Error& why) { on_fallback(i.name, why); });
    if (!capture) {
      Stop(); // nothing stays attached to the interfaces opened before
      Error e = capture.error();
      if (interfaces.size() > 1 && e.message.find(i.name) == std::string::npos) {
        e.message = i.name + ": " + e.message;
      }
      return e;
    }
    captures_.push_back(std::move(capture).value());
    names_.push_back(i.name);
  }
  return {};
}

void CaptureGroup::Stop() {
  for (const auto& capture : captures_) {
    capture->Stop();
  }
}

int CaptureGroup::FailedIndex() const {
  for (std::size_t i = 0; i < captures_.size(); ++i) {
    if (captures_[i]->Failed()) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

bool CaptureGroup::AnyClsact() const {
  return std::any_of(captures_.begin(), captures_.end(),
                     [](const auto& c) { return c->backend_name() == "bpf/tc"; });
}

std::string CaptureGroup::backend_names() const {
  std::vector<std::string> seen;
  std::string out;
  for (const auto& capture : captures_) {
    const std::string name = capture->backend_name();
    if (std::find(seen.begin(), seen.end(), name) == seen.end()) {
      out += (seen.empty() ? "" : "+") + name;
      seen.push_back(name);
    }
  }
  return out;
}

std::vector<std::string> CaptureGroup::filter_notes() const {
  std::vector<std::string> notes;
  for (const auto& capture : captures_) {
    const std::string& note = capture->filter_note();
    if (!note.empty() && std::find(notes.begin(), notes.end(), note) == notes.end()) {
      notes.push_back(note);
    }
  }
  return notes;
}

InterfaceTally::InterfaceTally(const std::vector<SelectedInterface>& interfaces) {
  for (const SelectedInterface& i : interfaces) {
    counts_.emplace_back(static_cast<std::uint32_t>(i.ifindex), 0);
  }
}

Status InterfaceTally::WritePacket(const PacketRecord& packet) {
  for (auto& [ifindex, packets] : counts_) {
    if (ifindex == packet.ifindex) {
      ++packets;
      break;
    }
  }
  return {};
}

std::int64_t InterfaceTally::packets(int ifindex) const {
  for (const auto& [index, packets] : counts_) {
    if (index == static_cast<std::uint32_t>(ifindex)) {
      return packets;
    }
  }
  return 0;
}

std::string PerInterfaceCounts(const std::vector<SelectedInterface>& interfaces, const Stats& stats,
                               const InterfaceTally& tally) {
  std::string out;
  for (const SelectedInterface& i : interfaces) {
    const KernelCounters kernel = KernelCountersOf(stats, i.ifindex);
    out += i.name + ": " + std::to_string(tally.packets(i.ifindex)) + " packets captured, " +
           std::to_string(kernel.matched) + " received by filter, " +
           std::to_string(kernel.drops + kernel.ring_drops) + " dropped by kernel\n";
  }
  return out;
}

} // namespace wgcap::cli
