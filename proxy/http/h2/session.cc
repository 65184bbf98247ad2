#include "proxy/http/h2/session.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>

#include "proxy/http/h2/details.h"
#include "telemetry/stats/stat_definitions.h"

namespace remora::http::h2 {

namespace {

// Compacting the outbound body queue only once this much has been read keeps the
// copying linear.
constexpr size_t kOutboundCompactBytes = 64 * 1024;
// A write buffer grown by a large burst is given back afterwards.
constexpr size_t kOutBufferKeepBytes = 256 * 1024;

Session& sessionOf(void* user_data) { return *static_cast<Session*>(user_data); }

std::string_view view(const uint8_t* data, size_t length) {
  return {reinterpret_cast<const char*>(data), length};
}

uint32_t resetCode(StreamResetReason reason) {
  switch (reason) {
    case StreamResetReason::ProtocolError:
      return NGHTTP2_PROTOCOL_ERROR;
    case StreamResetReason::RefusedStream:
      return NGHTTP2_REFUSED_STREAM;
    case StreamResetReason::Overflow:
      return NGHTTP2_INTERNAL_ERROR;
    case StreamResetReason::LocalReset:
    case StreamResetReason::RemoteReset:
    case StreamResetReason::ConnectionTermination:
      return NGHTTP2_CANCEL;
  }
  return NGHTTP2_CANCEL;
}

int onBeginHeadersCallback(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  return sessionOf(user_data).onBeginHeaders(*frame);
}

int onHeaderCallback(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                     size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                     void* user_data) {
  return sessionOf(user_data).onHeader(*frame, view(name, name_length), view(value, value_length));
}

int onFrameRecvCallback(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  return sessionOf(user_data).onFrameRecv(*frame);
}

int onDataChunkCallback(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                        size_t length, void* user_data) {
  return sessionOf(user_data).onDataChunk(stream_id, view(data, length));
}

int onStreamCloseCallback(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                          void* user_data) {
  return sessionOf(user_data).onStreamClose(stream_id, error_code);
}

int onFrameSendCallback(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  return sessionOf(user_data).onFrameSend(*frame);
}

int onInvalidFrameCallback(nghttp2_session*, const nghttp2_frame* frame, int, void* user_data) {
  return sessionOf(user_data).onInvalidFrame(*frame);
}

ssize_t readDataCallback(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                         uint32_t* data_flags, nghttp2_data_source* source, void*) {
  return static_cast<Stream*>(source->ptr)->readOutbound(buf, length, data_flags);
}

uint64_t steadySeconds() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

// ---- Stream ----

void Stream::notifyReset(StreamResetReason reason) {
  if (!attached_) return;
  attached_ = false;
  deliverReset(reason);
}

nghttp2_data_provider Stream::dataProvider() {
  nghttp2_data_provider provider;
  provider.source.ptr = this;
  provider.read_callback = readDataCallback;
  return provider;
}

void Stream::queueData(std::string_view data, bool end_stream) {
  outbound_.append(data);
  updateWriteWatermark();
  if (end_stream) local_end_ = true;
  if (data_deferred_) {
    data_deferred_ = false;
    nghttp2_session_resume_data(session_.raw(), id_);
  }
}

void Stream::queueTrailers(const HeaderMap& trailers) {
  trailers_ = trailers;
  queueData({}, true);
}

ssize_t Stream::readOutbound(uint8_t* buf, size_t length, uint32_t* data_flags) {
  const size_t available = outbound_.size() - outbound_offset_;
  const size_t n = std::min(length, available);
  std::memcpy(buf, outbound_.data() + outbound_offset_, n);
  outbound_offset_ += n;
  if (outbound_offset_ == outbound_.size()) {
    outbound_.clear();
    outbound_offset_ = 0;
  } else if (outbound_offset_ >= kOutboundCompactBytes &&
             outbound_offset_ * 2 >= outbound_.size()) {
    outbound_.erase(0, outbound_offset_);
    outbound_offset_ = 0;
  }
  if (above_write_limit_) updateWriteWatermark();
  if (flush_timer_ && n > 0) flush_timer_->arm(session_.flushTimeout());
  if (!outbound_.empty()) return static_cast<ssize_t>(n);
  if (local_end_) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    if (trailers_) {
      // The trailers' HEADERS frame carries END_STREAM instead.
      *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      session_.submitTrailers(id_, *trailers_);
      trailers_.reset();
    }
  } else if (n == 0) {
    data_deferred_ = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  return static_cast<ssize_t>(n);
}

void Stream::updateWriteWatermark() {
  const size_t pending = outbound_.size() - outbound_offset_;
  const size_t limit = session_.streamBufferLimit();
  if (!above_write_limit_ && pending > limit) {
    above_write_limit_ = true;
    if (attached_) deliverWriteWatermark(true);
  } else if (above_write_limit_ && pending <= limit / 2) {
    above_write_limit_ = false;
    if (attached_) deliverWriteWatermark(false);
  }
}

void Stream::onDataDelivered(size_t bytes) {
  if (!read_enabled_ && attached_) {
    held_window_ += bytes;
    return;
  }
  // Detached: nobody reads any more, so nothing is held back.
  nghttp2_session_consume_stream(session_.raw(), id_, bytes + std::exchange(held_window_, 0));
}

void Stream::applyReadEnabled(bool enabled) {
  if (read_enabled_ == enabled) return;
  read_enabled_ = enabled;
  if (!enabled || held_window_ == 0) return;
  nghttp2_session_consume_stream(session_.raw(), id_, std::exchange(held_window_, 0));
  session_.flush();
}

void Stream::resetLocally(StreamResetReason reason) {
  attached_ = false;
  // Received bytes stay: the owner may be inside decodeData with a view of them.
  releaseOutbound();
  if (id_ > 0) nghttp2_submit_rst_stream(session_.raw(), NGHTTP2_FLAG_NONE, id_, resetCode(reason));
}

void Stream::refuse() {
  attached_ = false;
  nghttp2_submit_rst_stream(session_.raw(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_REFUSED_STREAM);
}

void Stream::armFlushTimerIfQueued() {
  const bool queued = outbound_.size() > outbound_offset_ || trailers_;
  uv_loop_s* loop = session_.runtime().loop;
  if (!queued || loop == nullptr || session_.flushTimeout().count() <= 0) return;
  if (!flush_timer_) flush_timer_ = std::make_unique<Timer>(loop, [this] { onFlushTimeout(); });
  flush_timer_->arm(session_.flushTimeout());
}

void Stream::onFlushTimeout() {
  if (stats::Http2Stats* stats = session_.runtime().stats) stats->tx_flush_timeout.inc();
  releaseOutbound();
  nghttp2_submit_rst_stream(session_.raw(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_CANCEL);
  session_.flush();
}

void Stream::releaseOutbound() {
  outbound_ = std::string();
  outbound_offset_ = 0;
  trailers_.reset();
}

void Stream::releaseBuffers() {
  flush_timer_.reset();
  releaseOutbound();
  frame_data_ = std::string();
  block_.reset();
}

// ---- Session ----

Session::Session(Role role, CodecOutput& output, const Http2Settings& settings,
                 const Http2Runtime& runtime)
    : role_(role),
      output_(output),
      settings_(settings),
      runtime_(runtime),
      reset_tokens_(settings.stream_reset_burst),
      reset_refill_second_(steadySeconds()) {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, onBeginHeadersCallback);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeaderCallback);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrameRecvCallback);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onDataChunkCallback);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onStreamCloseCallback);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, onFrameSendCallback);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(callbacks, onInvalidFrameCallback);

  nghttp2_option* options = nullptr;
  nghttp2_option_new(&options);
  // Receive windows open only as far as decoders took the data (and stream windows only
  // while their consumer keeps up: Stream::applyReadEnabled).
  nghttp2_option_set_no_auto_window_update(options, 1);
  nghttp2_option_set_max_outbound_ack(options, settings_.max_outbound_control_frames);
  nghttp2_option_set_max_settings(options, settings_.max_settings_entries);
