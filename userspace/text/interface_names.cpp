// SPDX-License-Identifier: Apache-2.0
#include "text/interface_names.hpp"

#include <net/if.h>

#include <cstring>

#include "text/text_append.hpp"

namespace wgcap::text {

InterfaceNames::InterfaceNames(Lookup lookup) : lookup_(lookup) {}

InterfaceNames::InterfaceNames() : InterfaceNames(&if_indextoname) {}

void InterfaceNames::Append(std::string& line, std::uint32_t ifindex) {
  if (ifindex == 0) {
    line += '?';
    return;
  }
  for (const Entry& e : entries_) {
    if (e.ifindex == ifindex) {
      line += e.name;
      return;
    }
  }
  Entry& e = entries_[next_];
  next_ = (next_ + 1) % kEntries;
  e.ifindex = ifindex;
  e.name.clear();
  char name[IF_NAMESIZE] = {};
  if (lookup_(ifindex, name) != nullptr) {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(name);
    AppendEscaped(e.name, Bytes(bytes, strnlen(name, sizeof name)));
  } else {
    Appendf(e.name, "if%u", ifindex);
  }
  line += e.name;
}

} // namespace wgcap::text
