// gRPC over HTTP/2 as the proxy sees it: the status travels in grpc-status
// (trailers, or the headers of a trailers-only response) under HTTP 200, so stats
// and logs map it to HTTP the way Envoy does.
#pragma once

#include <optional>
#include <string_view>

#include "proxy/http/message.h"

namespace remora::http::grpc {

bool isGrpcRequest(const RequestHead& request);
// grpc-status as a number, if present and valid.
std::optional<int> status(const HeaderMap& headers);
// Envoy's Grpc::Utility::grpcToHttpStatus.
int toHttpStatus(int grpc_status);
// "OK", "NotFound", ... (Envoy's %GRPC_STATUS% CAMEL_STRING form).
std::string_view statusName(int grpc_status);

}  // namespace remora::http::grpc
