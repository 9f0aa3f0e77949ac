// SPDX-License-Identifier: Apache-2.0
#include "support/cli_rows.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "support/subprocess.hpp"

namespace wgcap::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// What a crash, an abort or a sanitizer leaves on stderr.
constexpr const char* kCrashMarks[] = {"Sanitizer", "runtime error:", "terminate called",
                                       "Assertion", "Aborted",        "Segmentation fault"};

} // namespace

void RunRows(const std::vector<CliRow>& rows) {
  for (const CliRow& row : rows) {
    SCOPED_TRACE(row.name);
    std::vector<std::string> argv = row.wrapper;
    if (row.unprivileged && geteuid() == 0) {
      argv.insert(argv.end(),
                  {"setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"});
    }
    argv.push_back(WgcapBinary());
    argv.insert(argv.end(), row.args.begin(), row.args.end());
    const ProcessResult r = Run(argv, row.stdin_data);
    EXPECT_EQ(r.exit_code, row.exit_code) << r.err;
    for (const std::string& part : row.err) {
      EXPECT_THAT(r.err, HasSubstr(part));
    }
    EXPECT_EQ(r.out, row.out) << r.err;
    for (const std::string& text : row.not_err) {
      EXPECT_THAT(r.err, Not(HasSubstr(text)));
    }
    for (const char* mark : kCrashMarks) {
      EXPECT_THAT(r.err, Not(HasSubstr(mark)));
    }
    for (const std::string& path : row.absent) {
      EXPECT_FALSE(std::filesystem::exists(path)) << path;
    }
  }
}

CliRow UsageRow(const std::vector<std::string>& args, const std::string& message) {
  std::string name;
  for (const auto& a : args) {
    name += (name.empty() ? "" : " ") + (a.empty() ? std::string("''") : a);
  }
  return {name,
          args,
          2,
          {"wgcap: " + message + "\n", "Try 'wgcap --help' for more information.\n"},
          ""};
}

std::vector<CliRow> BadValueRows(const std::vector<std::string>& source, const std::string& out,
                                 const std::string& missing) {
  const auto with = [&](std::vector<std::string> words) {
    words.insert(words.begin(), source.begin(), source.end());
    words.insert(words.end(), {"-w", out});
    return words;
  };
  return {
      UsageRow(with({"-Q", "sideways"}),
               "-Q: unknown direction \"sideways\" (expected in, out or inout)")
          .Absent(out),
      CliRow("-F " + missing, with({"-F", missing}), 2,
             {"wgcap: -F " + missing + ": No such file or directory\n"}, "")
          .Absent(out),
      UsageRow(with({"--time-stamp-precision", "pico"}),
               "--time-stamp-precision: unknown precision \"pico\" (expected micro or nano)")
          .Absent(out),
      UsageRow(with({"--pcap", "--pcapng"}),
               "--pcap and --pcapng exclude each other: choose one file format")
          .Absent(out),
      UsageRow(with({"-tttttt"}),
               "-t: given more than 5 times (-t, -tt, -ttt, -tttt and -ttttt exist)")
          .Absent(out),
  };
}

} // namespace wgcap::test
