#include "proxy/http/active_stream.h"

#include <charconv>
#include <iterator>

#include "proxy/http/connection_manager.h"
#include "proxy/http/header_utility.h"
#include "proxy/network/tls/tls_session.h"
#include "proxy/router/route_table.h"
#include "proxy/stream/downstream_tls_info.h"
#include "telemetry/access_log/access_log.h"

namespace remora::http {

ActiveStream::ActiveStream(ConnectionManager& connection, ResponseEncoder& encoder)
    : connection_(&connection),
      encoder_(&encoder),
      idle_timer_(connection.context().resources.loop, [this] { onStreamIdle(); }) {
  filters_.reserve(connection.config().filter_factories.size());
  for (const auto& factory : connection.config().filter_factories) {
    filters_.push_back(factory(connection.context()));
    filters_.back()->setCallbacks(*this);
  }
  start();
}

ActiveStream::~ActiveStream() = default;

void ActiveStream::reuse(ConnectionManager& connection, ResponseEncoder& encoder) {
  connection_ = &connection;
  encoder_ = &encoder;
  request_.clear();
  info_.reset();
  for (size_t i = 0; i < filters_.size(); ++i) {
    if (filters_[i]->recycle()) continue;
    filters_[i] = connection.config().filter_factories[i](connection.context());
    filters_[i]->setCallbacks(*this);
  }
  route_.reset();
  logged_trailers_.reset();
  request_stopped_at_.reset();
  buffered_request_data_.clear();
  buffered_request_trailers_.reset();
  request_end_buffered_ = false;
  response_stopped_at_.reset();
  response_.clear();
  response_headers_sent_ = false;
  buffered_response_data_.clear();
  response_end_buffered_ = false;
  response_origin_ = 0;
  response_headers_end_ = false;
  running_filter_ = 0;
  in_phase_ = false;
  headers_end_stream_ = false;
  request_complete_ = false;
  response_started_ = false;
  response_complete_ = false;
  finished_ = false;
  downstream_above_watermarks_ = 0;
  if (request_timer_) request_timer_->clear();
  start();
}

void ActiveStream::start() {
  ConnectionManager& connection = *connection_;
  idle_timeout_ = connection.config().config.stream_idle_timeout;
  info_.downstream_remote_address = connection.remoteAddress();
  if (const network::tls::TlsSession* tls = connection.connection().tls()) {
    stream::setDownstreamTls(*tls, info_);
  }
  stats::HttpConnManagerStats& stats = connection.stats();
  stats.downstream_rq_total.inc();
  (connection.http2() ? stats.downstream_rq_http2_total : stats.downstream_rq_http1_total).inc();
  stats.downstream_rq_active.inc();
  idle_timer_.start(idle_timeout_);
}

void ActiveStream::touch() { idle_timer_.touch(); }

void ActiveStream::overrideStreamIdleTimeout(std::chrono::milliseconds timeout) {
  idle_timeout_ = timeout;
  if (finished_) return;
  idle_timer_.start(timeout);
}

void ActiveStream::onRequestTimeout() {
  connection_->stats().downstream_rq_timeout.inc();
  if (response_started_) {
    resetStream();
  } else {
    sendLocalReply(408, "request timeout", "request_overall_timeout", stream::ResponseFlag::None);
  }
}

void ActiveStream::onStreamIdle() {
  connection_->stats().downstream_rq_idle_timeout.inc();
  info_.setFlag(stream::ResponseFlag::StreamIdleTimeout);
  if (response_started_) {
    resetStream();
  } else {
    sendLocalReply(408, "stream timeout", "stream_idle_timeout",
                   stream::ResponseFlag::StreamIdleTimeout);
  }
}

void ActiveStream::decodeHeaders(RequestHead&& head, bool end_stream) {
  // A swap: the codec's head keeps this stream's old storage for the next request.
  request_ = std::move(head);
  info_.protocol = request_.protocol;
  connection_->onRequestHeadersComplete();
  touch();
  const std::chrono::milliseconds request_timeout = connection_->config().config.request_timeout;
  if (!end_stream && request_timeout.count() > 0) {
    if (!request_timer_) {
      request_timer_.emplace(connection_->context().resources.loop, [this] { onRequestTimeout(); });
    }
    request_timer_->set(request_timeout);
  }
  headers_end_stream_ = end_stream;
  prepareRequest();
  if (response_started_ || finished_) return;
  if (end_stream) onRequestEnd();
  runRequestHeaders(0);
}

void ActiveStream::prepareRequest() {
  const ConnectionManagerConfig& cfg = connection_->config();
  if (request_.protocol != Protocol::Http2) {
    request_.scheme = connection_->connection().tls() ? "https" : "http";
  }
  if (requestWantsClose(request_)) connection_->requireCloseAfterResponse();

  const std::string upgrade = upgradeType(request_);
  const bool is_upgrade = !upgrade.empty();
  if (is_upgrade && !cfg.upgradeAllowed(upgrade)) {
    sendLocalReplyFrom(0, 403, "", "upgrade_failed", stream::ResponseFlag::None);
    return;
  }
  if (const std::string* expect = request_.headers.get("expect");
      expect && equalsIgnoreCase(*expect, "100-continue")) {
    // Answered here, as Envoy does by default: the upstream never sees Expect and
    // the client starts sending its body right away.
    request_.headers.remove("expect");
    if (!headers_end_stream_) encoder_->encode100Continue();
  }
  removeHopByHopHeaders(request_.headers, is_upgrade);

  ForwardingOptions options;
  options.use_remote_address = cfg.config.use_remote_address;
  options.xff_num_trusted_hops = cfg.config.xff_num_trusted_hops;
  options.skip_xff_append = cfg.config.skip_xff_append;
  options.generate_request_id = cfg.config.generate_request_id;
  options.preserve_external_request_id = cfg.config.preserve_external_request_id;
  const std::optional<ParsedIp> forwarded_client =
      applyForwardingHeaders(request_, connection_->remoteIp(), request_.scheme, options,
                             connection_->context().resources.random);
  if (forwarded_client) info_.downstream_trusted_client_ip = forwarded_client->text();
  writeChildSpan(request_.headers, connection_->context().resources.random);
}

void ActiveStream::onRequestEnd() {
  request_complete_ = true;
  info_.last_downstream_rx_byte = callback_clock::steadyNow();
  if (request_timer_) request_timer_->clear();
}

void ActiveStream::runRequestHeaders(size_t from) {
  for (size_t i = from; i < filters_.size(); ++i) {
    running_filter_ = i;
    in_phase_ = true;
    const filters::FilterStatus status =
        filters_[i]->onRequestHeaders(request_, headers_end_stream_);
    in_phase_ = false;
    if (finished_ || response_started_) return;
    if (status == filters::FilterStatus::Stop) {
      request_stopped_at_ = i;
      return;
    }
  }
  request_stopped_at_.reset();
}

size_t ActiveStream::requestLimit() const {
  return request_stopped_at_.value_or(filters_.empty() ? 0 : filters_.size() - 1);
}

void ActiveStream::decodeData(std::string_view data, bool end_stream) {
  if (finished_) return;
  touch();
  info_.bytes_received += data.size();
  if (end_stream) onRequestEnd();
  runRequestData(data, end_stream, 0);
}

void ActiveStream::runRequestData(std::string_view data, bool end_stream, size_t from) {
  const size_t limit = requestLimit();
  for (size_t i = from; i <= limit && i < filters_.size(); ++i) {
    running_filter_ = i;
    in_phase_ = true;
    const filters::FilterStatus status = filters_[i]->onRequestData(data, end_stream);
    in_phase_ = false;
    if (finished_ || response_started_) return;
    if (status == filters::FilterStatus::Stop) return;
  }
  if (limit + 1 < filters_.size()) {
    // Filters past the one that stopped have not seen the headers yet.
    buffered_request_data_.append(data);
    request_end_buffered_ = request_end_buffered_ || end_stream;
  }
}

void ActiveStream::decodeTrailers(HeaderMap&& trailers) {
  if (finished_) return;
  touch();
  onRequestEnd();
  buffered_request_trailers_ = std::move(trailers);
  runRequestTrailers(0);
}

void ActiveStream::runRequestTrailers(size_t from) {
  const size_t limit = requestLimit();
  for (size_t i = from; i <= limit && i < filters_.size(); ++i) {
    running_filter_ = i;
    in_phase_ = true;
    const filters::FilterStatus status =
        filters_[i]->onRequestTrailers(*buffered_request_trailers_);
    in_phase_ = false;
    if (finished_ || response_started_) return;
    if (status == filters::FilterStatus::Stop) return;
  }
  if (limit + 1 >= filters_.size()) buffered_request_trailers_.reset();
}

void ActiveStream::continueRequest() {
  if (finished_ || !request_stopped_at_) return;
  const size_t resume_from = *request_stopped_at_ + 1;
  runRequestHeaders(resume_from);
  if (finished_ || response_started_) return;
  if (!buffered_request_data_.empty() || request_end_buffered_) {
    std::string data = std::move(buffered_request_data_);
    buffered_request_data_.clear();
    const bool end = request_end_buffered_ && !buffered_request_trailers_;
    request_end_buffered_ = false;
    runRequestData(data, end, resume_from);
    if (finished_ || response_started_) return;
  }
  if (buffered_request_trailers_) runRequestTrailers(resume_from);
}

const router::RouteEntry* ActiveStream::route() {
  if (!route_) {
    route_ = connection_->config().route_table->match(request_);
    if (*route_) info_.route_name = (*route_)->name();
  }
  return *route_;
}

// ---- response path

size_t ActiveStream::responseOrigin() const {
  if (in_phase_) return running_filter_;
  return filters_.empty() ? 0 : filters_.size() - 1;
}

void ActiveStream::sendLocalReply(int status, std::string_view body, std::string_view details,
                                  stream::ResponseFlag flag) {
  // As in Envoy, a local reply runs through every filter's response phase,
  // including the one that sent it.
  sendLocalReplyFrom(filters_.size(), status, body, details, flag);
}

void ActiveStream::sendLocalReplyFrom(size_t origin, int status, std::string_view body,
                                      std::string_view details, stream::ResponseFlag flag) {
  if (finished_) return;
  if (flag != stream::ResponseFlag::None) info_.setFlag(flag);
  if (response_started_) {
    resetStream();
    return;
  }
  info_.response_code_details = details;
  response_.clear();
  response_.status = status;
  if (!body.empty()) response_.headers.add("content-type", "text/plain");
  char length[24];
  const auto [length_end, ec] = std::to_chars(std::begin(length), std::end(length), body.size());
  response_.headers.add("content-length", std::string_view(length, length_end - length));
  local_reply_body_.assign(body);
  startResponse(local_reply_body_.empty(), origin);
  if (!local_reply_body_.empty() && !finished_) encodeDataFrom(local_reply_body_, true);
}

void ActiveStream::encodeHeaders(ResponseHead&& head, bool end_stream) {
  if (finished_ || response_started_) return;
  // A swap: the caller's head keeps the last response's storage for its next use.
  response_ = std::move(head);
  startResponse(end_stream, responseOrigin());
}

void ActiveStream::startResponse(bool end_stream, size_t origin) {
  if (finished_ || response_started_) return;
  response_started_ = true;
  response_origin_ = origin;
  response_headers_end_ = end_stream;
  runResponseHeaders(origin);
}

void ActiveStream::runResponseHeaders(size_t from) {
  // Response phases run in reverse: from the filter before the one that produced
  // the response down to the first.
  for (size_t i = from; i-- > 0;) {
    running_filter_ = i;
    in_phase_ = true;
    const filters::FilterStatus status =
        filters_[i]->onResponseHeaders(response_, response_headers_end_);
    in_phase_ = false;
    if (finished_) return;
    if (status == filters::FilterStatus::Stop) {
      response_stopped_at_ = i;
      return;
    }
  }
  response_stopped_at_.reset();
  response_headers_sent_ = true;
  finalizeResponseHeaders(response_);
  touch();
  encoder_->encodeHeaders(response_, response_headers_end_);
  if (response_headers_end_) onResponseEnd();
}

void ActiveStream::finalizeResponseHeaders(ResponseHead& head) {
  info_.response_code = head.status;
  connection_->stats().downstreamResponseClass(head.status).inc();
  if (head.status == 413) connection_->stats().downstream_rq_too_large.inc();
  const bool switching = head.status == 101;
  removeHopByHopHeaders(head.headers, switching);
  if (switching)
    head.headers.set("upgrade", request_.headers.get("upgrade") ? *request_.headers.get("upgrade")
                                                                : std::string());
  head.headers.set("server", connection_->config().config.server_name);
  // HTTP/2 has no connection header: its drain is the GOAWAY.
  if (request_.protocol == Protocol::Http2) return;
  if (!switching && (connection_->closeAfterResponse() || connection_->draining())) {
    connection_->requireCloseAfterResponse();
    head.headers.set("connection", "close");
  } else if (request_.protocol == Protocol::Http10) {
    head.headers.set("connection", "keep-alive");
  }
}

void ActiveStream::encodeData(std::string_view data, bool end_stream) {
  encodeDataFrom(data, end_stream);
}

void ActiveStream::encodeDataFrom(std::string_view data, bool end_stream) {
  if (finished_) return;
  touch();
  const size_t stop = response_stopped_at_.value_or(0);
  for (size_t i = response_origin_; i-- > stop;) {
    running_filter_ = i;
    in_phase_ = true;
    const filters::FilterStatus status = filters_[i]->onResponseData(data, end_stream);
    in_phase_ = false;
    if (finished_) return;
    if (status == filters::FilterStatus::Stop) return;
  }
  if (response_stopped_at_) {
    buffered_response_data_.append(data);
    response_end_buffered_ = response_end_buffered_ || end_stream;
    return;
  }
  info_.bytes_sent += data.size();
  encoder_->encodeData(data, end_stream);
  if (end_stream) onResponseEnd();
}

void ActiveStream::encodeTrailers(HeaderMap&& trailers) {
  if (finished_) return;
  touch();
  for (size_t i = response_origin_; i-- > 0;) {
    running_filter_ = i;
    in_phase_ = true;
    filters_[i]->onResponseTrailers(trailers);
    in_phase_ = false;
    if (finished_) return;
  }
  encoder_->encodeTrailers(trailers);
  if (!connection_->config().access_logs.empty()) logged_trailers_ = trailers;
  onResponseEnd();
}

void ActiveStream::continueResponse() {
  if (finished_ || !response_stopped_at_ || response_headers_sent_) return;
  const size_t resume_from = *response_stopped_at_;
  response_stopped_at_.reset();
  runResponseHeaders(resume_from);
  if (finished_ || response_stopped_at_) return;
  if (!buffered_response_data_.empty() || response_end_buffered_) {
    std::string data = std::move(buffered_response_data_);
    buffered_response_data_.clear();
    const bool end = response_end_buffered_;
    response_end_buffered_ = false;
    const size_t origin = response_origin_;
    response_origin_ = resume_from;
    encodeDataFrom(data, end);
    response_origin_ = origin;
  }
}

void ActiveStream::onResponseEnd() {
  response_complete_ = true;
  // A response that ends before its request leaves unread body bytes on the
  // connection: it cannot carry another request.
  if (!request_complete_) connection_->requireCloseAfterResponse();
  finish(false);
}

void ActiveStream::resetStream() {
  if (finished_) return;
  connection_->stats().downstream_rq_tx_reset.inc();
  if (!response_complete_ && !info_.hasFlag(stream::ResponseFlag::UpstreamRemoteReset) &&
      !info_.hasFlag(stream::ResponseFlag::UpstreamConnectionTermination) &&
      !info_.hasFlag(stream::ResponseFlag::StreamIdleTimeout)) {
    info_.setFlag(stream::ResponseFlag::LocalReset);
  }
  finish(true);
}

void ActiveStream::onConnectionClosed() {
  if (finished_) return;
  if (!response_complete_) connection_->stats().downstream_rq_rx_reset.inc();
  if (!response_complete_) info_.setFlag(stream::ResponseFlag::DownstreamConnectionTermination);
  finish(true, /*by_peer=*/true);
}

void ActiveStream::onResetStream(StreamResetReason) {
  if (finished_) return;
  connection_->stats().downstream_rq_rx_reset.inc();
  info_.setFlag(stream::ResponseFlag::DownstreamConnectionTermination);
  finish(true, /*by_peer=*/true);
}

void ActiveStream::finish(bool reset, bool by_peer) {
  if (finished_) return;
  finished_ = true;
  idle_timer_.stop();
  if (request_timer_) request_timer_->clear();
  info_.end = callback_clock::steadyNow();
  recordStats();
  writeAccessLogs();
  for (auto& filter : filters_) filter->onLog(info_);
  for (auto& filter : filters_) filter->onDestroy();
  // HTTP/2 resets just this stream; HTTP/1 has no way but closing the connection,
  // which the connection manager does.
  if (reset && !by_peer && connection_->http2())
    encoder_->resetStream(StreamResetReason::LocalReset);
  connection_->onStreamFinished(*this, reset);
}

void ActiveStream::recordStats() {
  stats::HttpConnManagerStats& stats = connection_->stats();
  stats.downstream_rq_active.dec();
  if (response_complete_) stats.downstream_rq_completed.inc();
  if (info_.hasFlag(stream::ResponseFlag::NoRouteFound)) stats.no_route.inc();
  if (info_.hasFlag(stream::ResponseFlag::NoClusterFound)) stats.no_cluster.inc();
  stats.downstream_rq_time.record(
      std::chrono::duration<double, std::milli>(*info_.end - info_.start).count());
}

void ActiveStream::writeAccessLogs() {
  const auto& logs = connection_->config().access_logs;
  if (logs.empty()) return;
  // response_ stays as sent until the stream is reused.
  const telemetry::LogContext context{&request_, response_headers_sent_ ? &response_ : nullptr,
                                      logged_trailers_ ? &*logged_trailers_ : nullptr, info_};
  for (const auto& log : logs) connection_->context().access_logs.log(*log, context);
}

void ActiveStream::setDownstreamReadEnabled(bool enabled) {
  encoder_->setReadEnabled(enabled);           // HTTP/2: this stream's window only
  connection_->setStreamReadEnabled(enabled);  // HTTP/1: the connection
}

bool ActiveStream::downstreamAboveHighWatermark() const {
  return connection_->connection().aboveHighWatermark();
}

void ActiveStream::onDownstreamAboveHighWatermark() {
  // The connection's write buffer and (HTTP/2) this stream's queue report separately.
  if (downstream_above_watermarks_++ > 0) return;
  for (auto& filter : filters_) filter->onDownstreamAboveHighWatermark();
}

void ActiveStream::onDownstreamBelowLowWatermark() {
  if (downstream_above_watermarks_ == 0 || --downstream_above_watermarks_ > 0) return;
  for (auto& filter : filters_) filter->onDownstreamBelowLowWatermark();
}

}  // namespace remora::http
