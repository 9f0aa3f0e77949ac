// SPDX-License-Identifier: Apache-2.0
// A whole capture file read with OpenCaptureFile (pcap or pcapng, as the CLI
// reads them): its records, copies of their bytes, and where reading failed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "file/pcap_reader.hpp"

namespace wgcap::test {

struct CaptureContents {
  std::vector<FileRecord> records; // bytes spans are stale; the copies are in `data`
  std::vector<std::vector<std::uint8_t>> data;
  std::optional<std::string> error;      // from Next, after the records before it
  std::optional<std::string> open_error; // from OpenCaptureFile
};

CaptureContents ReadCapture(CaptureFileReader& reader);
CaptureContents ReadCaptureFile(const std::string& path);

} // namespace wgcap::test
