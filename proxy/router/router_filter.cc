#include "proxy/router/router_filter.h"

#include "proxy/common/callback_clock.h"
#include "proxy/http/grpc.h"
#include "proxy/router/route_table.h"

namespace remora::router {

using filters::FilterStatus;
using stream::ResponseFlag;

namespace {
constexpr std::string_view kResetBody =
    "upstream connect error or disconnect/reset before headers. reset reason: ";
}

filters::FilterFactoryCb RouterFactory::createFilterFactory(
    const config::ConfigNode& typed_config, const filters::FilterFactoryContext&) const {
  auto cfg = std::make_shared<RouterConfig>();
  if (typed_config.valid()) {
    typed_config.expectFields({"@type", "suppress_envoy_headers", "dynamic_stats"});
    cfg->suppress_envoy_headers = typed_config.boolOr("suppress_envoy_headers", false);
    typed_config.boolOr("dynamic_stats", true);  // type-checked; stats are always dynamic here
  }
  return [cfg](filters::FilterContext& context) {
    return std::make_unique<RouterFilter>(context, cfg);
  };
}

RouterFilter::RouterFilter(filters::FilterContext& context,
                           std::shared_ptr<const RouterConfig> config)
    : context_(context), config_(std::move(config)) {}

RouterFilter::~RouterFilter() = default;

FilterStatus RouterFilter::onRequestHeaders(http::RequestHead& head, bool end_stream) {
  stream::StreamInfo& info = callbacks().streamInfo();
  route_ = callbacks().route();
  if (!route_) {
    callbacks().sendLocalReply(404, "", "route_not_found", ResponseFlag::NoRouteFound);
    return FilterStatus::Stop;
  }
  switch (route_->actionKind()) {
    case config::Route::ActionKind::DirectResponse:
      callbacks().sendLocalReply(static_cast<int>(route_->directResponse().status),
                                 route_->directResponse().body, "direct_response",
                                 ResponseFlag::None);
      return FilterStatus::Stop;
    case config::Route::ActionKind::Redirect:
      sendRedirect(*route_, head);
      return FilterStatus::Stop;
    case config::Route::ActionKind::Route:
      break;
  }

  grpc_ = http::grpc::isGrpcRequest(head);
  const config::RouteAction& action = route_->routeAction();
  const std::string& cluster_name = route_->pickCluster(context_.resources.random());
  if (!action.weighted_clusters.empty()) weighted_cluster_ = cluster_name;
  info.cluster_name = cluster_name;
  upstream::ThreadLocalCluster* cluster = context_.clusters.get(cluster_name);
  if (!cluster) {
    callbacks().sendLocalReply(503, "", "cluster_not_found", ResponseFlag::NoClusterFound);
    return FilterStatus::Stop;
  }
  if (action.idle_timeout) callbacks().overrideStreamIdleTimeout(*action.idle_timeout);
  cluster_stats_ = &cluster->info().stats.shard(context_.resources.thread_index);
  if (route_->stats()) route_stats_ = &route_->stats()->shard(context_.resources.thread_index);
  const std::shared_ptr<const upstream::Host>& host = cluster->chooseHost();
  if (!host) {
    cluster_stats_->upstream_cx_none_healthy.inc();
    callbacks().sendLocalReply(503, "no healthy upstream", "no_healthy_upstream",
                               ResponseFlag::NoHealthyUpstream);
    return FilterStatus::Stop;
  }
  info.upstream_host = host->address;

  original_path_ = head.path;
  route_->rewriteRequest(head);
  if (head.path != original_path_ && !config_->suppress_envoy_headers) {
    head.headers.set("x-envoy-original-path", original_path_);
  }
  const auto type = cluster->info().config.type;
  if (action.auto_host_rewrite && type != config::Cluster::DiscoveryType::Static) {
    head.authority = host->hostname;
  }
  route_->applyRequestHeaderMutations(head,
                                      weighted_cluster_.empty() ? nullptr : &weighted_cluster_);

  request_end_ = end_stream;
  if (action.timeout.count() > 0 && !timeout_) {
    timeout_ = std::make_unique<DeadlineTimer>(context_.resources.loop, [this] { onTimeout(); });
  }
  if (end_stream) onRequestEnd();

  pool_ = &cluster->poolFor(host, head.protocol);
  host_stats_ = &pool_->hostStats();
  upstream_start_ = callback_clock::steadyNow();
  connecting_ = pool_->newStream(*this);
  if (connecting_) {
    pending_ = true;
    cluster_stats_->upstream_rq_pending_total.inc();
    cluster_stats_->upstream_rq_pending_active.inc();
  }
  return FilterStatus::Stop;
}

void RouterFilter::sendRedirect(const RouteEntry& route, const http::RequestHead& head) {
  http::ResponseHead response;
  response.status = static_cast<int>(route.redirect().response_code);
  response.headers.add("location", route.redirectLocation(head));
  response.headers.add("content-length", "0");
  route.applyResponseHeaderMutations(response, nullptr);
  callbacks().streamInfo().response_code_details = "redirect";
  callbacks().encodeHeaders(std::move(response), true);
}

void RouterFilter::onRequestEnd() {
  // set() with a zero timeout (a route without one) clears a recycled filter's deadline.
  if (timeout_ && route_) timeout_->set(route_->routeAction().timeout);
}

void RouterFilter::leavePending() {
  if (!std::exchange(pending_, false)) return;
  cluster_stats_->upstream_rq_pending_active.dec();
}

void RouterFilter::chargeResponseCode(int status) {
  if (std::exchange(code_charged_, true) || !cluster_stats_) return;
  cluster_stats_->upstream_rq_by_code.inc(status);
  cluster_stats_->upstreamResponseClass(status).inc();
  if (host_stats_) (status >= 500 ? host_stats_->rq_error : host_stats_->rq_success).inc();
  if (route_stats_) {
    route_stats_->upstream_rq_by_code.inc(status);
    route_stats_->upstreamResponseClass(status).inc();
  }
}

void RouterFilter::finishUpstreamRequest() {
  if (!std::exchange(upstream_active_, false)) return;
  cluster_stats_->upstream_rq_active.dec();
  host_stats_->rq_active.dec();
  const double elapsed_ms =
      std::chrono::duration<double, std::milli>(callback_clock::steadyNow() - upstream_start_)
          .count();
  cluster_stats_->upstream_rq_time.record(elapsed_ms);
  if (route_stats_) route_stats_->upstream_rq_time.record(elapsed_ms);
}

void RouterFilter::onPoolReady(upstream::UpstreamClient& client) {
  connecting_ = nullptr;
  leavePending();
  upstream_active_ = true;
  cluster_stats_->upstream_rq_total.inc();
  cluster_stats_->upstream_rq_active.inc();
  if (route_stats_) route_stats_->upstream_rq_total.inc();
  host_stats_->rq_total.inc();
  host_stats_->rq_active.inc();
  client_ = &client;
  client.attach(*this);
  encoder_ = &client.codec().newStream(*this);
  const bool headers_only = request_end_ && pending_body_.empty() && !pending_trailers_;
  encoder_->encodeHeaders(callbacks().requestHead(), headers_only);
  if (!encoder_) return;  // the write failed and the connection is gone
  if (!pending_body_.empty() || (request_end_ && !headers_only && !pending_trailers_)) {
    std::string body = std::move(pending_body_);
    pending_body_.clear();
    encoder_->encodeData(body, request_end_ && !pending_trailers_);
  }
  if (encoder_ && pending_trailers_) encoder_->encodeTrailers(*pending_trailers_);
  request_sent_ = request_end_;
  if (read_disabled_for_pending_) {
    read_disabled_for_pending_ = false;
    callbacks().setDownstreamReadEnabled(true);
  }
}

void RouterFilter::onPoolFailure(upstream::PoolFailure reason) {
  connecting_ = nullptr;
  leavePending();
  cluster_stats_->upstream_rq_pending_failure_eject.inc();
  const bool timeout = reason == upstream::PoolFailure::ConnectTimeout;
  failBeforeResponse(503, ResponseFlag::UpstreamConnectionFailure,
                     timeout ? "connection timeout" : "connection failure",
                     timeout ? "upstream_reset_before_response_started{connection_timeout}"
                             : "upstream_reset_before_response_started{connection_failure}");
}

void RouterFilter::failBeforeResponse(int status, ResponseFlag flag, std::string_view reason,
                                      std::string_view details) {
  if (timeout_) timeout_->clear();
  chargeResponseCode(status);
  finishUpstreamRequest();
  callbacks().sendLocalReply(status, std::string(kResetBody) + std::string(reason), details, flag);
}

FilterStatus RouterFilter::onRequestData(std::string_view data, bool end_stream) {
  if (end_stream) {
    request_end_ = true;
    onRequestEnd();
  }
  if (encoder_) {
    encoder_->encodeData(data, end_stream);
    if (end_stream) {
      request_sent_ = true;
      if (tunnel_ && client_) client_->connection().shutdownWrite();
    }
    return FilterStatus::Stop;
  }
  pending_body_.append(data);
  if (!read_disabled_for_pending_ &&
      pending_body_.size() > context_.resources.read_buffer.kSize * 16) {
    // Still connecting: hold the client back instead of buffering without bound.
    read_disabled_for_pending_ = true;
    callbacks().setDownstreamReadEnabled(false);
  }
  return FilterStatus::Stop;
}

FilterStatus RouterFilter::onRequestTrailers(http::HeaderMap& trailers) {
  request_end_ = true;
  onRequestEnd();
  if (encoder_) {
    encoder_->encodeTrailers(trailers);
    request_sent_ = true;
  } else {
    pending_trailers_ = trailers;
  }
  return FilterStatus::Stop;
}

void RouterFilter::onTimeout() {
  callbacks().streamInfo().setFlag(ResponseFlag::UpstreamRequestTimeout);
  cluster_stats_->upstream_rq_timeout.inc();
  if (route_stats_) route_stats_->upstream_rq_timeout.inc();
  if (host_stats_) host_stats_->rq_timeout.inc();
  chargeResponseCode(504);
  finishUpstreamRequest();
  releaseUpstream(false);
  if (response_started_) {
    callbacks().resetStream();
    return;
  }
  callbacks().sendLocalReply(504, "upstream request timeout", "upstream_response_timeout",
                             ResponseFlag::UpstreamRequestTimeout);
}

void RouterFilter::decodeInformationalHeaders(http::ResponseHead&&) {
  // 100 Continue was already answered to the client by the connection manager.
}

void RouterFilter::decodeHeaders(http::ResponseHead&& head, bool end_stream) {
  response_started_ = true;
  stream::StreamInfo& info = callbacks().streamInfo();
  info.first_upstream_byte = callback_clock::steadyNow();
  info.response_code_details = "via_upstream";
  tunnel_ = head.status == 101;
  // gRPC's outcome is its grpc-status, in these headers (trailers-only) or in
  // the trailers: the code is charged when it is known.
  const std::optional<int> grpc_status = grpc_ ? http::grpc::status(head.headers) : std::nullopt;
  if (grpc_status) {
    callbacks().streamInfo().grpc_status = grpc_status;
    chargeResponseCode(http::grpc::toHttpStatus(*grpc_status));
  } else if (!grpc_ || head.status != 200 || end_stream) {
    chargeResponseCode(head.status);
  }
  route_->applyResponseHeaderMutations(head,
                                       weighted_cluster_.empty() ? nullptr : &weighted_cluster_);
  if (!config_->suppress_envoy_headers) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        *info.first_upstream_byte - upstream_start_);
    head.headers.set("x-envoy-upstream-service-time", std::to_string(elapsed.count()));
  }
  if (tunnel_ && timeout_) timeout_->clear();
  if (end_stream) onUpstreamComplete();
  callbacks().encodeHeaders(std::move(head), end_stream);
}

