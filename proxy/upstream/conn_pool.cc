#include "proxy/upstream/conn_pool.h"

#include <algorithm>

namespace remora::upstream {

ConnPool::ConnPool(WorkerResources& resources, std::shared_ptr<const Host> host,
                   std::shared_ptr<const ClusterInfo> cluster)
    : resources_(resources),
      host_(std::move(host)),
      cluster_(std::move(cluster)),
      cluster_stats_(cluster_->stats.shard(resources.thread_index)),
      host_stats_(host_->stats[resources.thread_index]) {}

ConnPool::~ConnPool() {
  idle_.clear();
  for (auto& client : clients_) {
    client->setWaiting(nullptr);
    client->attach(nullptr);
  }
  clients_.clear();
}

UpstreamClient* ConnPool::newStream(PoolCallbacks& callbacks) {
  while (!idle_.empty()) {
    UpstreamClient* client = idle_.back();
    idle_.pop_back();
    client->idle = false;
    // The upstream may have closed an idle connection a moment ago, with the FIN
    // not yet processed by the loop: check the socket itself before reusing it,
    // so no request is ever written into a connection the upstream closed.
    if (client->connection().peerClosedOrDirty()) {
      client->connection().close(network::TcpConnection::CloseMode::Abort);
      continue;
    }
    callbacks.onPoolReady(*client);
    return nullptr;
  }
  auto client = std::make_unique<UpstreamClient>(
      *this, resources_, cluster_->config.per_connection_buffer_limit_bytes);
  UpstreamClient* raw = client.get();
  clients_.push_back(std::move(client));
  cluster_stats_.upstream_cx_total.inc();
  cluster_stats_.upstream_cx_http1_total.inc();
  cluster_stats_.upstream_cx_active.inc();
  host_stats_.cx_total.inc();
  host_stats_.cx_active.inc();
  raw->setWaiting(&callbacks);
  raw->connection().connect(host_->sockaddr, cluster_->config.connect_timeout);
  return raw;
}

void ConnPool::cancel(UpstreamClient& connecting) {
  connecting.setWaiting(nullptr);
  connecting.connection().close(network::TcpConnection::CloseMode::Abort);
}

void ConnPool::release(UpstreamClient& client) {
  client.attach(nullptr);
  if (!client.connection().connected() || !client.codec().reusable() ||
      client.codec().streamActive()) {
    client.connection().close(network::TcpConnection::CloseMode::Abort);
    return;
  }
  client.idle = true;
  client.connection().setReadEnabled(true);
  idle_.push_back(&client);
}

void ConnPool::onClientConnected(UpstreamClient& client) {
  client.was_connected = true;
  cluster_stats_.upstream_cx_connect_ms.record(
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - client.created)
          .count());
  PoolCallbacks* waiting = client.waiting();
  client.setWaiting(nullptr);
  if (waiting) {
    waiting->onPoolReady(client);
  } else {
    release(client);
  }
}

void ConnPool::onClientClosed(UpstreamClient& client, network::CloseReason reason) {
  removeIdle(client);
  recordClose(client, reason);
  if (PoolCallbacks* waiting = client.waiting()) {
    client.setWaiting(nullptr);
    waiting->onPoolFailure(reason == network::CloseReason::ConnectTimeout
                               ? PoolFailure::ConnectTimeout
                               : PoolFailure::ConnectFailure);
  }
  auto it = std::find_if(clients_.begin(), clients_.end(),
                         [&](const auto& c) { return c.get() == &client; });
  if (it != clients_.end()) {
    resources_.deleter.defer(std::move(*it));
    clients_.erase(it);
  }
}

void ConnPool::recordClose(const UpstreamClient& client, network::CloseReason reason) {
  cluster_stats_.upstream_cx_active.dec();
  host_stats_.cx_active.dec();
  cluster_stats_.upstream_cx_destroy.inc();
  const bool local = reason == network::CloseReason::LocalClose && !client.peer_closed;
  (local ? cluster_stats_.upstream_cx_destroy_local : cluster_stats_.upstream_cx_destroy_remote)
      .inc();
  if (reason == network::CloseReason::ConnectFailed ||
      reason == network::CloseReason::ConnectTimeout) {
    cluster_stats_.upstream_cx_connect_fail.inc();
    host_stats_.cx_connect_fail.inc();
    if (reason == network::CloseReason::ConnectTimeout)
      cluster_stats_.upstream_cx_connect_timeout.inc();
  }
  cluster_stats_.upstream_cx_length_ms.record(
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - client.created)
          .count());
}

void ConnPool::removeIdle(UpstreamClient& client) {
  if (!client.idle) return;
  client.idle = false;
  std::erase(idle_, &client);
}

}  // namespace remora::upstream
