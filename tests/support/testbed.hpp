// SPDX-License-Identifier: Apache-2.0
// The WireGuard test network (scripts/testbed.sh) for one test binary, with
// names of its own so test binaries can run side by side. Down on
// destruction, also when the test failed. With Peers::Three, namespace C is
// a second peer of A (A the server, B and C its clients).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "support/subprocess.hpp"

namespace wgcap::test {

class Testbed {
public:
  enum class Peers { Two, Three };
  // `tag`: 1-3 characters distinguishing this user's names.
  explicit Testbed(const std::string& tag, Peers peers = Peers::Two);
  ~Testbed();
  Testbed(const Testbed&) = delete;
  Testbed& operator=(const Testbed&) = delete;

  bool up() const noexcept { return up_; }
  const std::string& up_output() const noexcept { return up_output_; }

  std::string ns_a, ns_b, if_a, if_b;
  std::string addr_a = "198.51.100.1", addr_b = "198.51.100.2";
  std::string addr6_a = "2001:db8:100::1", addr6_b = "2001:db8:100::2";
  // Only with Peers::Three (else empty).
  std::string ns_c, if_c;
  std::string addr_c = "198.51.100.3", addr6_c = "2001:db8:100::3";
  // Each end's public key (44 base64 characters) once up; key_c with C only.
  std::string key_a, key_b, key_c;

  // What is attached to if_a: its tc filters on both hooks and a count of
  // its tcx programs; "" when nothing is.
  std::string HooksOnA() const;

  // argv run inside namespace A or B.
  std::vector<std::string> InA(std::vector<std::string> argv) const;
  std::vector<std::string> InB(std::vector<std::string> argv) const;
  std::vector<std::string> InC(std::vector<std::string> argv) const;

private:
  ProcessResult Script(const std::string& verb) const;
  bool up_ = false;
  std::string up_output_;
};

// Runs `body` on a thread that has entered network namespace `ns`, so the
// sockets it opens live there. Fails the test when the namespace is missing.
void InNamespace(const std::string& ns, const std::function<void()>& body);

enum class TcxHook { Both, Ingress, Egress };

// Programs attached on the tcx hooks of `interface` in namespace `ns`.
int TcxPrograms(const std::string& ns, const std::string& interface, TcxHook hook = TcxHook::Both);

} // namespace wgcap::test