void RouterFilter::decodeData(std::string_view data, bool end_stream) {
  if (end_stream) {
    chargeResponseCode(200);  // a gRPC response that ended without trailers
    onUpstreamComplete();
  }
  callbacks().encodeData(data, end_stream);
}

void RouterFilter::decodeTrailers(http::HeaderMap&& trailers) {
  const std::optional<int> grpc_status = grpc_ ? http::grpc::status(trailers) : std::nullopt;
  if (grpc_status) {
    callbacks().streamInfo().grpc_status = grpc_status;
    chargeResponseCode(http::grpc::toHttpStatus(*grpc_status));
  }
  chargeResponseCode(200);  // no grpc-status: the HTTP status (200) stands
  onUpstreamComplete();
  callbacks().encodeTrailers(std::move(trailers));
}

void RouterFilter::onUpstreamComplete() {
  upstream_complete_ = true;
  cluster_stats_->upstream_rq_completed.inc();
  if (route_stats_) route_stats_->upstream_rq_completed.inc();
  finishUpstreamRequest();
  if (timeout_) timeout_->clear();
  releaseUpstream(request_sent_ && !tunnel_);
}

void RouterFilter::releaseUpstream(bool complete) {
  if (connecting_) {
    pool_->cancel(*connecting_, *this);
    connecting_ = nullptr;
  }
  upstream::UpstreamClient* client = std::exchange(client_, nullptr);
  http::RequestEncoder* encoder = std::exchange(encoder_, nullptr);
  if (!client) return;
  // An unfinished HTTP/2 stream is reset on its own; the shared connection stays.
  if (client->http2() && encoder && !upstream_complete_) {
    encoder->resetStream(http::StreamResetReason::LocalReset);
  }
  pool_->release(*client, *this, complete);
}

