// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>

#include "wgcap/result.hpp"

namespace wgcap::cli {

struct Arguments {
  std::string read_file;         // -r
  std::string write_file;        // -w ("-" = stdout)
  bool print = false;            // --print
  std::int64_t count = 0;        // -c (0 = unlimited)
  std::uint32_t snaplen = 65535; // -s
  bool unbuffered = false;       // -U
  bool help = false;
  bool version = false;
  std::string expression; // the remaining arguments joined by spaces
};

// A usage error's Error::message names the offending option.
Result<Arguments> ParseArguments(int argc, char** argv);

std::string HelpText();

} // namespace wgcap::cli
