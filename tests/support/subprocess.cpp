// SPDX-License-Identifier: Apache-2.0
#include "support/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace wgcap::test {
namespace {

void Check(int rc, const char* what) {
  if (rc != 0) {
    throw std::system_error(rc, std::generic_category(), what);
  }
}

} // namespace

ProcessResult Run(const std::vector<std::string>& argv, const std::string& stdin_data) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  posix_spawn_file_actions_t actions;
  Check(posix_spawn_file_actions_init(&actions), "file_actions_init");
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  Check(rc, "posix_spawnp");

  // Feed stdin and drain both outputs together so no pipe fills up.
  ProcessResult result;
  std::size_t fed = 0;
  int in_fd = in[1];
  if (stdin_data.empty()) {
    close(in_fd);
    in_fd = -1;
  } else {
    fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  signal(SIGPIPE, SIG_IGN);
  bool out_open = true, err_open = true;
  std::array<char, 65536> buf;
  while (out_open || err_open || in_fd >= 0) {
    std::array<pollfd, 3> fds{pollfd{out_open ? out[0] : -1, POLLIN, 0},
                              pollfd{err_open ? err[0] : -1, POLLIN, 0}, pollfd{in_fd, POLLOUT, 0}};
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
        const ssize_t n = read(fds[i].fd, buf.data(), buf.size());
        if (n > 0) {
          (i == 0 ? result.out : result.err).append(buf.data(), static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          (i == 0 ? out_open : err_open) = false;
        }
      }
    }
    if (in_fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t n = write(in_fd, stdin_data.data() + fed, stdin_data.size() - fed);
      if (n > 0) {
        fed += static_cast<std::size_t>(n);
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        fed = stdin_data.size();
      }
      if (fed == stdin_data.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  close(out[0]);
  close(err[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string WgcapBinary() {
  return WGCAP_BINARY;
}

} // namespace wgcap::test
