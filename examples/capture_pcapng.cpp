// SPDX-License-Identifier: Apache-2.0
// Captures one interface to a pcapng file through libwgcap's public API:
// ParseFilter -> Session (with a PcapngWriter sink) <- OpenCapture.
// usage: capture_pcapng INTERFACE FILE.pcapng [SECONDS [EXPRESSION]]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "wgcap/wgcap.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s INTERFACE FILE.pcapng [SECONDS [EXPRESSION]]\n", argv[0]);
    return 2;
  }
  const int seconds = argc > 3 ? std::atoi(argv[3]) : 5;
  auto matcher = wgcap::ParseFilter(argc > 4 ? argv[4] : "");
  auto file = wgcap::AtomicFileWriter::Create(argv[2]);
  if (!matcher || !file) {
    std::fprintf(stderr, "%s\n", (!matcher ? matcher.error() : file.error()).message.c_str());
    return 2;
  }
  wgcap::PcapngWriterOptions file_options;
  file_options.interface_name = argv[1];
  wgcap::PcapngWriter pcapng(**file, file_options);
  wgcap::Options options;
  options.sinks = {&pcapng};
  options.matcher = *matcher;
  auto session = wgcap::Session::Create(options);
  wgcap::CaptureOptions capture_options; // bpf where it runs, else AF_PACKET
  capture_options.expression = (*matcher)->expression();
  auto capture = session ? wgcap::OpenCapture(argv[1], **session, capture_options)
                         : wgcap::Result<std::unique_ptr<wgcap::Capture>>(session.error());
  if (!capture) {
    std::fprintf(stderr, "%s: %s\n", wgcap::ToString(wgcap::KindOf(capture.error())),
                 capture.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", (*capture)->description().c_str());
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  (*capture)->Stop();
  (*session)->Stop();
  const wgcap::Stats stats = (*session)->GetStats();
  std::printf("%lld packets captured\n", static_cast<long long>(stats.packets));
  return (*session)->error() && (*file)->Commit() ? 0 : 1;
}
