// Response code details for HTTP/2 connection failures (%RESPONSE_CODE_DETAILS%).
#pragma once

#include <string_view>

namespace remora::http::h2::details {

// The peer broke the protocol at connection level (bad preface, framing, HPACK, too
// many SETTINGS entries or CONTINUATION frames): GOAWAY was sent.
inline constexpr std::string_view kCodecError = "http2.codec_error";
// Too many SETTINGS/PING ACKs queued: the peer does not read what it asks for.
inline constexpr std::string_view kFloodDetected = "http2.flood_detected";
// RST_STREAM frames faster than the stream reset rate limit (rapid reset).
inline constexpr std::string_view kTooManyStreamResets = "http2.too_many_stream_resets";
// More stream-level protocol violations than max_stream_protocol_errors.
inline constexpr std::string_view kTooManyStreamErrors = "http2.too_many_stream_errors";

}  // namespace remora::http::h2::details
