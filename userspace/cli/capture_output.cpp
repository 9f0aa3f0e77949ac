// SPDX-License-Identifier: Apache-2.0
#include "cli/capture_output.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>

#include "cli/exit_codes.hpp"
#include "cli/line_flushing_writer.hpp"
#include "wgcap_version.hpp"

namespace wgcap::cli {
namespace {

// What the pcapng section and interface blocks record about the capture.
PcapngWriterOptions PcapngOptionsFor(const Arguments& args,
                                     const std::vector<SelectedInterface>& interfaces) {
  PcapngWriterOptions o;
  o.snaplen = args.snaplen;
  if (interfaces.size() > 1) {
    for (const SelectedInterface& i : interfaces) {
      o.interfaces.push_back(PcapngInterface{i.name, static_cast<std::uint32_t>(i.ifindex)});
    }
  } else if (!interfaces.empty()) {
    o.interface_name = interfaces[0].name; // `-i all-wg` names the link it found
    o.ifindex = static_cast<std::uint32_t>(interfaces[0].ifindex);
  } else if (!args.interface.empty()) {
    o.interface_name = args.interface; // bound by the first packet
  } else {
    o.interface_name = args.read_file == "-" ? "stdin" : args.read_file;
  }
  o.filter = args.expression;
  o.application = std::string("wgcap ") + WGCAP_VERSION;
  if (utsname u{}; uname(&u) == 0) {
    o.os = std::string(u.sysname) + " " + u.release;
  }
  return o;
}

// --time-stamp-precision; pcapng records nanoseconds either way.
PcapTimePrecision PrecisionFor(const Arguments& args) {
  return args.time_stamp_nano ? PcapTimePrecision::Nano : PcapTimePrecision::Micro;
}

} // namespace

Status CaptureOutput::Open(const Arguments& args, Options& options, ByteWriter* stdout_writer) {
  if (args.rotation.max_bytes > 0 || args.rotation.max_seconds > 0 || args.rotation.max_files > 0) {
    // The flight recorder: a series of complete files, each with its header.
    RotationOptions rotation = args.rotation;
    rotation.base_path = args.write_file;
    const bool pcapng = args.pcapng;
    const PcapngWriterOptions pcapng_options = PcapngOptionsFor(args, interfaces_);
    const std::uint32_t snaplen = args.snaplen;
    const PcapTimePrecision precision = PrecisionFor(args);
    rotating_ = std::make_unique<RotatingFileSink>(
        rotation,
        [pcapng, pcapng_options, snaplen,
         precision](ByteWriter& out) -> Result<std::unique_ptr<PacketSink>> {
          std::unique_ptr<PacketSink> writer;
          Status header;
          if (pcapng) {
            auto w = std::make_unique<PcapngWriter>(out, pcapng_options);
            header = w->WriteHeader();
            writer = std::move(w);
          } else {
            auto w = std::make_unique<PcapWriter>(out, snaplen, precision);
            header = w->WriteHeader();
            writer = std::move(w);
          }
          if (!header) {
            return header.error();
          }
          return writer;
        });
    options.sinks.push_back(rotating_.get());
  } else if (!args.write_file.empty()) {
    ByteWriter* out;
    if (args.write_file == "-") {
      if (stdout_writer != nullptr) {
        out = stdout_writer;
      } else {
        pcap_stdout_ = std::make_unique<FdWriter>(STDOUT_FILENO, "stdout");
        out = pcap_stdout_.get();
      }
    } else {
      auto file =
          owner_ ? AtomicFileWriter::CreateInPlace(args.write_file, owner_->first, owner_->second)
                 : AtomicFileWriter::Create(args.write_file);
      if (!file) {
        return file.error();
      }
      file_ = std::move(file).value();
      out = file_.get();
    }
    // Written at open, so a capture of zero packets is still a valid file.
    if (args.pcapng) {
      pcapng_ = std::make_unique<PcapngWriter>(*out, PcapngOptionsFor(args, interfaces_));
      if (auto s = pcapng_->WriteHeader(); !s) {
        return s;
      }
      options.sinks.push_back(pcapng_.get());
    } else {
      pcap_ = std::make_unique<PcapWriter>(*out, args.snaplen, PrecisionFor(args));
      if (auto s = pcap_->WriteHeader(); !s) {
        return s;
      }
      options.sinks.push_back(pcap_.get());
    }
  }
  options.sinks.insert(options.sinks.end(), extra_sinks_.begin(), extra_sinks_.end());
  if (args.write_file.empty() || args.print) {
    if (stdout_writer != nullptr) {
      options.text_output = stdout_writer;
    } else {
      text_stdout_ = std::make_unique<FdWriter>(STDOUT_FILENO, "stdout");
      options.text_output = text_stdout_.get();
    }
    if (args.line_buffered) {
      text_lines_ = std::make_unique<LineFlushingWriter>(*options.text_output);
      options.text_output = text_lines_.get();
    }
  }
  return {};
}

Result<std::unique_ptr<Session>> CaptureOutput::OpenSession(const Arguments& args,
                                                            std::shared_ptr<const Matcher> matcher,
                                                            ByteWriter* stdout_writer) {
  Options options;
  options.matcher = std::move(matcher);
  options.snaplen = args.snaplen;
  options.packet_limit = args.count;
  options.flush_every_packet = args.unbuffered;
  options.text_options = args.text;
  if (auto opened = Open(args, options, stdout_writer); !opened) {
    return opened.error();
  }
  const bool text_shows_peers =
      options.text_output != nullptr && (args.text.interface_name || args.text.verbose);
  const bool file_records_peers = !args.write_file.empty() && args.pcapng;
  if (filter_reads_peers_ || text_shows_peers || file_records_peers) {
    options.peers = peers_;
  }
  return Session::Create(std::move(options));
}

Status CaptureOutput::Commit(bool write_failed) {
  if (file_) {
    return write_failed ? file_->CommitCompleteRecords() : file_->Commit();
  }
  if (rotating_ && write_failed) {
    // The Session finished the sink unless the sink itself failed; then the
    // open file is kept too, cut back like a single -w file.
    return rotating_->KeepCompleteRecords();
  }
  if (pcap_stdout_) {
    return pcap_stdout_->Flush();
  }
  return {};
}

int Fail(const Error& error) {
  std::fprintf(stderr, "wgcap: %s\n", error.message.c_str());
  return ExitCode(KindOf(error));
}

} // namespace wgcap::cli
