// Per-worker, per-host pool of upstream HTTP/1.1 connections with idle reuse.
#pragma once

#include <list>
#include <memory>
#include <vector>

#include "proxy/common/worker_resources.h"
#include "proxy/upstream/host.h"
#include "proxy/upstream/upstream_client.h"

namespace remora::upstream {

class ConnPool {
 public:
  ConnPool(WorkerResources& resources, std::shared_ptr<const Host> host,
           std::shared_ptr<const ClusterInfo> cluster);
  ~ConnPool();

  // Hands out an idle connection (onPoolReady runs before this returns, and the
  // result is nullptr) or starts a new one and returns it; the caller may cancel()
  // it until onPoolReady/onPoolFailure runs.
  UpstreamClient* newStream(PoolCallbacks& callbacks);
  void cancel(UpstreamClient& connecting);
  // The stream is finished with the connection: keep it for reuse or close it.
  void release(UpstreamClient& client);

  const Host& host() const { return *host_; }
  // This worker's shards.
  stats::ClusterStats& clusterStats() { return cluster_stats_; }
  HostStats& hostStats() { return host_stats_; }
  size_t idleCount() const { return idle_.size(); }
  size_t totalCount() const { return clients_.size(); }

  // From UpstreamClient.
  void onClientConnected(UpstreamClient& client);
  void onClientClosed(UpstreamClient& client, network::CloseReason reason);

 private:
  void removeIdle(UpstreamClient& client);
  void recordClose(const UpstreamClient& client, network::CloseReason reason);

  WorkerResources& resources_;
  std::shared_ptr<const Host> host_;
  std::shared_ptr<const ClusterInfo> cluster_;
  stats::ClusterStats& cluster_stats_;
  HostStats& host_stats_;
  std::list<std::unique_ptr<UpstreamClient>> clients_;
  std::vector<UpstreamClient*> idle_;  // most recently used last
};

}  // namespace remora::upstream
