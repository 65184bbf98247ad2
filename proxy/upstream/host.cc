#include "proxy/upstream/host.h"

#include "proxy/network/tls/tls_config.h"

namespace remora::upstream {

ClusterInfo::ClusterInfo(config::Cluster c, stats::Store& store)
    : config(std::move(c)),
      stats(store.clusterScope(config.name)),
      threads(store.mainThreadShard() + 1) {
  if (config.transport_socket) {
    tls = network::tls::TlsContext::create(
        network::tls::parseUpstreamTlsContext(config.transport_socket->typed_config));
  }
}

}  // namespace remora::upstream
