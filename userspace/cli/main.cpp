// SPDX-License-Identifier: Apache-2.0
// wgcap: capture decrypted WireGuard traffic as pcap or text.
#include <csignal>
#include <cstdio>
#include <string_view>
#include <utility>

#include "cli/arguments.hpp"
#include "cli/connect_client.hpp"
#include "cli/exit_codes.hpp"
#include "cli/filter_file.hpp"
#include "cli/interface_list.hpp"
#include "cli/live_capture.hpp"
#include "cli/offline_capture.hpp"
#include "cli/parity_check.hpp"
#include "cli/serve_daemon.hpp"
#include "wgcap/filter_parser.hpp"
#include "wgcap_version.hpp"

int main(int argc, char** argv) {
  // A closed stdout pipe must surface as a write error (EPIPE), not kill us
  // before the output is finished and the counts are printed.
  std::signal(SIGPIPE, SIG_IGN);

  if (argc > 1 && std::string_view(argv[1]) == "serve") {
    return wgcap::cli::RunServe(argc - 1, argv + 1);
  }
  auto args = wgcap::cli::ParseArguments(argc, argv);
  if (!args) {
    std::fprintf(stderr, "wgcap: %s\nTry 'wgcap --help' for more information.\n",
                 args.error().message.c_str());
    return wgcap::cli::ExitCode(wgcap::ErrorKind::Usage);
  }
  if (args->help) {
    std::fputs(wgcap::cli::HelpText().c_str(), stdout);
    return 0;
  }
  if (args->version) {
    std::printf("wgcap %s\n", WGCAP_VERSION);
    return 0;
  }
  if (args->list_interfaces) {
    return wgcap::cli::RunListInterfaces();
  }
  if (!args->filter_file.empty()) {
    // As tcpdump 4.99 does, the file replaces any expression arguments.
    auto expression = wgcap::cli::ReadFilterFile(args->filter_file);
    if (!expression) {
      std::fprintf(stderr, "wgcap: %s\n", expression.error().message.c_str());
      return wgcap::cli::ExitCode(wgcap::ErrorKind::Usage); // -F names a file to read
    }
    args->expression = std::move(expression).value();
  }
  auto matcher = wgcap::ParseFilter(args->expression);
  if (!matcher) {
    std::fprintf(stderr, "wgcap: filter: %s\n", matcher.error().message.c_str());
    // Point at the column the error names.
    if (const int column = matcher.error().column; column > 0) {
      std::fprintf(stderr, "  %s\n  %*s^\n", args->expression.c_str(), column - 1, "");
    }
    return wgcap::cli::ExitCode(wgcap::KindOf(matcher.error()));
  }
  // Readings that differ from tcpdump's (SPEC 1): shown once, before anything runs.
  for (const std::string& warning : (*matcher)->expression().warnings) {
    std::fprintf(stderr, "wgcap: warning: %s\n", warning.c_str());
  }
  if (args->dump) {
    return wgcap::cli::DumpFilters(*args, **matcher);
  }
  if (!args->connect.empty()) {
    return wgcap::cli::RunConnect(*args, argc, argv); // the daemon checks the expression
  }
  if (args->parity_check) {
    return wgcap::cli::RunParityCheck(*args, **matcher);
  }
  if (!args->interface.empty()) {
    return wgcap::cli::RunLiveCapture(*args, std::move(matcher).value());
  }
  return wgcap::cli::RunOfflineCapture(*args, std::move(matcher).value());
}
