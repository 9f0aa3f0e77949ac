// SPDX-License-Identifier: Apache-2.0
// -F FILE: the filter expression read from a file, as tcpdump reads it.
#pragma once

#include <string>
#include <string_view>

#include "wgcap/result.hpp"

namespace wgcap::cli {

// FILE's text as one line of expression: `#` to the end of a line is a
// comment, line breaks and tabs are spaces (each character keeps its column,
// so a filter error's caret still points at it) and a NUL ends the text, as
// in tcpdump 4.99, which reads it as a C string. The error names FILE.
Result<std::string> ReadFilterFile(const std::string& path);

// The contents of a small file an option names (up to 1 MiB); errors start
// with "OPTION PATH".
Result<std::string> ReadOptionFile(const std::string& option, const std::string& path);

// The text part of ReadFilterFile, for tests.
std::string FilterFileText(std::string_view contents);

} // namespace wgcap::cli
