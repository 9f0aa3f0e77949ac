// SPDX-License-Identifier: Apache-2.0
// The time at the start of each line, in the styles tcpdump's -t flags
// choose (SPEC 6), with tcpdump 4.99's layouts so columns line up with its
// output for the same file:
//   default  HH:MM:SS.uuuuuu              local time of day
//   -t       (nothing)
//   -tt      SECONDS.uuuuuu               since the epoch
//   -ttt     " HH:MM:SS.uuuuuu"           since the previous packet
//   -tttt    YYYY-MM-DD HH:MM:SS.uuuuuu   local date and time
//   -ttttt   " HH:MM:SS.uuuuuu"           since the first packet
// A delta is signed: ' ' or '-' first (packets from several CPUs can arrive
// slightly out of order), and its hours wrap at 24 as tcpdump's do. With
// nanoseconds every fraction has 9 digits instead of 6.
#pragma once

#include <cstdint>
#include <string>

#include "wgcap/text_writer.hpp"

namespace wgcap::text {

class TimeColumn {
public:
  TimeColumn(TimeStamp style, bool nanoseconds) noexcept : style_(style), nano_(nanoseconds) {}

  // Appends the time and the space after it; nothing at all for -t.
  void Append(std::string& line, std::int64_t timestamp_ns);

private:
  TimeStamp style_;
  bool nano_;
  bool have_first_ = false;
  std::int64_t first_ = 0;    // in the printed unit (µs or ns)
  std::int64_t previous_ = 0; // likewise
};

} // namespace wgcap::text
