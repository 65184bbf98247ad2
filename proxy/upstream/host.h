// Upstream endpoints and the immutable cluster description shared by all workers.
#pragma once

#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "config/bootstrap.h"
#include "proxy/network/tls/tls_context.h"
#include "telemetry/stats/stats_store.h"

namespace remora::upstream {

// Per-host counters for /clusters, one slot per thread, each written by its
// own worker only.
struct HostStats {
  stats::Counter cx_total;
  stats::Counter cx_connect_fail;
  stats::Counter rq_total;
  stats::Counter rq_success;
  stats::Counter rq_error;
  stats::Counter rq_timeout;
  stats::Gauge cx_active;
  stats::Gauge rq_active;
};

struct Host {
  explicit Host(size_t threads) : stats(std::make_unique<HostStats[]>(threads)) {}
  std::string hostname;  // as configured (DNS name or IP literal), for auto_host_rewrite
  std::string address;   // "ip:port", for logs and %UPSTREAM_HOST%
  sockaddr_storage sockaddr{};
  uint32_t weight = 1;
  std::unique_ptr<HostStats[]> stats;
};

// A snapshot of a cluster's membership. Replaced whole when DNS changes it; a
// stream keeps the snapshot it started with.
struct HostSet {
  std::vector<std::shared_ptr<const Host>> hosts;
};

struct ClusterInfo {
  // Throws config::ConfigError (a bad UpstreamTlsContext).
  ClusterInfo(config::Cluster c, stats::Store& store);
  config::Cluster config;
  stats::Scope<stats::ClusterStats>& stats;
  size_t threads;  // stats slots per host
  // envoy.transport_sockets.tls toward the upstream, or null for plaintext.
  std::shared_ptr<const network::tls::TlsContext> tls;
  const std::string& name() const { return config.name; }
};

}  // namespace remora::upstream
