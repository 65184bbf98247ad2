// HTTP/2 client codec on nghttp2: one session per upstream connection, one
// RequestEncoder per stream (nghttpx's split).
//
// Requests: :method, :scheme, :authority (the head's authority, else its host field,
// which is then left out) and :path (none of :scheme/:path for CONNECT), then the
// fields minus the connection-specific ones. A head that does not end the stream
// gets a data provider; the body queues per stream and leaves as the server's windows
// allow; trailers follow the last DATA frame.
//
// Responses: 1xx heads go to decodeInformationalHeaders, the final head to
// decodeHeaders, then one decodeData per DATA frame and trailers. The stream is over
// for its owner when the response ends (if the request is still being sent, the
// codec cancels it with RST_STREAM(CANCEL)) or on onResetStream: RemoteReset for the
// server's RST_STREAM, RefusedStream for REFUSED_STREAM or a stream above the
// last stream id of the server's GOAWAY (nothing was processed: safe to retry),
// ProtocolError for a malformed response, ConnectionTermination when the connection
// failed or closed. After a GOAWAY reusable() is false; streams at or below its last
// stream id finish normally.
//
// Flow control mirrors the server codec: response DATA reopens the connection window
// as soon as decodeData returns and the stream window unless the encoder is
// read-disabled (the downstream reads slowly); a request body queued above
// connection_buffer_limit is reported to the decoder (and again below half of it).
#pragma once

#include <memory>

#include "proxy/http/codec.h"
#include "proxy/http/h2/settings.h"

namespace remora::http::h2 {

// Writes the connection preface and SETTINGS at once (the transport may queue them
// until it is connected).
std::unique_ptr<ClientCodec> makeClientCodec(CodecOutput& output, const Http2Settings& settings,
                                             const Http2Runtime& runtime = {});

}  // namespace remora::http::h2
