#include "proxy/server/listener_config.h"

#include "proxy/network/tls/tls_config.h"

namespace remora::server {

ListenerConfig::ListenerConfig(const config::Listener& listener, stats::Store& store,
                               telemetry::AccessLogManager& access_logs)
    : config(listener) {
  for (const config::FilterChain& chain : listener.filter_chains) {
    FilterChainConfig built;
    built.match = chain.match;
    if (chain.http_connection_manager) {
      built.http = std::make_shared<const http::ConnectionManagerConfig>(
          *chain.http_connection_manager, store, access_logs);
    } else if (chain.tcp_proxy) {
      built.tcp = std::make_shared<const tcp::TcpProxyConfig>(*chain.tcp_proxy, store, access_logs,
                                                              chain.network_rbac);
    } else {
      chain.source.fail("filter chain has no terminal network filter");
    }
    if (chain.transport_socket) {
      built.tls = network::tls::TlsContext::create(
          network::tls::parseDownstreamTlsContext(chain.transport_socket->typed_config));
    }
    const bool needs_inspection =
        !chain.match.server_names.empty() || !chain.match.transport_protocol.empty();
    if (needs_inspection && !listener.tls_inspector) {
      // Without it the server name and transport are unknown and such a chain
      // could never match: refuse the config instead of dropping connections.
      chain.source.fail(
          "filter_chain_match on server_names or transport_protocol needs the "
          "envoy.filters.listener.tls_inspector listener filter");
    }
    chains.push_back(std::move(built));
  }
}

namespace {
// How well `names` matches the server name: 3 exact, 2 + suffix length for a
// wildcard (longest wins), 1 for no names (any), 0 for no match.
size_t serverNameScore(const std::vector<std::string>& names, std::string_view server_name) {
  if (names.empty()) return 1;
  size_t best = 0;
  for (const std::string& name : names) {
    if (name == server_name) return SIZE_MAX;
    if (name.starts_with("*.") && server_name.size() > name.size() - 1 &&
        server_name.ends_with(std::string_view(name).substr(1))) {
      best = std::max(best, 2 + name.size());
    }
  }
  return best;
}
}  // namespace

const FilterChainConfig* ListenerConfig::select(bool tls, std::string_view server_name) const {
  std::string lowered(server_name);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string_view transport = tls ? "tls" : "raw_buffer";
  const FilterChainConfig* best = nullptr;
  size_t best_score = 0;
  int best_transport = 0;
  for (const FilterChainConfig& chain : chains) {
    const size_t score = serverNameScore(chain.match.server_names, lowered);
    if (score == 0) continue;
    const std::string& wanted = chain.match.transport_protocol;
    const int transport_score = wanted.empty() ? 1 : (wanted == transport ? 2 : 0);
    if (transport_score == 0) continue;
    if (score > best_score || (score == best_score && transport_score > best_transport)) {
      best = &chain;
      best_score = score;
      best_transport = transport_score;
    }
  }
  return best;
}

}  // namespace remora::server
