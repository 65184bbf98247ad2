// HTTP/2 codec settings (Envoy's http2_protocol_options subset plus the hardening
// limits the codec enforces). Defaults are for a downstream listener.
#pragma once

#include <chrono>
#include <cstdint>

struct uv_loop_s;

namespace remora::stats {
struct Http2Stats;
}

namespace remora::http::h2 {

struct Http2Settings {
  // SETTINGS_MAX_CONCURRENT_STREAMS we advertise; nghttp2 refuses streams above it
  // (RST_STREAM REFUSED_STREAM).
  uint32_t max_concurrent_streams = 100;
  // SETTINGS_INITIAL_WINDOW_SIZE we advertise for every stream.
  uint32_t initial_stream_window_size = 64 * 1024;
  // Our receive window for the whole connection (raised by a WINDOW_UPDATE on stream
  // 0 right after the preface).
  uint32_t initial_connection_window_size = 1024 * 1024;
  // SETTINGS_HEADER_TABLE_SIZE: the HPACK dynamic table we keep for the peer.
  uint32_t hpack_table_size = 4096;
  // The transport's buffer limit (per_connection_buffer_limit_bytes). Body bytes one
  // stream may queue toward the peer (waiting for its window) before its producer is
  // told to pause; and frames stay in nghttp2 (where they are counted against
  // max_outbound_frames) while the transport holds more than this.
  uint32_t connection_buffer_limit = 1024 * 1024;
  // Server: a stream whose response is complete but still queued (the client keeps its
  // window closed) is reset after this long without sending anything (Envoy's stream
  // flush timeout, which defaults to stream_idle_timeout). Zero: never.
  std::chrono::milliseconds stream_flush_timeout{0};
  // Queued SETTINGS ACK / PING ACK frames beyond this mean a SETTINGS or PING flood:
  // the connection fails (nghttp2_option_set_max_outbound_ack).
  uint32_t max_outbound_control_frames = 1000;
  // Frames queued toward the peer and not yet taken by the socket (held in nghttp2,
  // plus those written into the transport since it was last empty) beyond this mean
  // the peer does not read what it asks for: the connection fails.
  uint32_t max_outbound_frames = 10000;
  // Limits for one received header section (request head, response head or
  // trailers): name+value bytes of every field, pseudo-headers included, and the
  // number of regular fields. A request head over either gets a local 431; other
  // sections get RST_STREAM(PROTOCOL_ERROR). Also advertised as
  // SETTINGS_MAX_HEADER_LIST_SIZE.
  uint32_t max_request_headers_kb = 60;
  uint32_t max_headers_count = 100;
  // Entries accepted in one SETTINGS frame (nghttp2_option_set_max_settings); more
  // close the connection with GOAWAY(ENHANCE_YOUR_CALM).
  uint32_t max_settings_entries = 32;
  // CONTINUATION frames accepted after one HEADERS frame (CVE-2024-28182); more close
  // the connection. Needs nghttp2_option_set_max_continuations.
  uint32_t max_continuations = 8;
  // Token bucket for RST_STREAM frames received by a server (CVE-2023-44487 rapid
  // reset): `stream_reset_burst` tokens, refilled at `stream_reset_rate_per_second`;
  // an empty bucket sends GOAWAY(ENHANCE_YOUR_CALM) and fails the connection at that
  // frame. nghttp2's own limiter (nghttp2_option_set_stream_reset_rate_limit, set with
  // the same values where available) only queues its GOAWAY and still opens the
  // streams in the rest of the read, so the codec keeps the bucket itself.
  uint32_t stream_reset_burst = 1000;
  uint32_t stream_reset_rate_per_second = 33;
  // Streams the codec itself resets for protocol violations (malformed headers,
  // messaging errors, oversized heads) before the connection is closed with
  // GOAWAY(ENHANCE_YOUR_CALM): nghttp2 1.52 has no glitch limiter of its own.
  uint32_t max_stream_protocol_errors = 100;
};

// What a codec needs from the worker it runs on; either may be null (unit tests): no
// flush timer, nothing counted.
struct Http2Runtime {
  uv_loop_s* loop = nullptr;
  stats::Http2Stats* stats = nullptr;
};

}  // namespace remora::http::h2
