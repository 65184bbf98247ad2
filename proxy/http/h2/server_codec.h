// HTTP/2 server codec on nghttp2: one session per downstream connection, many streams.
//
// Requests: RequestHead from the pseudo-headers (:method, :path, :scheme, and
// :authority, or the host field without it), protocol Http2, regular fields as
// received (lower-case) with cookie crumbs joined by "; ". One decodeData per DATA
// frame, carrying the frame's END_STREAM; a HEADERS frame after the head is trailers.
// nghttp2's HTTP messaging validation is on: a malformed request is reset
// (RST_STREAM PROTOCOL_ERROR) before any decoder sees it.
//
// Limits: a request head over max_request_headers_kb or max_headers_count is answered
// by the codec itself with a 431 (no stream reaches the callbacks); oversized trailers
// reset the stream (PROTOCOL_ERROR). Each of these, and each stream nghttp2 resets for
// a protocol violation, counts against max_stream_protocol_errors; past it the
// connection fails with GOAWAY(ENHANCE_YOUR_CALM). SETTINGS/PING floods, too many
// SETTINGS entries, CONTINUATION floods and rapid resets fail the connection too.
//
// Flow control: request DATA returns its connection window right after decodeData,
// and its stream window too unless the stream's encoder is read-disabled
// (setReadEnabled(false), the upstream is slow): then the stream window stays closed
// until reading is enabled again, so the client stops within one window while its
// other streams go on. A response body queued because the client's windows are closed
// is reported to the decoder above connection_buffer_limit and again below half of it.
//
// Responses: encodeHeaders sends :status plus the fields minus the connection-specific
// ones; 1xx heads are interim. Body bytes queue per stream and leave as the peer's
// windows allow; trailers follow the last DATA frame. A response completed before its
// request is followed by RST_STREAM(NO_ERROR), and the rest of the request is dropped.
// The encoder must not be used once the response is complete or after onResetStream.
#pragma once

#include <memory>

#include "proxy/http/codec.h"
#include "proxy/http/h2/settings.h"

namespace remora::http::h2 {

// Writes the server SETTINGS (and connection window update) at once.
std::unique_ptr<ServerCodec> makeServerCodec(CodecOutput& output, ServerCodecCallbacks& callbacks,
                                             const Http2Settings& settings,
                                             const Http2Runtime& runtime = {});

}  // namespace remora::http::h2
