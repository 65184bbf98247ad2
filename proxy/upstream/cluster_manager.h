// The worker's view of the clusters: load balancing state and connection pools are
// per worker; the cluster description and host sets are shared immutable snapshots.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxy/common/worker_resources.h"
#include "proxy/http/message.h"
#include "proxy/upstream/conn_pool.h"
#include "proxy/upstream/host.h"

namespace remora::upstream {

class ThreadLocalCluster {
 public:
  ThreadLocalCluster(WorkerResources& resources, std::shared_ptr<const ClusterInfo> info,
                     std::shared_ptr<const HostSet> hosts);

  const ClusterInfo& info() const { return *info_; }
  const std::shared_ptr<const ClusterInfo>& infoPtr() const { return info_; }
  void updateHosts(std::shared_ptr<const HostSet> hosts);
  // The next host by the cluster's lb_policy, or an empty pointer when it has none.
  // A reference into the current host set (no reference count traffic per request):
  // valid until the next updateHosts().
  const std::shared_ptr<const Host>& chooseHost();
  // The pool for requests that came in `downstream` (which picks the protocol only
  // with use_downstream_protocol_config).
  ConnPool& poolFor(const std::shared_ptr<const Host>& host, http::Protocol downstream);

 private:
  const std::shared_ptr<const Host>& chooseRoundRobin();
  const std::shared_ptr<const Host>& chooseRandom();

  WorkerResources& resources_;
  std::shared_ptr<const ClusterInfo> info_;
  std::shared_ptr<const HostSet> hosts_;
  // Smooth weighted round robin (equal weights degrade to plain round robin).
  std::vector<int64_t> current_weight_;
  // Pools outlive membership changes: a stream may still hold one of their
  // connections, and a host that comes back reuses its pool. Keyed by "ip:port".
  std::unordered_map<std::string, std::unique_ptr<ConnPool>> pools_;
  // use_downstream_protocol_config: the HTTP/2 pools (pools_ holds the HTTP/1.1 ones).
  std::unordered_map<std::string, std::unique_ptr<ConnPool>> downstream_h2_pools_;
};

class ClusterManager {
 public:
  explicit ClusterManager(WorkerResources& resources) : resources_(resources) {}
  void addCluster(std::shared_ptr<const ClusterInfo> info, std::shared_ptr<const HostSet> hosts);
  void updateHosts(const std::string& cluster, std::shared_ptr<const HostSet> hosts);
  ThreadLocalCluster* get(const std::string& name);

 private:
  WorkerResources& resources_;
  std::unordered_map<std::string, std::unique_ptr<ThreadLocalCluster>> clusters_;
};

}  // namespace remora::upstream
