// Building host sets on the main thread: from static IP endpoints, and by
// periodic DNS resolution (STRICT_DNS: every address of every endpoint;
// LOGICAL_DNS: the first address only) on libuv's thread pool, off the workers.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proxy/common/timer.h"
#include "proxy/upstream/host.h"

namespace remora::upstream {

std::shared_ptr<const HostSet> staticHostSet(const ClusterInfo& cluster);

class DnsRefresher {
 public:
  // `on_update` runs on the main loop after every resolution round whose result
  // differs from the last one; `on_round` after every round (for initialisation).
  DnsRefresher(uv_loop_t* loop, std::shared_ptr<const ClusterInfo> cluster,
               std::function<void(std::shared_ptr<const HostSet>)> on_update,
               std::function<void(bool success)> on_round);
  ~DnsRefresher();

  void start();

 private:
  struct Lookup;
  static void onResolved(uv_getaddrinfo_t* req, int status, addrinfo* result);
  void resolveAll();
  void finishRound();

  uv_loop_t* loop_;
  std::shared_ptr<const ClusterInfo> cluster_;
  std::function<void(std::shared_ptr<const HostSet>)> on_update_;
  std::function<void(bool)> on_round_;
  std::vector<Lookup*> in_flight_;
  std::vector<std::shared_ptr<const Host>> round_hosts_;
  bool round_failed_ = false;
  std::vector<std::string> last_addresses_;
  stats::ClusterStats& stats_;  // the main thread's shard
  Timer refresh_timer_;
};

}  // namespace remora::upstream
