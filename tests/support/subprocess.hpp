// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

namespace wgcap::test {

struct ProcessResult {
  int exit_code = -1; // -1 when killed by a signal
  std::string out;    // stdout
  std::string err;    // stderr
};

// Runs argv[0] (searched in PATH) with no shell, optional stdin bytes, and
// collects stdout, stderr and the exit code.
ProcessResult Run(const std::vector<std::string>& argv, const std::string& stdin_data = {});

// Path of the wgcap binary under test.
std::string WgcapBinary();

} // namespace wgcap::test
