// Per-worker, per-host pool of upstream connections. HTTP/1.1: one stream per
// connection, idle connections reused (most recent first). HTTP/2: streams share
// a connection until its SETTINGS_MAX_CONCURRENT_STREAMS is reached; then another
// connection opens.
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
  // `http2`: the protocol of every connection of this pool.
  ConnPool(WorkerResources& resources, std::shared_ptr<const Host> host,
           std::shared_ptr<const ClusterInfo> cluster, bool http2);
  ~ConnPool();

  // Hands out a ready connection (onPoolReady runs before this returns, and the
  // result is nullptr) or queues the caller on a connecting one and returns it;
  // the caller may cancel() until onPoolReady/onPoolFailure runs.
  UpstreamClient* newStream(PoolCallbacks& callbacks);
  void cancel(UpstreamClient& connecting, PoolCallbacks& callbacks);
  // The stream is finished with the connection. A complete exchange leaves an
  // HTTP/1 connection reusable; otherwise it is closed (HTTP/2: the caller has
  // reset its stream and the connection stays).
  void release(UpstreamClient& client, UpstreamStreamCallbacks& stream, bool complete);

  const Host& host() const { return *host_; }
  // This worker's shards.
  stats::ClusterStats& clusterStats() { return cluster_stats_; }
  HostStats& hostStats() { return host_stats_; }

  // From UpstreamClient.
  void onClientConnected(UpstreamClient& client);
  void onClientClosed(UpstreamClient& client, network::CloseReason reason);

 private:
  UpstreamClient& createClient();
  UpstreamClient* readyHttp2Client();
  void removeIdle(UpstreamClient& client);
  void recordClose(const UpstreamClient& client, network::CloseReason reason);

  WorkerResources& resources_;
  std::shared_ptr<const Host> host_;
  std::shared_ptr<const ClusterInfo> cluster_;
  stats::ClusterStats& cluster_stats_;
  HostStats& host_stats_;
  const bool http2_;
  http::h2::Http2Settings http2_settings_;
  std::list<std::unique_ptr<UpstreamClient>> clients_;
  std::vector<UpstreamClient*> idle_;  // HTTP/1 only; most recently used last
};

}  // namespace remora::upstream
