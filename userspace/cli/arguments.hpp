// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <getopt.h>

#include <charconv>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "file/rotating_file_sink.hpp"
#include "wgcap/result.hpp"
#include "wgcap/text_writer.hpp"

namespace wgcap::cli {

enum class Mode { Auto, Bpf, AFPacket };

// -Q: which hooks capture.
enum class Hooks { InOut, In, Out };

struct Arguments {
  std::string interface;         // -i
  std::string read_file;         // -r
  std::string write_file;        // -w ("-" = stdout)
  bool print = false;            // --print
  bool pcapng = false;           // the -w format: pcapng unless --pcap or a name ending in .pcap
  bool pcap = false;             // --pcap
  std::int64_t count = 0;        // -c (0 = unlimited)
  std::uint32_t snaplen = 65535; // -s
  bool unbuffered = false;       // -U
  TextOptions text;              // -v -A -x -X -t -q -e -S -#
  bool line_buffered = false;    // -l
  bool time_stamp_nano = false;  // --time-stamp-precision nano
  Hooks hooks = Hooks::InOut;    // -Q in|out|inout
  std::string filter_file;       // -F: the expression from this file
  std::string drop_user;         // -Z: run as this user once attached
  bool list_interfaces = false;  // -D
  Mode mode = Mode::Auto;        // --mode
  std::int64_t duration_ms = 0;  // --duration (0 = until stopped)
  std::uint32_t buffer_mib = 4;  // -B
  bool dump = false;             // -d
  bool parity_check = false;     // --parity-check
  bool stats = false;            // --stats
  RotationOptions rotation;      // -C MB, -G SECONDS, -W N (base_path unused here)
  std::string connect;           // --connect PATH: capture through wgcap serve
  std::string wg_peers;          // --wg-peers FILE: -r's peers (`wg show IFACE dump`)
  bool help = false;
  bool version = false;
  std::string expression; // the remaining arguments joined by spaces
};

template <typename T> bool ParseDecimal(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

// Number parsers shared with `wgcap serve`'s options.
bool ParseDurationMs(std::string_view text, std::int64_t& ms);
bool ParseByteSize(std::string_view text, std::uint64_t& bytes); // 64K, 100M, 2G

// A usage error's Error::message names the offending option.
Result<Arguments> ParseArguments(int argc, char** argv);

// `wgcap --help`: every option in the tables below (a test holds it to that).
std::string HelpText();

// getopt_long's tables: the short options (with ':' marking a value, after
// the leading ':') and the long ones. --connect rewrites a request with them.
std::string_view ShortOptions();
std::span<const option> LongOptions();

} // namespace wgcap::cli
