// What the HTTP/2 server and client codecs share: one nghttp2 session per connection,
// its callbacks, output batching (frames stay in nghttp2 while the transport is full,
// counted against max_outbound_frames), per-stream body queues feeding nghttp2's data
// provider with write watermarks, flow control tied to consumption and per-stream
// backpressure, the stream flush timer, and the connection-level failure and GOAWAY
// bookkeeping.
//
// Re-entrancy: decoder callbacks run inside nghttp2_session_mem_recv (or mem_send, for
// resets); what they encode is only queued in nghttp2 and goes out in the same
// dispatch()'s single write. Encoding outside dispatch() writes at once. Streams that
// nghttp2 closed are kept until the end of the next dispatch(), since an owner may
// still be inside one of their methods.
#pragma once

#include <nghttp2/nghttp2.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/common/timer.h"
#include "proxy/http/codec.h"
#include "proxy/http/h2/header_block.h"
#include "proxy/http/h2/settings.h"

namespace remora::http::h2 {

class Session;

// State both stream directions need. A stream is "attached" while its owner (decoder
// and encoder user) still takes part; the codec detaches it when the owner's part is
// over (server: response complete; client: response received) or on a reset.
class Stream {
 public:
  explicit Stream(Session& session) : session_(session) {}
  virtual ~Stream() = default;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  int32_t id() const { return id_; }
  bool attached() const { return attached_; }

  // A complete header section is in block(); `end_stream` if it ended the stream.
  virtual void onHeaderSection(bool end_stream) = 0;
  // One DATA frame's payload.
  virtual void onDataFrame(std::string_view data, bool end_stream) = 0;
  // Detaches and tells the decoder (if still attached).
  void notifyReset(StreamResetReason reason);

  HeaderBlock& block() { return block_; }
  std::string& frameData() { return frame_data_; }
  void setRemoteReset(uint32_t error_code) { remote_reset_code_ = error_code; }
  std::optional<uint32_t> remoteResetCode() const { return remote_reset_code_; }
  // nghttp2_data_source_read_callback body.
  ssize_t readOutbound(uint8_t* buf, size_t length, uint32_t* data_flags);
  // Frees the buffers of a closed stream kept until the end of dispatch().
  void releaseBuffers();
  // A received DATA frame's `bytes` reached the decoder: reopens the stream window by
  // as much, or holds it while reading is disabled.
  void onDataDelivered(size_t bytes);

 protected:
  virtual void deliverReset(StreamResetReason reason) = 0;
  // The queued outbound body crossed the stream buffer limit (above) or fell to half of
  // it (below); only called while attached.
  virtual void deliverWriteWatermark(bool above) = 0;
  // Backpressure toward the peer: while disabled, received bytes are delivered but the
  // stream window stays closed; enabling returns what was held.
  void applyReadEnabled(bool enabled);
  // nghttp2 data provider reading this stream's queued body.
  nghttp2_data_provider dataProvider();
  // Queues body bytes; `end_stream` ends our side once they are sent.
  void queueData(std::string_view data, bool end_stream);
  // Ends our side with trailers after the queued body.
  void queueTrailers(const HeaderMap& trailers);
  // Sends RST_STREAM with the code matching `reason` and detaches.
  void resetLocally(StreamResetReason reason);
  // Sends RST_STREAM(REFUSED_STREAM) for a stream no owner ever saw.
  void refuse();
  // The owner is done but body bytes are still queued: unless a DATA frame leaves
  // within stream_flush_timeout (each one restarts it), the stream is reset and
  // http2.tx_flush_timeout counted.
  void armFlushTimerIfQueued();

  Session& session_;
  int32_t id_ = 0;
  bool attached_ = true;
  // Our side ended (end_stream or trailers encoded).
  bool local_end_ = false;

 private:
  void releaseOutbound();
  void updateWriteWatermark();
  void onFlushTimeout();

  HeaderBlock block_;
  std::string frame_data_;
  std::optional<uint32_t> remote_reset_code_;
  std::string outbound_;
  size_t outbound_offset_ = 0;
  std::optional<HeaderMap> trailers_;
  bool data_deferred_ = false;
  bool read_enabled_ = true;
  // Received bytes whose stream window was not reopened (reading disabled).
  size_t held_window_ = 0;
  bool above_write_limit_ = false;
  std::unique_ptr<Timer> flush_timer_;
  // Index in the session's stream list.
  size_t slot_ = 0;
  friend class Session;
};

class Session {
 public:
  virtual ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // For streams.
  nghttp2_session* raw() const { return session_; }
  // Writes what nghttp2 has queued, unless a dispatch() will do it.
  void flush();
  // The transport drained: writes the frames held back meanwhile.
  void onTransportDrained() { flush(); }
  void submitTrailers(int32_t stream_id, const HeaderMap& trailers);
  // A GOAWAY was submitted (by goAway() or nghttp2): no new stream is accepted.
  bool goAwaySent() const { return goaway_sent_; }
  // Counts a stream the codec reset for a protocol violation; past the limit the
  // connection fails. Returns false then (callbacks return a fatal error).
  bool countProtocolError();
  uint32_t streamBufferLimit() const { return settings_.connection_buffer_limit; }
  std::chrono::milliseconds flushTimeout() const { return settings_.stream_flush_timeout; }
  const Http2Runtime& runtime() const { return runtime_; }

