// SPDX-License-Identifier: Apache-2.0
// Appending to a text line without per-packet allocation once the line's
// buffer has grown, and without letting packet bytes reach a terminal raw.
#pragma once

#include <cstdint>
#include <string>

#include "text/bytes.hpp"

namespace wgcap::text {

// printf into the line (through a stack buffer; output over 256 bytes is cut).
void Appendf(std::string& line, const char* format, ...) __attribute__((format(printf, 2, 3)));

// Packet bytes shown as text (names, banners, SNI): printable ASCII
// (0x20-0x7e) as itself but a backslash doubled, anything else as \xHH. So
// no control character or escape sequence from a packet reaches the
// terminal, and the text stays unambiguous.
void AppendEscaped(std::string& line, Bytes bytes);

// An IPv4 (4 bytes) or IPv6 (16 bytes) address in its usual text form.
void AppendAddress(std::string& line, std::uint8_t family, const std::uint8_t* address);

} // namespace wgcap::text
