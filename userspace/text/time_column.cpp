// SPDX-License-Identifier: Apache-2.0
#include "text/time_column.hpp"

#include <ctime>

#include "text/text_append.hpp"

namespace wgcap::text {
namespace {

// Rounds toward minus infinity, so a time before 1970 still has a fraction
// in [0, divisor).
std::int64_t FloorDiv(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// `value` in decimal, zero-padded to `width` digits (more if it needs
// them). By hand: printf is most of a line's cost, and this runs per packet.
void AppendDecimal(std::string& line, std::uint64_t value, int width) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n < width) {
    digits[n++] = '0';
  }
  while (n > 0) {
    line += digits[--n];
  }
}

void AppendClock(std::string& line, std::uint64_t hours, std::uint64_t minutes,
                 std::uint64_t seconds) {
  AppendDecimal(line, hours, 2);
  line += ':';
  AppendDecimal(line, minutes, 2);
  line += ':';
  AppendDecimal(line, seconds, 2);
}

void AppendLocal(std::string& line, std::int64_t sec, bool date) {
  const std::time_t t = static_cast<std::time_t>(sec);
  std::tm tm{};
  localtime_r(&t, &tm);
  if (date) {
    Appendf(line, "%04d-%02d-%02d ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  }
  AppendClock(line, static_cast<std::uint64_t>(tm.tm_hour), static_cast<std::uint64_t>(tm.tm_min),
              static_cast<std::uint64_t>(tm.tm_sec));
}

void AppendFraction(std::string& line, std::uint64_t fraction, int digits) {
  line += '.';
  AppendDecimal(line, fraction, digits);
  line += ' ';
}

} // namespace

void TimeColumn::Append(std::string& line, std::int64_t timestamp_ns) {
  if (style_ == TimeStamp::None) {
    return;
  }
  // Work in the printed unit: tcpdump subtracts timestamps already cut to
  // microseconds, so a delta is the difference of the printed times.
  const std::int64_t per_sec = nano_ ? 1000000000 : 1000000;
  const int digits = nano_ ? 9 : 6;
  const std::int64_t ticks = nano_ ? timestamp_ns : FloorDiv(timestamp_ns, 1000);
  if (!have_first_) {
    have_first_ = true;
    first_ = previous_ = ticks;
  }
  switch (style_) {
  case TimeStamp::Epoch: {
    // Sign and magnitude, so a time before 1970 reads as the number it is
    // ("-0.250000", not floor's "-1.750000").
    const std::uint64_t magnitude =
        ticks < 0 ? 0 - static_cast<std::uint64_t>(ticks) : static_cast<std::uint64_t>(ticks);
    if (ticks < 0) {
      line += '-';
    }
    AppendDecimal(line, magnitude / static_cast<std::uint64_t>(per_sec), 1);
    AppendFraction(line, magnitude % static_cast<std::uint64_t>(per_sec), digits);
    return;
  }
  case TimeStamp::SincePrevious:
  case TimeStamp::SinceFirst: {
    // Unsigned, so timestamps far apart wrap instead of overflowing.
    const std::uint64_t ref =
        static_cast<std::uint64_t>(style_ == TimeStamp::SinceFirst ? first_ : previous_);
    const std::uint64_t diff = static_cast<std::uint64_t>(ticks) - ref;
    previous_ = ticks;
    const bool negative = static_cast<std::int64_t>(diff) < 0;
    const std::uint64_t delta = negative ? 0 - diff : diff;
    const std::uint64_t sec = delta / static_cast<std::uint64_t>(per_sec);
    line += negative ? '-' : ' ';
    AppendClock(line, sec % 86400 / 3600, sec % 3600 / 60, sec % 60);
    AppendFraction(line, delta % static_cast<std::uint64_t>(per_sec), digits);
    return;
  }
  default: { // TimeOfDay, DateTime
    const std::int64_t sec = FloorDiv(ticks, per_sec);
    AppendLocal(line, sec, style_ == TimeStamp::DateTime);
    AppendFraction(line, static_cast<std::uint64_t>(ticks - sec * per_sec), digits);
    return;
  }
  }
}

} // namespace wgcap::text