  // nghttp2 callbacks.
  int onBeginHeaders(const nghttp2_frame& frame);
  int onHeader(const nghttp2_frame& frame, std::string_view name, std::string_view value);
  int onFrameRecv(const nghttp2_frame& frame);
  int onDataChunk(int32_t stream_id, std::string_view data);
  int onStreamClose(int32_t stream_id, uint32_t error_code);
  int onFrameSend(const nghttp2_frame& frame);
  int onInvalidFrame(const nghttp2_frame& frame);

 protected:
  enum class Role { Server, Client };
  Session(Role role, CodecOutput& output, const Http2Settings& settings,
          const Http2Runtime& runtime);

  // Sends the preface/SETTINGS and the connection window update.
  void start();
  // Feeds bytes to nghttp2 and writes the result; a failure fails the connection.
  DispatchResult dispatchBytes(std::string_view data, int failure_status);
  // The transport closed: every attached stream is reset (ConnectionTermination).
  // Returns how many were attached.
  size_t onTransportClosed();
  void submitGoAway();

  // A stream the peer opened with HEADERS (server side; the client refuses pushes).
  virtual std::unique_ptr<Stream> createPeerStream(int32_t stream_id) = 0;
  Stream* find(int32_t stream_id);
  // Client streams live here from newStream() until their HEADERS get an id.
  Stream& addIdle(std::unique_ptr<Stream> stream);
  void promoteIdle(Stream& stream, int32_t stream_id);
  // Drops an idle stream (kept until the end of the next dispatch()).
  void retireIdle(Stream& stream);

  bool failed() const { return failed_; }
  bool goAwayReceived() const { return goaway_received_; }
  // Streams nghttp2 has not closed yet (responses still flushing included), plus idle
  // client streams.
  size_t openStreams() const { return streams_.size() + idle_streams_.size(); }

 private:
  // Moves what nghttp2 has queued into out_buffer_ while the transport is below its
  // limit (`force`: regardless, for a last GOAWAY); false on a fatal nghttp2 error.
  bool sendQueued(bool force = false);
  // More frames wait for the peer than max_outbound_frames.
  bool outboundFlooded() const;
  void writeOut();
  DispatchResult fail(int status, std::string_view details);
  // Takes a token for a received RST_STREAM; false (and the connection fails) when the
  // bucket is empty.
  bool takeResetToken();
  // Resets every attached stream; returns how many there were.
  size_t resetAttached(StreamResetReason reason);
  void adopt(std::unique_ptr<Stream> stream, int32_t stream_id);
  std::unique_ptr<Stream> takeOpen(Stream& stream);

  const Role role_;
  CodecOutput& output_;
  const Http2Settings settings_;
  const Http2Runtime runtime_;
  nghttp2_session* session_ = nullptr;
  // Streams nghttp2 has open; nghttp2's stream user data points at each, so lookups
  // need no map of our own.
  std::vector<std::unique_ptr<Stream>> streams_;
  // The last stream find() returned: a header section's fields arrive one callback
  // each, all for the same stream.
  int32_t found_id_ = 0;
  Stream* found_ = nullptr;
  std::vector<std::unique_ptr<Stream>> idle_streams_;
  std::vector<std::unique_ptr<Stream>> closed_streams_;
  std::string out_buffer_;
  // Inside nghttp2_session_mem_recv/mem_send: sending waits for the outer loop.
  bool busy_ = false;
  bool failed_ = false;
  CodecError failure_;
  bool goaway_sent_ = false;
  bool goaway_received_ = false;
  // Error code of a GOAWAY nghttp2 (or we) sent to fail the connection.
  std::optional<uint32_t> error_goaway_sent_;
  uint32_t protocol_errors_ = 0;
  // Frames serialized since the transport's buffer was last empty.
  size_t frames_in_transport_ = 0;
  // Rapid-reset token bucket (server): tokens left and when they were last refilled.
  uint64_t reset_tokens_;
  uint64_t reset_refill_second_;
  // Set by a callback that fails the connection (it returns CALLBACK_FAILURE).
  std::optional<uint32_t> fatal_code_;
  std::string_view fatal_details_;
};

}  // namespace remora::http::h2
