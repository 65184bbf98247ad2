// envoy.filters.network.tcp_proxy: one session per downstream connection, bytes
// relayed both ways with backpressure, half-close passed through, idle timeout.
#pragma once

#include <memory>
#include <string>

#include "config/bootstrap.h"
#include "filters/filter_registry.h"
#include "filters/rbac/rbac_config.h"
#include "proxy/common/timer.h"
#include "proxy/network/downstream_connection.h"
#include "proxy/network/tcp_connection.h"
#include "proxy/stream/stream_info.h"
#include "proxy/upstream/cluster_manager.h"
#include "telemetry/access_log/access_log.h"

namespace remora::tcp {

struct TcpProxyConfig {
  // `network_rbac`: the typed_config of an envoy.filters.network.rbac ahead of this
  // proxy; throws config::ConfigError when it is invalid.
  TcpProxyConfig(config::TcpProxy c, stats::Store& store,
                 telemetry::AccessLogManager& access_log_manager,
                 const std::optional<config::ConfigNode>& network_rbac = std::nullopt);
  // Deterministic weighted pick, as for HTTP routes.
  const std::string& pickCluster(uint64_t random_value) const;

  config::TcpProxy config;
  stats::Scope<stats::TcpProxyStats>& stats;
  std::vector<std::shared_ptr<const telemetry::AccessLog>> access_logs;
  uint64_t total_weight = 0;
  std::optional<filters::rbac::NetworkRbacConfig> rbac;
  // <the RBAC filter's stat_prefix>.rbac.*, set with `rbac`.
  stats::Scope<stats::RbacStats>* rbac_stats = nullptr;
};

class TcpProxySession : public network::DownstreamConnection {
 public:
  // `ssl_stats`: the listener's ssl.* counters when the connection is TLS.
  TcpProxySession(filters::FilterContext& context, std::shared_ptr<const TcpProxyConfig> config,
                  std::unique_ptr<network::TcpConnection> downstream,
                  stats::SslStats* ssl_stats = nullptr);
  ~TcpProxySession() override;

  void startDrain() override {}  // a TCP stream has no boundary to stop at
  void closeNow() override;

 private:
  // Relays one direction; `from` feeds `to`.
  struct Side : network::ConnectionCallbacks {
    Side(TcpProxySession& s, bool is_upstream) : session(s), upstream(is_upstream) {}
    void onConnected() override { session.onUpstreamConnected(); }
    void onData(std::string_view data) override { session.onData(upstream, data); }
    void onEof() override { session.onEof(upstream); }
    void onClosed(network::CloseReason reason) override { session.onSideClosed(upstream, reason); }
    void onAboveHighWatermark() override { session.onWatermark(upstream, true); }
    void onBelowLowWatermark() override { session.onWatermark(upstream, false); }
    void onTlsHandshake() override {
      if (!upstream) session.onDownstreamTlsHandshake();
    }
    void onTlsFailure(network::tls::TlsFailure failure) override {
      if (!upstream) session.onDownstreamTlsFailure(failure);
    }
    TcpProxySession& session;
    bool upstream;
  };

  void connectUpstream();
  // The network RBAC verdict on the first downstream bytes; false when the connection
  // was denied and is closing.
  bool admittedByRbac();
  void onUpstreamConnected();
  void onDownstreamTlsHandshake();
  void onDownstreamTlsFailure(network::tls::TlsFailure failure);
  void onData(bool from_upstream, std::string_view data);
  void onEof(bool from_upstream);
  void onSideClosed(bool upstream, network::CloseReason reason);
  void onWatermark(bool upstream_side, bool above);
  void closeBoth();
  // Tells the listener once both connections have finished closing.
  void finishIfClosed();
  void writeAccessLogs();

  filters::FilterContext& context_;
  std::shared_ptr<const TcpProxyConfig> config_;
  std::unique_ptr<network::TcpConnection> downstream_;
  std::unique_ptr<network::TcpConnection> upstream_;
  Side downstream_side_{*this, false};
  Side upstream_side_{*this, true};
  upstream::ThreadLocalCluster* cluster_ = nullptr;
  stats::TcpProxyStats& stats_;
  stats::SslStats* ssl_stats_;
  stats::ClusterStats* cluster_stats_ = nullptr;
  bool upstream_counted_ = false;  // in the cluster's upstream_cx_active
  stream::StreamInfo info_;
  bool logged_ = false;
  uint32_t connect_attempts_ = 0;
  bool upstream_connected_ = false;
  std::string early_downstream_bytes_;
  // Network RBAC runs on the first downstream bytes; the upstream is connected after.
  bool awaiting_rbac_ = false;
  bool downstream_eof_ = false;
  bool upstream_eof_ = false;
  bool closed_ = false;
  Timer idle_timer_;
};

}  // namespace remora::tcp
