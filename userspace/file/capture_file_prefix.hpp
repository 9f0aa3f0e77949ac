// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>

#include "wgcap/result.hpp"

namespace wgcap {

// The length of the longest prefix of the pcap or pcapng file open on `fd`
// that ends at a record (block) boundary: what stays valid when a write
// failed in the middle of a record. 0 when not even the file header is
// complete.
Result<std::uint64_t> CompleteRecordsPrefix(int fd);

} // namespace wgcap
