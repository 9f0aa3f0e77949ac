// SPDX-License-Identifier: Apache-2.0
// `wgcap serve`: the privileged part of wgcap as a daemon on a Unix socket.
// Permitted users (SO_PEERCRED against --allow-uid / --allow-group; root
// always) send the usual capture arguments and get the capture streamed back
// (serve/frame.hpp); each capture runs on its own thread with its own hooks.
// Given -i IFACE -w BASE as well, it also records IFACE for its whole life
// (serve_recorder.hpp).
#pragma once

namespace wgcap::cli {

// argv[0] is "serve". Returns the exit code.
int RunServe(int argc, char** argv);

} // namespace wgcap::cli
