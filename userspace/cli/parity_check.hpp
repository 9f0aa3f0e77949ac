// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "cli/arguments.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap::cli {

// `wgcap --parity-check -r FILE EXPR`: every packet through the Matcher, the
// classic socket filter (the kernel's interpreter, on a socket pair) and the
// TC program (BPF_PROG_TEST_RUN); prints each disagreement. Exit 3 if any.
int RunParityCheck(const Arguments& args, const ExpressionMatcher& matcher);

} // namespace wgcap::cli
