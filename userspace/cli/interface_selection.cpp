// SPDX-License-Identifier: Apache-2.0
#include "cli/interface_selection.hpp"

#include <algorithm>

#include "cli/interface_list.hpp"
#include "wgcap/capture.hpp"
#include "wgcap/session.hpp"

namespace wgcap::cli {
namespace {

Error Usage(std::string message) {
  return Error{std::move(message), 0, ErrorKind::Usage};
}

bool Has(const std::vector<SelectedInterface>& list, const std::string& name) {
  return std::any_of(list.begin(), list.end(),
                     [&name](const SelectedInterface& i) { return i.name == name; });
}

// Every WireGuard link of the namespace, by index.
Result<std::vector<SelectedInterface>> WireGuardLinks(const std::string& uapi_dir) {
  auto links = ListInterfaces(uapi_dir);
  if (!links) {
    return Error{"-i all-wg: " + links.error().message, links.error().errnum, links.error().kind};
  }
  std::vector<SelectedInterface> found;
  for (const InterfaceInfo& link : *links) {
    if (link.wireguard) {
      found.push_back(SelectedInterface{link.name, link.index});
    }
  }
  if (found.empty()) {
    return Error{"-i all-wg: no WireGuard interface in this network namespace (none of kind "
                 "wireguard, no wireguard-go socket in " +
                     uapi_dir + ")",
                 ENODEV, ErrorKind::NotFound};
  }
  return found;
}

} // namespace

Result<std::vector<std::string>> SplitInterfaceList(std::string_view text) {
  std::vector<std::string> names;
  for (std::size_t start = 0;;) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::string name(text.substr(start, comma - start));
    if (name.empty()) {
      return Usage("-i: empty interface name in '" + std::string(text) + "'");
    }
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      return Usage("-i: " + name + " is named twice");
    }
    names.push_back(std::move(name));
    if (comma == text.size()) {
      break;
    }
    start = comma + 1;
  }
  if (names.size() > kMaxKernelSources) {
    return Usage("-i: " + std::to_string(names.size()) + " interfaces, at most " +
                 std::to_string(kMaxKernelSources) + " in one capture");
  }
  return names;
}

Result<std::vector<SelectedInterface>> SelectInterfaces(std::string_view text,
                                                        const std::string& uapi_dir) {
  auto names = SplitInterfaceList(text);
  if (!names) {
    return names.error();
  }
  std::vector<SelectedInterface> selected;
  for (const std::string& name : *names) {
    if (name == kAllWireGuard) {
      auto links = WireGuardLinks(uapi_dir);
      if (!links) {
        return links.error();
      }
      for (SelectedInterface& link : *links) {
        if (!Has(selected, link.name) &&
            std::find(names->begin(), names->end(), link.name) == names->end()) {
          selected.push_back(std::move(link));
        }
      }
      continue;
    }
    auto ifindex = ResolveInterface(name);
    if (!ifindex) {
      return ifindex.error(); // "wg9: no such interface"
    }
    selected.push_back(SelectedInterface{name, *ifindex});
  }
  if (selected.size() > kMaxKernelSources) {
    return Usage("-i: " + std::to_string(selected.size()) + " interfaces, at most " +
                 std::to_string(kMaxKernelSources) + " in one capture");
  }
  return selected;
}

std::string JoinNames(const std::vector<SelectedInterface>& interfaces) {
  std::string out;
  for (std::size_t i = 0; i < interfaces.size(); ++i) {
    if (i > 0) {
      out += i + 1 == interfaces.size() ? " and " : ", ";
    }
    out += interfaces[i].name;
  }
  return out;
}

} // namespace wgcap::cli
