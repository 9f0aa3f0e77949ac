// SPDX-License-Identifier: Apache-2.0
#include "cli/connect_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "base/unique_fd.hpp"
#include "cli/capture_output.hpp"
#include "cli/connect_request.hpp"
#include "cli/signals.hpp"
#include "serve/frame.hpp"
#include "wgcap/byte_writer.hpp"

namespace wgcap::cli {
namespace {

using serve::FrameType;

Result<UniqueFd> Connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Error{"--connect " + path + ": path too long", ENAMETOOLONG};
  }
  std::strcpy(addr.sun_path, path.c_str());
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid() || connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return ErrnoError("connect to wgcap serve at " + path, errno,
                      errno == EACCES ? "the socket's group must include you"
                                      : "is the daemon running?");
  }
  return fd;
}

} // namespace

int RunConnect(const Arguments& args, int argc, char** argv) {
  CaptureSignals signals;
  auto sock = Connect(args.connect);
  if (!sock) {
    return Fail(sock.error());
  }
  // A daemon that refuses us may close before reading the request; its
  // reason is still waiting to be read, so a failed send is reported only
  // when no answer follows.
  const Status sent = serve::SendFrame(sock->get(), FrameType::Arguments,
                                       serve::JoinArguments(RequestArguments(args, argc, argv)));
  // Where the stream goes: the file (atomically) or stdout.
  std::unique_ptr<AtomicFileWriter> file;
  FdWriter stdout_writer(STDOUT_FILENO, "stdout");
  ByteWriter* out = &stdout_writer;
  if (!args.write_file.empty() && args.write_file != "-") {
    auto created = AtomicFileWriter::Create(args.write_file);
    if (!created) {
      return Fail(created.error());
    }
    file = std::move(created).value();
    out = file.get();
  }
  bool stop_sent = false;
  bool streamed = false; // the daemon sent capture output
  for (;;) {
    const SignalEvent event = signals.Wait(0);
    if (event == SignalEvent::Stop && !stop_sent) {
      (void)serve::SendFrame(sock->get(), FrameType::Stop, std::string_view());
      stop_sent = true;
    }
    pollfd p{sock->get(), POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) {
      continue;
    }
    auto frame = serve::ReadFrame(sock->get(), 5000);
    if (!frame) {
      return Fail(frame.error());
    }
    if (!*frame) {
      return Fail(sent ? Error{"wgcap serve closed the connection before the capture ended", EPIPE}
                       : sent.error());
    }
    switch ((*frame)->type) {
    case FrameType::Output:
      if (auto w = out->Write(std::string_view((*frame)->payload)); !w) {
        return Fail(w.error());
      }
      // The daemon already batches; pass each batch on so pipes see it live.
      (void)out->Flush();
      streamed = true;
      break;
    case FrameType::Message:
      std::fputs((*frame)->payload.c_str(), stderr);
      break;
    case FrameType::Exit: {
      const int code =
          (*frame)->payload.empty() ? 1 : static_cast<std::uint8_t>((*frame)->payload[0]);
      Status finished = out->Flush();
      // A refused request (missing interface, bad value) streamed nothing:
      // no file is left, as for a local capture. A capture that failed
      // midway keeps its complete records.
      if (file && code == 0) {
        finished = file->Commit();
      } else if (file && streamed) {
        finished = file->CommitCompleteRecords();
      }
      if (!finished) {
        return Fail(finished.error());
      }
      return code;
    }
    default:
      return Fail(Error{"unexpected frame from wgcap serve", EPROTO});
    }
  }
}

} // namespace wgcap::cli
