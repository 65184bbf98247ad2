// HTTP filter factories, registered by their Envoy names. A factory parses its
// typed_config once (at config load, on the main thread) into an immutable config
// captured by the returned callback, which workers call once per stream.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/bootstrap.h"
#include "filters/filter.h"
#include "proxy/common/worker_resources.h"
#include "proxy/server/server_state.h"

namespace remora::upstream {
class ClusterManager;
}
namespace remora::telemetry {
class WorkerAccessLogs;
}
namespace remora::stats {
class Store;
}

namespace remora::filters {

// What a filter may use on its worker.
struct FilterContext {
  WorkerResources& resources;
  upstream::ClusterManager& clusters;
  const ServerState& server;
  // This worker's access log buffers.
  telemetry::WorkerAccessLogs& access_logs;
};

using FilterFactoryCb = std::function<std::unique_ptr<StreamFilter>(FilterContext&)>;

// What a factory may use while it parses its config (main thread): filters that
// record stats register them here, under their connection manager's stat_prefix as
// Envoy does (http.<stat_prefix>.rbac.allowed).
struct FilterFactoryContext {
  stats::Store& store;
  const std::string& stat_prefix;
};

class HttpFilterFactory {
 public:
  virtual ~HttpFilterFactory() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view typeUrl() const = 0;
  // The terminal filter must be last in the chain (the router).
  virtual bool terminal() const { return false; }
  // Throws config::ConfigError naming the offending field.
  virtual FilterFactoryCb createFilterFactory(const config::ConfigNode& typed_config,
                                              const FilterFactoryContext& context) const = 0;
};

const HttpFilterFactory* findHttpFilterFactory(std::string_view name);

// Validates and builds an HTTP connection manager's chain: every filter known, its
// @type matching, its typed_config valid, exactly one terminal filter, last.
std::vector<FilterFactoryCb> buildHttpFilterChain(
    const std::vector<config::HttpFilterEntry>& entries,
    const config::ConfigNode& http_filters_node, const FilterFactoryContext& context);

}  // namespace remora::filters