#ifdef REMORA_NGHTTP2_HAS_MAX_CONTINUATIONS
  nghttp2_option_set_max_continuations(options, settings_.max_continuations);
#endif
#ifdef REMORA_NGHTTP2_HAS_RESET_RATE_LIMIT
  nghttp2_option_set_stream_reset_rate_limit(options, settings_.stream_reset_burst,
                                             settings_.stream_reset_rate_per_second);
#endif
  if (role_ == Role::Server) {
    nghttp2_session_server_new2(&session_, callbacks, this, options);
  } else {
    nghttp2_session_client_new2(&session_, callbacks, this, options);
  }
  nghttp2_option_del(options);
  nghttp2_session_callbacks_del(callbacks);
}

Session::~Session() { nghttp2_session_del(session_); }

void Session::start() {
  std::vector<nghttp2_settings_entry> entries = {
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, settings_.hpack_table_size},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings_.initial_stream_window_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings_.max_request_headers_kb * 1024},
  };
  if (role_ == Role::Server) {
    entries.push_back({NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings_.max_concurrent_streams});
  } else {
    entries.push_back({NGHTTP2_SETTINGS_ENABLE_PUSH, 0});
  }
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, entries.data(), entries.size());
  nghttp2_session_set_local_window_size(
      session_, NGHTTP2_FLAG_NONE, 0,
      static_cast<int32_t>(settings_.initial_connection_window_size));
  flush();
}

