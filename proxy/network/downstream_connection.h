// Base of every accepted connection's owner (HTTP connection manager, TCP proxy
// session): the worker's listener owns them and drains or closes them all.
#pragma once

#include <chrono>
#include <functional>

#include "proxy/common/deferred_deleter.h"

namespace remora::network {

class DownstreamConnection : public Deletable {
 public:
  // Called exactly once when the connection has closed; the owner then defers the
  // object's deletion.
  void setOnClosed(std::function<void(DownstreamConnection&)> on_closed) {
    on_closed_ = std::move(on_closed);
  }
  // Finish what is in flight, then close (HTTP: "connection: close" on the next
  // response; idle connections close now).
  virtual void startDrain() = 0;
  virtual void closeNow() = 0;

  // For the listener's downstream_cx_length_ms.
  std::chrono::steady_clock::time_point accepted_at = std::chrono::steady_clock::now();

 protected:
  void notifyClosed() {
    if (auto cb = std::exchange(on_closed_, nullptr)) cb(*this);
  }

 private:
  std::function<void(DownstreamConnection&)> on_closed_;
};

}  // namespace remora::network
