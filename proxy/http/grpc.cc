#include "proxy/http/grpc.h"

#include <array>
#include <charconv>

namespace remora::http::grpc {

namespace {
struct StatusInfo {
  std::string_view name;
  int http;
};
// Indexed by the gRPC status code (0..16).
constexpr std::array<StatusInfo, 17> kStatuses{{
    {"OK", 200},
    {"Canceled", 499},
    {"Unknown", 500},
    {"InvalidArgument", 400},
    {"DeadlineExceeded", 504},
    {"NotFound", 404},
    {"AlreadyExists", 409},
    {"PermissionDenied", 403},
    {"ResourceExhausted", 429},
    {"FailedPrecondition", 400},
    {"Aborted", 409},
    {"OutOfRange", 400},
    {"Unimplemented", 501},
    {"Internal", 500},
    {"Unavailable", 503},
    {"DataLoss", 500},
    {"Unauthenticated", 401},
}};
}  // namespace

bool isGrpcRequest(const RequestHead& request) {
  const std::string* type = request.headers.get("content-type");
  return type && std::string_view(*type).starts_with("application/grpc");
}

std::optional<int> status(const HeaderMap& headers) {
  const std::string* value = headers.get("grpc-status");
  if (!value || value->empty()) return std::nullopt;
  int code = 0;
  const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), code);
  if (ec != std::errc() || end != value->data() + value->size() || code < 0) return std::nullopt;
  return code;
}

int toHttpStatus(int grpc_status) {
  if (grpc_status >= 0 && grpc_status < static_cast<int>(kStatuses.size())) {
    return kStatuses[grpc_status].http;
  }
  return 500;
}

std::string_view statusName(int grpc_status) {
  if (grpc_status >= 0 && grpc_status < static_cast<int>(kStatuses.size())) {
    return kStatuses[grpc_status].name;
  }
  return "InvalidCode";
}

}  // namespace remora::http::grpc
