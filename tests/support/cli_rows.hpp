// SPDX-License-Identifier: Apache-2.0
// Table rows of bad input for the wgcap binary (SPEC 7): each names the exit
// code, what stderr must say and stdout exactly. Shared by the unit matrix
// and the privileged rows that need a real interface.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace wgcap::test {

struct CliRow {
  CliRow(std::string row_name, std::vector<std::string> row_args, int code,
         std::vector<std::string> err_parts, std::string stdout_text)
      : name(std::move(row_name)), args(std::move(row_args)), exit_code(code),
        err(std::move(err_parts)), out(std::move(stdout_text)) {}
  CliRow& Stdin(std::string data) {
    stdin_data = std::move(data);
    return *this;
  }
  CliRow& AsNobody() {
    unprivileged = true;
    return *this;
  }
  CliRow& Absent(std::string path) {
    absent.push_back(std::move(path));
    return *this;
  }
  // Runs the binary behind these words (`ip netns exec NS`).
  CliRow& Through(std::vector<std::string> words) {
    wrapper = std::move(words);
    return *this;
  }
  // Text stderr must not hold ("listening on": nothing was attached).
  CliRow& Without(std::string text) {
    not_err.push_back(std::move(text));
    return *this;
  }

  std::string name;
  std::vector<std::string> args;
  int exit_code;
  std::vector<std::string> err; // each must appear in stderr
  std::string out;              // stdout, exactly
  std::string stdin_data;
  bool unprivileged = false;        // as uid/gid 65534 when run as root
  std::vector<std::string> absent;  // paths that must not exist afterwards
  std::vector<std::string> wrapper; // argv before the binary's
  std::vector<std::string> not_err; // none may appear in stderr
};

// Runs every row, each under SCOPED_TRACE(name); no row may crash, abort or
// trip a sanitizer.
void RunRows(const std::vector<CliRow>& rows);

// A usage error: exit 2, "wgcap: MESSAGE" and the pointer to --help.
CliRow UsageRow(const std::vector<std::string>& args, const std::string& message);

// Bad values of tcpdump's flags and of the output format, after `source`
// (-r FILE or -i IFACE) and before `-w out`: each exit 2, nothing on stdout,
// `out` absent. `missing` names a file that does not exist (for -F).
std::vector<CliRow> BadValueRows(const std::vector<std::string>& source, const std::string& out,
                                 const std::string& missing);

} // namespace wgcap::test
