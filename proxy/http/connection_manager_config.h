// Everything one HTTP connection manager needs, built once on the main thread and
// shared read-only by every worker.
#pragma once

#include <memory>
#include <vector>

#include "config/bootstrap.h"
#include "filters/filter_registry.h"
#include "proxy/http/codec.h"
#include "proxy/http/h2/settings.h"
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
        http2_stats(store.http2()),
        route_table(router::RouteTable::create(hcm.route_config, &store)),
        filter_factories(filters::buildHttpFilterChain(
            hcm.http_filters, hcm.source,
            filters::FilterFactoryContext{.store = store, .stat_prefix = hcm.stat_prefix})) {
    codec_limits.max_request_headers_kb = hcm.max_request_headers_kb;
    codec_limits.max_headers_count = hcm.max_headers_count;
    codec_limits.accept_http_10 = hcm.accept_http_10;
    codec_limits.default_host_for_http_10 = hcm.default_host_for_http_10;
    http2_settings.max_concurrent_streams = hcm.http2.max_concurrent_streams;
    http2_settings.initial_stream_window_size = hcm.http2.initial_stream_window_size;
    http2_settings.initial_connection_window_size = hcm.http2.initial_connection_window_size;
    http2_settings.hpack_table_size = hcm.http2.hpack_table_size;
    http2_settings.max_outbound_control_frames = hcm.http2.max_outbound_control_frames;
    http2_settings.max_outbound_frames = hcm.http2.max_outbound_frames;
    http2_settings.max_request_headers_kb = hcm.max_request_headers_kb;
    http2_settings.max_headers_count = hcm.max_headers_count;
    http2_settings.stream_flush_timeout = hcm.stream_idle_timeout;
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
  stats::Scope<stats::Http2Stats>& http2_stats;
  std::shared_ptr<const router::RouteTable> route_table;
  std::vector<filters::FilterFactoryCb> filter_factories;
  ServerCodecLimits codec_limits;
  h2::Http2Settings http2_settings;
  std::vector<std::shared_ptr<const telemetry::AccessLog>> access_logs;
};

}  // namespace remora::http