DispatchResult Session::dispatchBytes(std::string_view data, int failure_status) {
  if (failed_) return DispatchResult::failure(failure_.status, failure_.details);
  closed_streams_.clear();
  busy_ = true;
  const ssize_t received = nghttp2_session_mem_recv(
      session_, reinterpret_cast<const uint8_t*>(data.data()), data.size());
  std::optional<std::string_view> failure;
  stats::Http2Stats* stats = runtime_.stats;
  if (received == NGHTTP2_ERR_FLOODED) {
    // The peer does not read the ACKs it asks for: send it nothing more.
    failure = details::kFloodDetected;
    if (stats) stats->outbound_control_flood.inc();
  } else if (received < 0) {
    failure = fatal_code_ ? fatal_details_ : details::kCodecError;
    nghttp2_session_terminate_session(session_, fatal_code_.value_or(NGHTTP2_PROTOCOL_ERROR));
    sendQueued(true);
  } else if (!sendQueued()) {
    failure = details::kCodecError;
  } else if (outboundFlooded()) {
    failure = details::kFloodDetected;
    if (stats) stats->outbound_flood.inc();
  }
  busy_ = false;
  writeOut();
  // nghttp2 fails some connections by itself (framing errors, too many SETTINGS
  // entries, rapid reset): it queues GOAWAY with an error and mem_recv succeeds.
  if (!failure && error_goaway_sent_) failure = details::kCodecError;
  DispatchResult result = failure ? fail(failure_status, *failure) : DispatchResult::success();
  closed_streams_.clear();
  return result;
}

void Session::flush() {
  if (busy_ || failed_) return;
  busy_ = true;
  sendQueued();
  busy_ = false;
  writeOut();
}

bool Session::sendQueued(bool force) {
  const size_t transport_bytes = output_.bufferedBytes();
  if (transport_bytes == 0) frames_in_transport_ = 0;
  while (true) {
    // Frames the transport cannot take yet stay in nghttp2, where they are counted.
    if (!force && transport_bytes + out_buffer_.size() > settings_.connection_buffer_limit) {
      return true;
    }
    const uint8_t* bytes = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &bytes);
    if (n < 0) return false;
    if (n == 0) return true;
    out_buffer_.append(view(bytes, static_cast<size_t>(n)));
  }
}

bool Session::outboundFlooded() const {
  return nghttp2_session_get_outbound_queue_size(session_) + frames_in_transport_ >
         settings_.max_outbound_frames;
}

void Session::writeOut() {
  if (out_buffer_.empty()) return;
  output_.write(out_buffer_);
  out_buffer_.clear();
  if (out_buffer_.capacity() > kOutBufferKeepBytes) out_buffer_.shrink_to_fit();
}

DispatchResult Session::fail(int status, std::string_view details) {
  failed_ = true;
  failure_ = {status, std::string(details)};
  resetAttached(StreamResetReason::ConnectionTermination);
  return DispatchResult::failure(failure_.status, failure_.details);
}

