#include "proxy/tcp/tcp_proxy.h"

#include "filters/rbac/rbac_filter.h"
#include "proxy/network/tls/tls_stats.h"
#include "proxy/stream/downstream_tls_info.h"

namespace remora::tcp {

using network::TcpConnection;

TcpProxyConfig::TcpProxyConfig(config::TcpProxy c, stats::Store& store,
                               telemetry::AccessLogManager& access_log_manager,
                               const std::optional<config::ConfigNode>& network_rbac)
    : config(std::move(c)), stats(store.tcpScope(config.stat_prefix)) {
  if (network_rbac) {
    rbac.emplace(filters::rbac::parseNetworkRbacConfig(*network_rbac));
    rbac_stats = &store.networkRbacScope(rbac->stat_prefix, rbac->rules.shadow_rules_stat_prefix);
  }
  for (const config::AccessLogEntry& entry : config.access_log) {
    access_logs.push_back(access_log_manager.create(entry));
  }
  for (const auto& wc : config.weighted_clusters) total_weight += wc.weight;
}

const std::string& TcpProxyConfig::pickCluster(uint64_t random_value) const {
  if (config.weighted_clusters.empty()) return config.cluster;
  uint64_t pick = random_value % total_weight;
  for (const auto& wc : config.weighted_clusters) {
    if (pick < wc.weight) return wc.name;
    pick -= wc.weight;
  }
  return config.weighted_clusters.back().name;
}

TcpProxySession::TcpProxySession(filters::FilterContext& context,
                                 std::shared_ptr<const TcpProxyConfig> config,
                                 std::unique_ptr<TcpConnection> downstream,
                                 stats::SslStats* ssl_stats)
    : context_(context),
      config_(std::move(config)),
      downstream_(std::move(downstream)),
      stats_(config_->stats.shard(context.resources.thread_index)),
      ssl_stats_(ssl_stats),
      idle_timer_(context.resources.loop, [this] {
        stats_.idle_timeout.inc();
        closeBoth();
      }) {
  stats_.downstream_cx_total.inc();
  info_.downstream_remote_address = downstream_->peerAddress();
  downstream_->setCallbacks(downstream_side_);
  // Nothing is read from the client until there is somewhere to send it, unless RBAC
  // must see the first bytes before an upstream is chosen.
  awaiting_rbac_ = config_->rbac.has_value();
  downstream_->setReadEnabled(awaiting_rbac_);
  downstream_->startAccepted();
  idle_timer_.arm(config_->config.idle_timeout);
  info_.cluster_name = config_->pickCluster(context_.resources.random());
  cluster_ = context_.clusters.get(info_.cluster_name);
  if (cluster_) cluster_stats_ = &cluster_->info().stats.shard(context_.resources.thread_index);
  if (!awaiting_rbac_) connectUpstream();
}

TcpProxySession::~TcpProxySession() = default;

void TcpProxySession::connectUpstream() {
  std::shared_ptr<const upstream::Host> host = cluster_ ? cluster_->chooseHost() : nullptr;
  if (!host || closed_) {
    stats_.downstream_cx_no_route.inc();
    info_.setFlag(cluster_ ? stream::ResponseFlag::NoHealthyUpstream
                           : stream::ResponseFlag::NoClusterFound);
    if (cluster_stats_) cluster_stats_->upstream_cx_none_healthy.inc();
    closeBoth();
    return;
  }
  ++connect_attempts_;
  cluster_stats_->upstream_cx_total.inc();
  cluster_stats_->upstream_cx_active.inc();
  upstream_counted_ = true;
  upstream_ = std::make_unique<TcpConnection>(
      context_.resources.loop, context_.resources.read_buffer, context_.resources.write_batcher,
      cluster_->info().config.per_connection_buffer_limit_bytes);
  upstream_->setCallbacks(upstream_side_);
  info_.upstream_host = host->address;
  upstream_->connect(host->sockaddr, cluster_->info().config.connect_timeout);
}

bool TcpProxySession::admittedByRbac() {
  const http::RequestHead no_request;
  const filters::rbac::Engine::Decision decision = filters::rbac::evaluateRules(
      config_->rbac->rules, filters::rbac::RequestView(no_request, info_),
      config_->rbac_stats->shard(context_.resources.thread_index),
      stream::RbacMetadata::Filter::Network, info_);
  if (decision.allowed) return true;
  info_.setFlag(stream::ResponseFlag::RbacAccessDenied);
  // Envoy's network RBAC sets the connection termination details; the TCP access log
  // shows them in %RESPONSE_CODE_DETAILS% too.
  info_.connection_termination_details = filters::rbac::deniedResponseDetails(decision.policy);
  info_.response_code_details = info_.connection_termination_details;
  closeBoth();
  return false;
}

void TcpProxySession::onUpstreamConnected() {
  upstream_connected_ = true;
  if (!early_downstream_bytes_.empty())
    upstream_->write(std::exchange(early_downstream_bytes_, {}));
  downstream_->setReadEnabled(true);
}

void TcpProxySession::onDownstreamTlsHandshake() {
  stream::setDownstreamTls(*downstream_->tls(), info_);
  if (ssl_stats_) network::tls::recordHandshake(*downstream_->tls(), *ssl_stats_);
}

void TcpProxySession::onDownstreamTlsFailure(network::tls::TlsFailure failure) {
  if (ssl_stats_) network::tls::recordFailure(failure, *ssl_stats_);
}

void TcpProxySession::onData(bool from_upstream, std::string_view data) {
  idle_timer_.arm(config_->config.idle_timeout);
  if (!from_upstream && std::exchange(awaiting_rbac_, false)) {
    info_.bytes_received += data.size();
    stats_.downstream_cx_rx_bytes_total.inc(data.size());
    if (!admittedByRbac()) return;
    if (cluster_stats_) cluster_stats_->upstream_cx_tx_bytes_total.inc(data.size());
    early_downstream_bytes_.append(data);
    downstream_->setReadEnabled(false);
    connectUpstream();
    return;
  }
  if (from_upstream) {
    info_.bytes_sent += data.size();
    stats_.downstream_cx_tx_bytes_total.inc(data.size());
    cluster_stats_->upstream_cx_rx_bytes_total.inc(data.size());
  } else {
    info_.bytes_received += data.size();
    stats_.downstream_cx_rx_bytes_total.inc(data.size());
    cluster_stats_->upstream_cx_tx_bytes_total.inc(data.size());
  }
  if (!from_upstream && !upstream_connected_) {
    // Bytes a listener filter read before the upstream exists.
    early_downstream_bytes_.append(data);
    return;
  }
  TcpConnection* to = from_upstream ? downstream_.get() : upstream_.get();
  if (to) to->write(data);
}

void TcpProxySession::onEof(bool from_upstream) {
  if (!from_upstream && awaiting_rbac_) {
    closeBoth();  // the client left before RBAC could decide: nothing to relay
    return;
  }
  (from_upstream ? upstream_eof_ : downstream_eof_) = true;
  TcpConnection* to = from_upstream ? downstream_.get() : upstream_.get();
  if (to) to->shutdownWrite();
  if (upstream_eof_ && downstream_eof_) closeBoth();
}

void TcpProxySession::onSideClosed(bool upstream, network::CloseReason reason) {
  const bool connect_failed = reason == network::CloseReason::ConnectFailed ||
                              reason == network::CloseReason::ConnectTimeout;
  if (upstream && std::exchange(upstream_counted_, false)) {
    cluster_stats_->upstream_cx_active.dec();
    cluster_stats_->upstream_cx_destroy.inc();
    if (connect_failed) cluster_stats_->upstream_cx_connect_fail.inc();
    if (reason == network::CloseReason::ConnectTimeout)
      cluster_stats_->upstream_cx_connect_timeout.inc();
    if (connect_failed) info_.setFlag(stream::ResponseFlag::UpstreamConnectionFailure);
  }
  if (!closed_ && upstream && !upstream_connected_ && connect_failed &&
      connect_attempts_ < config_->config.max_connect_attempts) {
    context_.resources.deleter.defer(std::move(upstream_));
    connectUpstream();
    return;
  }
  closeBoth();
  finishIfClosed();
}

void TcpProxySession::finishIfClosed() {
  if (downstream_->open() || (upstream_ && upstream_->open())) return;
  writeAccessLogs();
  notifyClosed();
}

void TcpProxySession::writeAccessLogs() {
  if (std::exchange(logged_, true) || config_->access_logs.empty()) return;
  info_.end = stream::StreamInfo::Clock::now();
  const telemetry::LogContext context{nullptr, nullptr, nullptr, info_};
  for (const auto& log : config_->access_logs) context_.access_logs.log(*log, context);
}

void TcpProxySession::onWatermark(bool upstream_side, bool above) {
  // A full write queue on one side pauses reading on the other.
  TcpConnection* reader = upstream_side ? downstream_.get() : upstream_.get();
  if (reader && (upstream_side ? upstream_connected_ : true)) reader->setReadEnabled(!above);
}

void TcpProxySession::closeBoth() {
  if (closed_) return;
  closed_ = true;
  idle_timer_.disarm();
  if (upstream_) upstream_->close(TcpConnection::CloseMode::FlushWrite);
  downstream_->close(TcpConnection::CloseMode::FlushWrite);
  finishIfClosed();
}

void TcpProxySession::closeNow() {
  if (upstream_) upstream_->close(TcpConnection::CloseMode::Abort);
  downstream_->close(TcpConnection::CloseMode::Abort);
  closed_ = true;
  writeAccessLogs();
  notifyClosed();
}

}  // namespace remora::tcp