void RouterFilter::onResetStream(http::StreamResetReason reason) {
  // The upstream (or the connection under it) ended this HTTP/2 stream.
  upstream::UpstreamClient* client = std::exchange(client_, nullptr);
  encoder_ = nullptr;
  if (client) pool_->release(*client, *this, true);
  onUpstreamFailed(reason == http::StreamResetReason::ProtocolError, "stream_reset");
}

void RouterFilter::onUpstreamConnectionLost(bool protocol_error, std::string_view details) {
  client_ = nullptr;
  encoder_ = nullptr;
  onUpstreamFailed(protocol_error, details);
}

void RouterFilter::onUpstreamFailed(bool protocol_error, std::string_view) {
  // A connection error reaches each HTTP/2 stream twice (its reset, then the
  // connection's loss): the first one counts.
  if (upstream_complete_ || std::exchange(upstream_failed_, true)) return;
  cluster_stats_->upstream_rq_rx_reset.inc();
  if (response_started_) {
    finishUpstreamRequest();
    callbacks().streamInfo().setFlag(ResponseFlag::UpstreamConnectionTermination);
    callbacks().resetStream();
    return;
  }
  if (protocol_error) {
    failBeforeResponse(502, ResponseFlag::UpstreamProtocolError, "protocol error",
                       "upstream_reset_before_response_started{protocol_error}");
  } else {
    failBeforeResponse(503, ResponseFlag::UpstreamConnectionTermination, "connection termination",
                       "upstream_reset_before_response_started{connection_termination}");
  }
}