size_t Session::resetAttached(StreamResetReason reason) {
  // Collected first: a decoder may start a stream while hearing of the reset.
  std::vector<Stream*> attached;
  for (const auto& stream : streams_) {
    if (stream->attached()) attached.push_back(stream.get());
  }
  for (const auto& stream : idle_streams_) {
    if (stream->attached()) attached.push_back(stream.get());
  }
  for (Stream* stream : attached) stream->notifyReset(reason);
  return attached.size();
}

size_t Session::onTransportClosed() {
  failed_ = true;
  failure_ = {503, std::string(details::kCodecError)};
  return resetAttached(StreamResetReason::ConnectionTermination);
}

void Session::submitGoAway() {
  if (goaway_sent_ || failed_) return;
  goaway_sent_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  flush();
}

void Session::submitTrailers(int32_t stream_id, const HeaderMap& trailers) {
  NvList nv;
  nv.addRegular(trailers, false);
  nghttp2_submit_trailer(session_, stream_id, nv.data(), nv.size());
}

bool Session::countProtocolError() {
  if (++protocol_errors_ <= settings_.max_stream_protocol_errors) return true;
  fatal_code_ = NGHTTP2_ENHANCE_YOUR_CALM;
  fatal_details_ = details::kTooManyStreamErrors;
  return false;
}

bool Session::takeResetToken() {
  const uint64_t now = steadySeconds();
  if (now > reset_refill_second_) {
    const uint64_t refill = (now - reset_refill_second_) * settings_.stream_reset_rate_per_second;
    reset_tokens_ = std::min<uint64_t>(settings_.stream_reset_burst, reset_tokens_ + refill);
    reset_refill_second_ = now;
  }
  if (reset_tokens_ > 0) {
    --reset_tokens_;
    return true;
  }
  fatal_code_ = NGHTTP2_ENHANCE_YOUR_CALM;
  fatal_details_ = details::kTooManyStreamResets;
  return false;
}

Stream* Session::find(int32_t stream_id) {
  if (found_ != nullptr && found_id_ == stream_id) return found_;
  auto* stream = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session_, stream_id));
  if (stream == nullptr) {
    // nghttp2 no longer knows it (closing): ours may still be open.
    const auto it = std::find_if(streams_.begin(), streams_.end(),
                                 [&](const auto& open) { return open->id() == stream_id; });
    if (it == streams_.end()) return nullptr;
    stream = it->get();
  }
  found_id_ = stream_id;
  found_ = stream;
  return stream;
}

void Session::adopt(std::unique_ptr<Stream> stream, int32_t stream_id) {
  stream->slot_ = streams_.size();
  nghttp2_session_set_stream_user_data(session_, stream_id, stream.get());
  streams_.push_back(std::move(stream));
}

std::unique_ptr<Stream> Session::takeOpen(Stream& stream) {
  if (found_ == &stream) found_ = nullptr;
  const size_t slot = stream.slot_;
  std::unique_ptr<Stream> taken = std::move(streams_[slot]);
  if (slot + 1 != streams_.size()) {
    streams_[slot] = std::move(streams_.back());
    streams_[slot]->slot_ = slot;
  }
  streams_.pop_back();
  return taken;
}

Stream& Session::addIdle(std::unique_ptr<Stream> stream) {
  idle_streams_.push_back(std::move(stream));
  return *idle_streams_.back();
}

void Session::promoteIdle(Stream& stream, int32_t stream_id) {
  const auto it = std::find_if(idle_streams_.begin(), idle_streams_.end(),
                               [&](const auto& idle) { return idle.get() == &stream; });
  if (it == idle_streams_.end()) return;
  adopt(std::move(*it), stream_id);
  idle_streams_.erase(it);
}

void Session::retireIdle(Stream& stream) {
  const auto it = std::find_if(idle_streams_.begin(), idle_streams_.end(),
                               [&](const auto& idle) { return idle.get() == &stream; });
  if (it == idle_streams_.end()) return;
  closed_streams_.push_back(std::move(*it));
  idle_streams_.erase(it);
}

