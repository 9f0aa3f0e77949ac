// SPDX-License-Identifier: Apache-2.0
#include "support/capture_contents.hpp"

namespace wgcap::test {

CaptureContents ReadCapture(CaptureFileReader& reader) {
  CaptureContents c;
  FileRecord record;
  for (;;) {
    auto more = reader.Next(record);
    if (!more) {
      c.error = more.error().message;
      return c;
    }
    if (!*more) {
      return c;
    }
    c.data.emplace_back(record.bytes.begin(), record.bytes.end());
    c.records.push_back(record);
  }
}

CaptureContents ReadCaptureFile(const std::string& path) {
  CaptureContents failed;
  auto in = ByteReader::OpenFile(path);
  if (!in) {
    failed.open_error = in.error().message;
    return failed;
  }
  auto reader = OpenCaptureFile(std::move(in).value());
  if (!reader) {
    failed.open_error = reader.error().message;
    return failed;
  }
  return ReadCapture(**reader);
}

} // namespace wgcap::test
