#include "proxy/upstream/conn_pool.h"

#include <algorithm>

#include "proxy/network/tls/tls_session.h"

namespace remora::upstream {

ConnPool::ConnPool(WorkerResources& resources, std::shared_ptr<const Host> host,
                   std::shared_ptr<const ClusterInfo> cluster, bool http2)
    : resources_(resources),
      host_(std::move(host)),
      cluster_(std::move(cluster)),
      cluster_stats_(cluster_->stats.shard(resources.thread_index)),
      host_stats_(host_->stats[resources.thread_index]),
      http2_(http2) {
  const config::Http2ProtocolOptions& h2 = cluster_->config.http2_options;
  http2_settings_.max_concurrent_streams = h2.max_concurrent_streams;
  http2_settings_.initial_stream_window_size = h2.initial_stream_window_size;
  http2_settings_.initial_connection_window_size = h2.initial_connection_window_size;
  http2_settings_.hpack_table_size = h2.hpack_table_size;
  http2_settings_.max_outbound_control_frames = h2.max_outbound_control_frames;
  http2_settings_.max_outbound_frames = h2.max_outbound_frames;
  http2_settings_.connection_buffer_limit = cluster_->config.per_connection_buffer_limit_bytes;
}

ConnPool::~ConnPool() {
  idle_.clear();
  for (auto& client : clients_) client->takeWaiting();
  clients_.clear();
}

UpstreamClient& ConnPool::createClient() {
  auto client = std::make_unique<UpstreamClient>(*this, resources_,
                                                 cluster_->config.per_connection_buffer_limit_bytes,
                                                 http2_, http2_settings_);
  UpstreamClient& raw = *client;
  if (cluster_->tls) {
    raw.connection().enableTls(
        std::make_unique<network::tls::TlsSession>(resources_.tls_contexts.current(cluster_->tls)));
  }
  clients_.push_back(std::move(client));
  cluster_stats_.upstream_cx_total.inc();
  (http2_ ? cluster_stats_.upstream_cx_http2_total : cluster_stats_.upstream_cx_http1_total).inc();
  cluster_stats_.upstream_cx_active.inc();
  host_stats_.cx_total.inc();
  host_stats_.cx_active.inc();
  raw.connection().connect(host_->sockaddr, cluster_->config.connect_timeout);
  return raw;
}

UpstreamClient* ConnPool::readyHttp2Client() {
  for (auto& client : clients_) {
    if (client->was_connected && client->connection().connected() && client->codec().reusable() &&
        client->codec().canStartStream()) {
      return client.get();
    }
  }
  return nullptr;
}

UpstreamClient* ConnPool::newStream(PoolCallbacks& callbacks) {
  if (http2_) {
    if (UpstreamClient* client = readyHttp2Client()) {
      callbacks.onPoolReady(*client);
      return nullptr;
    }
    // Join a connection still being set up while it has stream capacity.
    for (auto& client : clients_) {
      if (!client->was_connected && client->connection().open() &&
          client->waitingCount() < http2_settings_.max_concurrent_streams) {
        client->addWaiting(callbacks);
        return client.get();
      }
    }
    UpstreamClient& client = createClient();
    client.addWaiting(callbacks);
    return &client;
  }
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
  UpstreamClient& client = createClient();
  client.addWaiting(callbacks);
  return &client;
}

void ConnPool::cancel(UpstreamClient& connecting, PoolCallbacks& callbacks) {
  connecting.removeWaiting(callbacks);
  // An HTTP/1 connection was opened for this request alone.
  if (!connecting.http2()) connecting.connection().close(network::TcpConnection::CloseMode::Abort);
}

void ConnPool::release(UpstreamClient& client, UpstreamStreamCallbacks& stream, bool complete) {
  client.detach(stream);
  if (client.http2()) {
    if (!client.codec().reusable() && client.codec().activeStreams() == 0) {
      client.connection().close(network::TcpConnection::CloseMode::Abort);
    }
    return;
  }
  if (!complete || !client.connection().connected() || !client.codec().reusable() ||
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
  const std::vector<PoolCallbacks*> waiting = client.takeWaiting();
  if (waiting.empty() && !client.http2()) {
    client.idle = true;
    idle_.push_back(&client);
    return;
  }
  for (PoolCallbacks* w : waiting) {
    // A waiter's onPoolReady may close the connection (a failed write).
    if (!client.connection().connected()) {
      w->onPoolFailure(PoolFailure::ConnectFailure);
      continue;
    }
    w->onPoolReady(client);
  }
}

void ConnPool::onClientClosed(UpstreamClient& client, network::CloseReason reason) {
  removeIdle(client);
  recordClose(client, reason);
  const PoolFailure failure = reason == network::CloseReason::ConnectTimeout
                                  ? PoolFailure::ConnectTimeout
                                  : PoolFailure::ConnectFailure;
  for (PoolCallbacks* waiting : client.takeWaiting()) waiting->onPoolFailure(failure);
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
    if (reason == network::CloseReason::ConnectTimeout) {
      cluster_stats_.upstream_cx_connect_timeout.inc();
    }
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