int Session::onBeginHeaders(const nghttp2_frame& frame) {
  if (frame.hd.type != NGHTTP2_HEADERS) return 0;
  const int32_t id = frame.hd.stream_id;
  if (frame.headers.cat == NGHTTP2_HCAT_REQUEST) {
    std::unique_ptr<Stream> stream = createPeerStream(id);
    if (stream == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    adopt(std::move(stream), id);
  }
  // A fresh stream's block is empty already; a later section (trailers) starts anew.
  Stream* stream = find(id);
  if (stream != nullptr && frame.headers.cat != NGHTTP2_HCAT_REQUEST) stream->block().reset();
  return 0;
}

int Session::onHeader(const nghttp2_frame& frame, std::string_view name, std::string_view value) {
  if (Stream* stream = find(frame.hd.stream_id)) stream->block().add(name, value, settings_);
  return 0;
}

int Session::onFrameRecv(const nghttp2_frame& frame) {
  const bool end_stream = (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  Stream* stream = find(frame.hd.stream_id);
  switch (frame.hd.type) {
    case NGHTTP2_HEADERS:
      if (stream != nullptr) stream->onHeaderSection(end_stream);
      break;
    case NGHTTP2_DATA:
      if (stream != nullptr) {
        std::string& data = stream->frameData();
        const size_t bytes = data.size();
        stream->onDataFrame(data, end_stream);
        data.clear();
        // The connection window reopens at once, so a stream held back by its
        // consumer never blocks the others; the stream's own window follows the
        // decoder's backpressure.
        nghttp2_session_consume_connection(session_, bytes);
        stream->onDataDelivered(bytes);
      }
      break;
    case NGHTTP2_RST_STREAM:
      if (role_ == Role::Server && !takeResetToken()) return NGHTTP2_ERR_CALLBACK_FAILURE;
      if (stream != nullptr) stream->setRemoteReset(frame.rst_stream.error_code);
      break;
    case NGHTTP2_GOAWAY:
      goaway_received_ = true;
      break;
    default:
      break;
  }
  return fatal_code_ ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

int Session::onDataChunk(int32_t stream_id, std::string_view data) {
  Stream* stream = find(stream_id);
  if (stream == nullptr || !stream->attached()) {
    nghttp2_session_consume(session_, stream_id, data.size());
    return 0;
  }
  // Delivered once per frame, with the frame's END_STREAM flag (onFrameRecv).
  stream->frameData().append(data);
  return 0;
}

int Session::onStreamClose(int32_t stream_id, uint32_t error_code) {
  Stream* open = find(stream_id);
  if (open == nullptr) return 0;
  std::unique_ptr<Stream> stream = takeOpen(*open);
  if (!stream->frameData().empty()) {
    nghttp2_session_consume_connection(session_, stream->frameData().size());
  }
  if (stream->attached()) {
    StreamResetReason reason = StreamResetReason::RemoteReset;
    const std::optional<uint32_t> remote_code = stream->remoteResetCode();
    const uint32_t code = remote_code.value_or(error_code);
    if (code == NGHTTP2_REFUSED_STREAM) {
      // Refused by the peer, or above the last stream id of its GOAWAY.
      reason = StreamResetReason::RefusedStream;
    } else if (!remote_code && error_code != NGHTTP2_NO_ERROR) {
      // nghttp2 reset it: the peer broke HTTP messaging rules on this stream.
      reason = StreamResetReason::ProtocolError;
    }
    stream->notifyReset(reason);
  }
  stream->releaseBuffers();
  closed_streams_.push_back(std::move(stream));
  return 0;
}

int Session::onFrameSend(const nghttp2_frame& frame) {
  ++frames_in_transport_;
  const int32_t id = frame.hd.stream_id;
  switch (frame.hd.type) {
    case NGHTTP2_GOAWAY:
      goaway_sent_ = true;
      if (frame.goaway.error_code != NGHTTP2_NO_ERROR) error_goaway_sent_ = frame.goaway.error_code;
      break;
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA:
      // A response complete before its request: ask the client to stop sending
      // without error (RFC 9113 8.1).
      if (role_ == Role::Server && (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0 &&
          nghttp2_session_get_stream_remote_close(session_, id) == 0) {
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR);
      }
      break;
    default:
      break;
  }
  return 0;
}

int Session::onInvalidFrame(const nghttp2_frame& frame) {
  // Connection-level errors end the connection anyway; stream-level ones (malformed
  // headers, messaging violations) reset one stream and are counted.
  if (frame.hd.stream_id == 0) return 0;
  return countProtocolError() ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
}

}  // namespace remora::http::h2
