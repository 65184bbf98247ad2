// The terminal HTTP filter: picks the route's cluster and host, takes a pooled
// upstream connection, streams the request up and the response down with flow
// control, and turns upstream failures into Envoy's statuses and response flags.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "filters/filter.h"
#include "filters/filter_registry.h"
#include "proxy/common/idle_timer.h"
#include "proxy/http/codec.h"
#include "proxy/router/router_filter_config.h"
#include "proxy/upstream/cluster_manager.h"
#include "proxy/upstream/upstream_client.h"

namespace remora::router {

class RouteEntry;

class RouterFilter : public filters::StreamFilter,
                     public upstream::PoolCallbacks,
                     public upstream::UpstreamStreamCallbacks,
                     public http::ResponseDecoder {
 public:
  RouterFilter(filters::FilterContext& context, std::shared_ptr<const RouterConfig> config);
  ~RouterFilter() override;

  // filters::StreamFilter
  filters::FilterStatus onRequestHeaders(http::RequestHead& head, bool end_stream) override;
  filters::FilterStatus onRequestData(std::string_view data, bool end_stream) override;
  filters::FilterStatus onRequestTrailers(http::HeaderMap& trailers) override;
  void onDownstreamAboveHighWatermark() override;
  void onDownstreamBelowLowWatermark() override;
  void onDestroy() override;
  bool recycle() override;

  // upstream::PoolCallbacks
  void onPoolReady(upstream::UpstreamClient& client) override;
  void onPoolFailure(upstream::PoolFailure reason) override;
  // upstream::UpstreamStreamCallbacks
  void onUpstreamConnectionLost(bool protocol_error, std::string_view details) override;
  void onUpstreamAboveHighWatermark() override;
  void onUpstreamBelowLowWatermark() override;
  // http::ResponseDecoder
  void decodeInformationalHeaders(http::ResponseHead&& head) override;
  void decodeHeaders(http::ResponseHead&& head, bool end_stream) override;
  void decodeData(std::string_view data, bool end_stream) override;
  void decodeTrailers(http::HeaderMap&& trailers) override;
  void onResetStream(http::StreamResetReason reason) override;
  void onAboveWriteBufferHighWatermark() override { onUpstreamAboveHighWatermark(); }
  void onBelowWriteBufferLowWatermark() override { onUpstreamBelowLowWatermark(); }

 private:
  void sendRedirect(const RouteEntry& route, const http::RequestHead& head);
  void setUpstreamReadEnabled(bool enabled);
  void onRequestEnd();
  void onTimeout();
  void onUpstreamComplete();
  // Gives the connection back to the pool (or closes it if it cannot be reused).
  void releaseUpstream(bool complete);
  void onUpstreamFailed(bool protocol_error, std::string_view details);
  void failBeforeResponse(int status, stream::ResponseFlag flag, std::string_view reason,
                          std::string_view details);
  // Stats: the request's end, with the status it got (from the upstream or our
  // local reply), and whether it went to the upstream at all.
  void chargeResponseCode(int status);
  void finishUpstreamRequest();
  void leavePending();

  filters::FilterContext& context_;
  std::shared_ptr<const RouterConfig> config_;
  const RouteEntry* route_ = nullptr;
  std::string weighted_cluster_;  // set when the cluster came from weighted_clusters
  upstream::ConnPool* pool_ = nullptr;
  stats::ClusterStats* cluster_stats_ = nullptr;
  stats::RouteStats* route_stats_ = nullptr;  // only for routes with stat_prefix
  upstream::HostStats* host_stats_ = nullptr;
  bool pending_ = false;          // counted in upstream_rq_pending_active
  bool upstream_active_ = false;  // counted in upstream_rq_active
  bool code_charged_ = false;
  upstream::UpstreamClient* connecting_ = nullptr;
  upstream::UpstreamClient* client_ = nullptr;
  http::RequestEncoder* encoder_ = nullptr;

  std::string pending_body_;  // request bytes that arrived before the connection
  std::optional<http::HeaderMap> pending_trailers_;
  bool request_end_ = false;
  bool request_sent_ = false;  // the whole request reached the upstream codec
  bool response_started_ = false;
  bool upstream_complete_ = false;
  bool upstream_failed_ = false;
  bool tunnel_ = false;
  bool grpc_ = false;
  bool read_disabled_for_pending_ = false;
  int upstream_above_watermarks_ = 0;
  // The route timeout; made on first use and kept while the filter is recycled.
  std::unique_ptr<DeadlineTimer> timeout_;
  std::string original_path_;  // the path before a rewrite
  std::chrono::steady_clock::time_point upstream_start_;
};

}  // namespace remora::router
