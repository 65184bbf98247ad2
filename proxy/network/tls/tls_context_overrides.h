// The TLS contexts one worker gives its new connections. A listener's or cluster's
// config holds the context it was built with; when its certificate files change the
// main thread builds a replacement and posts it to every worker, which records it
// here under the configured context. Each worker owns its instance and is its only
// reader and writer, so a lookup takes no lock; connections already open keep the
// context they started with through their own shared_ptr.
#pragma once

#include <memory>
#include <unordered_map>

#include "proxy/network/tls/tls_context.h"

namespace remora::network::tls {

class TlsContextOverrides {
 public:
  // The context to use for a new connection configured with `configured` (which
  // may be null for plaintext: then null).
  const std::shared_ptr<const TlsContext>& current(
      const std::shared_ptr<const TlsContext>& configured) const {
    if (replaced_.empty() || !configured) return configured;
    const auto it = replaced_.find(configured.get());
    return it == replaced_.end() ? configured : it->second;
  }
  // From now on current(configured) is `replacement`. `configured` must outlive
  // this object (the listener or cluster config holds it for the server's life).
  void replace(const TlsContext& configured, std::shared_ptr<const TlsContext> replacement) {
    replaced_[&configured] = std::move(replacement);
  }

 private:
  std::unordered_map<const TlsContext*, std::shared_ptr<const TlsContext>> replaced_;
};

}  // namespace remora::network::tls