void RouterFilter::onUpstreamAboveHighWatermark() {
  // The connection's write buffer and (HTTP/2) this stream's queue report separately.
  if (upstream_above_watermarks_++ == 0) callbacks().setDownstreamReadEnabled(false);
}

void RouterFilter::onUpstreamBelowLowWatermark() {
  if (upstream_above_watermarks_ > 0 && --upstream_above_watermarks_ == 0) {
    callbacks().setDownstreamReadEnabled(true);
  }
}

void RouterFilter::onDownstreamAboveHighWatermark() { setUpstreamReadEnabled(false); }

void RouterFilter::onDownstreamBelowLowWatermark() { setUpstreamReadEnabled(true); }

void RouterFilter::setUpstreamReadEnabled(bool enabled) {
  if (!client_) return;
  if (!client_->http2()) {
    client_->connection().setReadEnabled(enabled);
  } else if (encoder_) {
    // A shared HTTP/2 connection keeps reading for its other streams: only this
    // stream's window stays closed.
    encoder_->setReadEnabled(enabled);
  }
}

bool RouterFilter::recycle() {
  // Every per-stream member goes back to its initial value; buffers keep their capacity.
  route_ = nullptr;
  weighted_cluster_.clear();
  pool_ = nullptr;
  cluster_stats_ = nullptr;
  route_stats_ = nullptr;
  host_stats_ = nullptr;
  pending_ = false;
  upstream_active_ = false;
  code_charged_ = false;
  connecting_ = nullptr;
  client_ = nullptr;
  encoder_ = nullptr;
  pending_body_.clear();
  pending_trailers_.reset();
  request_end_ = false;
  request_sent_ = false;
  response_started_ = false;
  upstream_complete_ = false;
  upstream_failed_ = false;
  tunnel_ = false;
  grpc_ = false;
  read_disabled_for_pending_ = false;
  upstream_above_watermarks_ = 0;
  if (timeout_) timeout_->clear();
  return true;
}

void RouterFilter::onDestroy() {
  if (timeout_) timeout_->clear();
  if (pending_) cluster_stats_->upstream_rq_cancelled.inc();
  leavePending();
  if (upstream_active_) cluster_stats_->upstream_rq_tx_reset.inc();
  finishUpstreamRequest();
  // Unfinished exchanges leave the connection in an unknown state: close it.
  releaseUpstream(upstream_complete_ && request_sent_ && !tunnel_);
}

}  // namespace remora::router
