// Everything one HTTP connection manager needs, built once on the main thread and
// shared read-only by every worker.
#pragma once

#include <memory>
#include <vector>

#include "config/bootstrap.h"
#include "filters/filter_registry.h"
#include "proxy/http/codec.h"
#include "proxy/router/route_table.h"
#include "telemetry/access_log/access_log.h"
#include "telemetry/stats/stats_store.h"

namespace remora::http {

struct ConnectionManagerConfig {
  // Throws config::ConfigError (bad route table or filter chain).
  ConnectionManagerConfig(const config::HttpConnectionManager& hcm, stats::Store& store,
                          telemetry::AccessLogManager& access_log_manager)
      : config(hcm),
        stats(store.httpScope(hcm.stat_prefix)),
        route_table(router::RouteTable::create(hcm.route_config, &store)),
        filter_factories(filters::buildHttpFilterChain(hcm.http_filters, hcm.source)) {
    codec_limits.max_request_headers_kb = hcm.max_request_headers_kb;
    codec_limits.max_headers_count = hcm.max_headers_count;
    codec_limits.accept_http_10 = hcm.accept_http_10;
    codec_limits.default_host_for_http_10 = hcm.default_host_for_http_10;
    for (const config::AccessLogEntry& entry : hcm.access_log) {
      access_logs.push_back(access_log_manager.create(entry));
    }
  }

  bool upgradeAllowed(std::string_view upgrade) const {
    for (const std::string& t : config.upgrade_types) {
      if (equalsIgnoreCase(t, upgrade)) return true;
    }
    return false;
  }

  config::HttpConnectionManager config;
  stats::Scope<stats::HttpConnManagerStats>& stats;
  std::shared_ptr<const router::RouteTable> route_table;
  std::vector<filters::FilterFactoryCb> filter_factories;
  ServerCodecLimits codec_limits;
  std::vector<std::shared_ptr<const telemetry::AccessLog>> access_logs;
};

}  // namespace remora::http
