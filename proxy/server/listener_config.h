// A listener as the workers run it: its filter chains, each with its network
// filter's compiled config (HTTP connection manager or TCP proxy) and its TLS
// context, and the rules that pick a chain for a connection. Built on the main
// thread.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "config/bootstrap.h"
#include "proxy/http/connection_manager_config.h"
#include "proxy/network/tls/tls_context.h"
#include "proxy/tcp/tcp_proxy.h"

namespace remora::server {

struct FilterChainConfig {
  config::FilterChainMatch match;
  std::shared_ptr<const http::ConnectionManagerConfig> http;  // exactly one of these two
  std::shared_ptr<const tcp::TcpProxyConfig> tcp;
  // envoy.transport_sockets.tls on the chain, or null for plaintext.
  std::shared_ptr<const network::tls::TlsContext> tls;
};

struct ListenerConfig {
  // Throws config::ConfigError.
  ListenerConfig(const config::Listener& listener, stats::Store& store,
                 telemetry::AccessLogManager& access_logs);

  // The chain for a connection, by Envoy's precedence: server name (exact, then
  // the longest "*." wildcard, then chains without server_names), then transport
  // protocol (the one named, then chains without one). Null: no chain matches.
  const FilterChainConfig* select(bool tls, std::string_view server_name) const;
  // The connection's first bytes must be inspected (tls_inspector) before a
  // chain can be chosen.
  bool inspects() const { return config.tls_inspector; }

  config::Listener config;
  std::vector<FilterChainConfig> chains;
};

}  // namespace remora::server
