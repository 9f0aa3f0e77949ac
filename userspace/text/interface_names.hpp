// SPDX-License-Identifier: Apache-2.0
// -e: the name of the interface a packet was captured on. The kernel is
// asked once per interface index (if_indextoname is an ioctl), then the name
// comes from a small cache, so a line costs no system call.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace wgcap::text {

class InterfaceNames {
public:
  // How an index becomes a name: if_indextoname's signature, replaceable in
  // tests to count the look-ups.
  using Lookup = char* (*)(unsigned index, char* name);

  explicit InterfaceNames(Lookup lookup);
  InterfaceNames();

  // Appends the name of `ifindex`: "?" for 0 (capture files record no
  // index), "ifN" for an index the kernel no longer knows. Names are shown
  // escaped (Linux allows control characters in them). An interface renamed
  // after its first packet keeps its old name here.
  void Append(std::string& line, std::uint32_t ifindex);

private:
  struct Entry {
    std::uint32_t ifindex = 0; // 0: free
    std::string name;          // escaped, ready to append
  };
  // A capture sees one interface, or a handful; past that, the oldest entry
  // is replaced, round robin.
  static constexpr std::size_t kEntries = 16;

  Lookup lookup_;
  std::array<Entry, kEntries> entries_;
  std::size_t next_ = 0;
};

} // namespace wgcap::text
