// Upstream endpoints and the immutable cluster description shared by all workers.
#pragma once

#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "config/bootstrap.h"

namespace remora::upstream {

struct Host {
  std::string hostname;  // as configured (DNS name or IP literal), for auto_host_rewrite
  std::string address;   // "ip:port", for logs and %UPSTREAM_HOST%
  sockaddr_storage sockaddr{};
  uint32_t weight = 1;
};

// A snapshot of a cluster's membership. Replaced whole when DNS changes it; a
// stream keeps the snapshot it started with.
struct HostSet {
  std::vector<std::shared_ptr<const Host>> hosts;
};

struct ClusterInfo {
  explicit ClusterInfo(config::Cluster c) : config(std::move(c)) {}
  config::Cluster config;
  const std::string& name() const { return config.name; }
};

}  // namespace remora::upstream
