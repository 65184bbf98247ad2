// What a finished HTTP stream or TCP session hands to the access log.
#pragma once

#include "proxy/http/message.h"
#include "proxy/stream/stream_info.h"

namespace remora::telemetry {

// Pointers may be null: no response was sent, or a TCP session (which has no heads).
struct LogContext {
  const http::RequestHead* request = nullptr;
  const http::ResponseHead* response = nullptr;
  const http::HeaderMap* response_trailers = nullptr;
  const stream::StreamInfo& info;
};

}  // namespace remora::telemetry
