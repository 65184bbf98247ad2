// A listener as the workers run it: the parsed config plus its network filter's
// compiled config (HTTP connection manager or TCP proxy). Built on the main thread.
#pragma once

#include <memory>

#include "config/bootstrap.h"
#include "proxy/http/connection_manager_config.h"
#include "proxy/network/tls/tls_context.h"
#include "proxy/tcp/tcp_proxy.h"

namespace remora::server {

struct ListenerConfig {
  // Throws config::ConfigError.
  ListenerConfig(const config::Listener& listener, stats::Store& store,
                 telemetry::AccessLogManager& access_logs);

  config::Listener config;
  std::shared_ptr<const http::ConnectionManagerConfig> http;  // exactly one of these two
  std::shared_ptr<const tcp::TcpProxyConfig> tcp;
  // envoy.transport_sockets.tls on the filter chain, or null for plaintext.
  std::shared_ptr<const network::tls::TlsContext> tls;
};

}  // namespace remora::server
