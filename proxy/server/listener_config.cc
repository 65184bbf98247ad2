#include "proxy/server/listener_config.h"

#include "proxy/network/tls/tls_config.h"

namespace remora::server {

ListenerConfig::ListenerConfig(const config::Listener& listener, stats::Store& store,
                               telemetry::AccessLogManager& access_logs)
    : config(listener) {
  if (listener.filter_chains.size() != 1) {
    // Choosing among chains needs filter_chain_match, which is not supported yet.
    listener.source.fail("exactly one filter chain is supported, found " +
                         std::to_string(listener.filter_chains.size()));
  }
  const config::FilterChain& chain = listener.filter_chains.front();
  if (chain.http_connection_manager) {
    http = std::make_shared<const http::ConnectionManagerConfig>(*chain.http_connection_manager,
                                                                 store, access_logs);
  } else if (chain.tcp_proxy) {
    tcp = std::make_shared<const tcp::TcpProxyConfig>(*chain.tcp_proxy, store, access_logs);
  } else {
    listener.source.fail("filter chain has no terminal network filter");
  }
  if (chain.transport_socket) {
    tls = network::tls::TlsContext::create(
        network::tls::parseDownstreamTlsContext(chain.transport_socket->typed_config));
  }
}

}  // namespace remora::server
