// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>

#include "wgcap/result.hpp"

namespace wgcap::cli {

enum class Mode { Auto, Bpf, AFPacket };

struct Arguments {
  std::string interface;         // -i
  std::string read_file;         // -r
  std::string write_file;        // -w ("-" = stdout)
  bool print = false;            // --print
  std::int64_t count = 0;        // -c (0 = unlimited)
  std::uint32_t snaplen = 65535; // -s
  bool unbuffered = false;       // -U
  bool verbose = false;          // -v: text with seq/ack, options, ttl, id, iplen
  bool ascii = false;            // -A: text followed by the payload as ASCII
  Mode mode = Mode::Auto;        // --mode
  std::int64_t duration_ms = 0;  // --duration (0 = until stopped)
  std::uint32_t buffer_mib = 4;  // -B
  bool dump = false;             // -d
  bool parity_check = false;     // --parity-check
  bool help = false;
  bool version = false;
  std::string expression; // the remaining arguments joined by spaces
};

// A usage error's Error::message names the offending option.
Result<Arguments> ParseArguments(int argc, char** argv);

std::string HelpText();

} // namespace wgcap::cli
