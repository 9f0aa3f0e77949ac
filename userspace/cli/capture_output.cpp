// SPDX-License-Identifier: Apache-2.0
#include "cli/capture_output.hpp"

#include <unistd.h>

#include <cstdio>

namespace wgcap::cli {

Status CaptureOutput::Open(const Arguments& args, Options& options) {
  if (!args.write_file.empty()) {
    ByteWriter* out;
    if (args.write_file == "-") {
      pcap_stdout_ = std::make_unique<FdWriter>(STDOUT_FILENO, "stdout");
      out = pcap_stdout_.get();
    } else {
      auto file = AtomicFileWriter::Create(args.write_file);
      if (!file) {
        return file.error();
      }
      file_ = std::move(file).value();
      out = file_.get();
    }
    // Written at open, so a capture of zero packets is still a valid file.
    pcap_ = std::make_unique<PcapWriter>(*out, args.snaplen);
    if (auto s = pcap_->WriteHeader(); !s) {
      return s;
    }
    options.sinks.push_back(pcap_.get());
  }
  if (args.write_file.empty() || args.print) {
    text_stdout_ = std::make_unique<FdWriter>(STDOUT_FILENO, "stdout");
    options.text_output = text_stdout_.get();
  }
  return {};
}

Result<std::unique_ptr<Session>>
CaptureOutput::OpenSession(const Arguments& args, std::shared_ptr<const Matcher> matcher) {
  Options options;
  options.matcher = std::move(matcher);
  options.snaplen = args.snaplen;
  options.packet_limit = args.count;
  options.flush_every_packet = args.unbuffered;
  options.verbose = args.verbose;
  options.ascii = args.ascii;
  if (auto opened = Open(args, options); !opened) {
    return opened.error();
  }
  return Session::Create(std::move(options));
}

Status CaptureOutput::Commit() {
  if (file_) {
    return file_->Commit();
  }
  if (pcap_stdout_) {
    return pcap_stdout_->Flush();
  }
  return {};
}

int Fail(const Error& error) {
  std::fprintf(stderr, "wgcap: %s\n", error.message.c_str());
  return 1;
}

} // namespace wgcap::cli
