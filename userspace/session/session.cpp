// SPDX-License-Identifier: Apache-2.0
// Creating a session, and the calls that are not the producers' (those are
// in session_offer.cpp).
#include "wgcap/session.hpp"

#include "session/session_impl.hpp"

namespace wgcap {

Result<std::unique_ptr<Session>> Session::Create(Options options) {
  const bool has_sink = std::any_of(options.sinks.begin(), options.sinks.end(),
                                    [](const PacketSink* sink) { return sink != nullptr; });
  if (options.output == nullptr && options.text_output == nullptr && !has_sink) {
    return Error{"capture session: no output (set output, text_output or sinks)"};
  }
  const std::uint32_t snaplen =
      options.snaplen == 0 ? kDefaultSnaplen : std::min(options.snaplen, kMaxSnaplen);
  const std::size_t slots = options.buf_size == 0 ? kDefaultSlots : options.buf_size;
  const std::size_t lanes = options.producer_lanes == 0 ? kDefaultLanes : options.producer_lanes;
  const std::string queue_size = std::to_string(lanes + 1) + " queues of " + std::to_string(slots) +
                                 " slots of " + std::to_string(snaplen) + " bytes";
  if (lanes > kMaxLanes) {
    return Error{"capture session: " + std::to_string(lanes) + " producer lanes, at most " +
                 std::to_string(kMaxLanes)};
  }
  // The lanes and the shared queue each hold `slots` packets.
  if (slots > std::numeric_limits<std::size_t>::max() / snaplen / (lanes + 1)) {
    return Error{"capture session: " + queue_size + " is too large"};
  }
  RegisterAsymmetricFence();
  try {
    std::unique_ptr<Session> session(
        new Session(std::make_unique<Impl>(std::move(options), snaplen, slots, lanes)));
    Impl* impl = session->impl_.get();
    impl->writer = std::thread([impl] { impl->Run(); });
    return session;
  } catch (const std::bad_alloc&) {
    return Error{"capture session: cannot allocate " + queue_size, ENOMEM};
  } catch (const std::system_error& e) {
    return Error{std::string("capture session: start writer thread: ") + e.what(),
                 e.code().value()};
  }
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Session::~Session() {
  if (impl_) {
    Stop();
  }
}

bool Session::BeginDelivery() {
  return impl_->BeginDelivery();
}

bool Session::Deliver(const PacketRecord& packet) {
  return impl_->Deliver(packet);
}

void Session::EndDelivery(bool ran_dry) {
  impl_->EndDelivery(ran_dry);
}

void Session::Stop() {
  impl_->Stop();
}

bool Session::Done() const noexcept {
  return impl_->done.load(std::memory_order_acquire);
}

void Session::WaitDone() const {
  std::unique_lock lock(impl_->done_mutex);
  impl_->done_cv.wait(lock, [this] { return Done(); });
}

bool Session::WaitDoneFor(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->done_mutex);
  return impl_->done_cv.wait_for(lock, timeout, [this] { return Done(); });
}

Stats Session::GetStats() const noexcept {
  return impl_->GetStats();
}

void Session::SetKernelCounters(const KernelCounters& c, std::uint32_t ifindex) noexcept {
  Impl::KernelSource* source = impl_->KernelSourceFor(ifindex);
  if (source == nullptr) {
    return;
  }
  source->seen.store(c.seen, std::memory_order_relaxed);
  source->matched.store(c.matched, std::memory_order_relaxed);
  source->ring_drops.store(c.ring_drops, std::memory_order_relaxed);
  source->drops.store(c.drops, std::memory_order_relaxed);
  source->filter_fallback.store(c.filter_fallback, std::memory_order_relaxed);
}

// A source's slot, claimed on first use. The index is stored before the
// count that publishes the slot, so readers never see a slot half claimed.
Session::Impl::KernelSource* Session::Impl::KernelSourceFor(std::uint32_t ifindex) noexcept {
  auto find = [this, ifindex](std::size_t count) -> KernelSource* {
    for (std::size_t i = 0; i < count; ++i) {
      if (kernel_sources[i].ifindex.load(std::memory_order_relaxed) == ifindex) {
        return &kernel_sources[i];
      }
    }
    return nullptr;
  };
  if (KernelSource* known = find(kernel_source_count.load(std::memory_order_acquire))) {
    return known;
  }
  std::lock_guard lock(kernel_sources_mutex);
  const std::size_t count = kernel_source_count.load(std::memory_order_relaxed);
  if (KernelSource* known = find(count)) {
    return known;
  }
  if (count == kernel_sources.size()) {
    return nullptr;
  }
  kernel_sources[count].ifindex.store(ifindex, std::memory_order_relaxed);
  kernel_source_count.store(count + 1, std::memory_order_release);
  return &kernel_sources[count];
}

// The sums are always right; the per-source list is left empty should it
// not be allocated (GetStats cannot fail).
void Session::Impl::AddKernelCounters(Stats& s) const noexcept {
  const std::size_t count = kernel_source_count.load(std::memory_order_acquire);
  try {
    s.interfaces.reserve(count);
  } catch (const std::bad_alloc&) {
  }
  const bool listed = s.interfaces.capacity() >= count;
  for (std::size_t i = 0; i < count; ++i) {
    const KernelSource& k = kernel_sources[i];
    InterfaceCounters c;
    c.ifindex = k.ifindex.load(std::memory_order_relaxed);
    c.kernel.seen = k.seen.load(std::memory_order_relaxed);
    c.kernel.matched = k.matched.load(std::memory_order_relaxed);
    c.kernel.ring_drops = k.ring_drops.load(std::memory_order_relaxed);
    c.kernel.drops = k.drops.load(std::memory_order_relaxed);
    c.kernel.filter_fallback = k.filter_fallback.load(std::memory_order_relaxed);
    s.kernel_seen += c.kernel.seen;
    s.kernel_matched += c.kernel.matched;
    s.kernel_ring_drops += c.kernel.ring_drops;
    s.kernel_drops += c.kernel.drops;
    s.kernel_filter_fallback += c.kernel.filter_fallback;
    if (listed) {
      s.interfaces.push_back(c); // no allocation: reserved
    }
  }
}

Status Session::error() const {
  std::lock_guard lock(impl_->error_mutex);
  return impl_->first_error;
}

} // namespace wgcap
