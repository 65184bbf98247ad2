#include "proxy/stream/stream_info.h"

#include <array>
#include <utility>

namespace remora::stream {

// In Envoy's order, so %RESPONSE_FLAGS% reads the same.
std::string responseFlagsString(uint32_t flags) {
  static constexpr std::array<std::pair<ResponseFlag, const char*>, 16> kNames{{
      {ResponseFlag::FailedLocalHealthCheck, "LH"},
      {ResponseFlag::NoHealthyUpstream, "UH"},
      {ResponseFlag::UpstreamRequestTimeout, "UT"},
      {ResponseFlag::LocalReset, "LR"},
      {ResponseFlag::UpstreamRemoteReset, "UR"},
      {ResponseFlag::UpstreamConnectionFailure, "UF"},
      {ResponseFlag::UpstreamConnectionTermination, "UC"},
      {ResponseFlag::UpstreamOverflow, "UO"},
      {ResponseFlag::NoRouteFound, "NR"},
      {ResponseFlag::DownstreamConnectionTermination, "DC"},
      {ResponseFlag::UpstreamRetryLimitExceeded, "URX"},
      {ResponseFlag::StreamIdleTimeout, "SI"},
      {ResponseFlag::DownstreamProtocolError, "DPE"},
      {ResponseFlag::DurationTimeout, "DT"},
      {ResponseFlag::UpstreamProtocolError, "UPE"},
      {ResponseFlag::NoClusterFound, "NC"},
  }};
  std::string out;
  for (const auto& [flag, name] : kNames) {
    if (!(flags & static_cast<uint32_t>(flag))) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out.empty() ? "-" : out;
}

}  // namespace remora::stream
