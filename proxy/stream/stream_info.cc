#include "proxy/stream/stream_info.h"

#include <array>
#include <utility>

namespace remora::stream {

// In Envoy's order, so %RESPONSE_FLAGS% reads the same.
std::string responseFlagsString(uint32_t flags) {
  static constexpr std::array<std::pair<ResponseFlag, const char*>, 17> kNames{{
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
      {ResponseFlag::RbacAccessDenied, "RBAC"},
  }};
  std::string out;
  for (const auto& [flag, name] : kNames) {
    if (!(flags & static_cast<uint32_t>(flag))) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out.empty() ? "-" : out;
}

void RbacMetadata::clear() {
  filter = Filter::None;
  enforced = Result::None;
  shadow = Result::None;
  enforced_policy.clear();
  shadow_policy.clear();
  enforced_key_prefix.clear();
  shadow_key_prefix.clear();
}

void StreamInfo::reset() {
  start = callback_clock::steadyNow();
  start_wall = callback_clock::systemNow();
  last_downstream_rx_byte.reset();
  first_upstream_byte.reset();
  end.reset();
  protocol = http::Protocol::Http11;
  response_code = 0;
  response_flags = 0;
  response_code_details.clear();
  route_name.clear();
  grpc_status.reset();
  cluster_name.clear();
  upstream_host.clear();
  downstream_remote_address.clear();
  downstream_trusted_client_ip.clear();
  downstream_local_port = 0;
  peer_uri_sans.clear();
  peer_dns_sans.clear();
  peer_subject.clear();
  tls_version.clear();
  tls_cipher.clear();
  requested_server_name.clear();
  rbac.clear();
  connection_termination_details.clear();
  bytes_received = 0;
  bytes_sent = 0;
}

namespace {
std::string_view resultName(RbacMetadata::Result result) {
  return result == RbacMetadata::Result::Allowed ? "allowed" : "denied";
}
}  // namespace

std::optional<std::string_view> RbacMetadata::lookup(std::string_view metadata_namespace,
                                                     std::string_view key) const {
  const std::string_view own_namespace = filter == Filter::Http      ? "envoy.filters.http.rbac"
                                         : filter == Filter::Network ? "envoy.filters.network.rbac"
                                                                     : "";
  if (own_namespace.empty() || metadata_namespace != own_namespace) return std::nullopt;
  const auto entry = [&](Result result, const std::string& policy, const std::string& prefix,
                         std::string_view kind) -> std::optional<std::string_view> {
    if (result == Result::None) return std::nullopt;
    // "<prefix><kind>_effective_policy_id" and "<prefix><kind>_engine_result".
    const std::string_view rest =
        key.starts_with(prefix) ? key.substr(prefix.size()) : std::string_view();
    if (!rest.starts_with(kind) || rest.size() <= kind.size() || rest[kind.size()] != '_') {
      return std::nullopt;
    }
    const std::string_view field = rest.substr(kind.size() + 1);
    if (field == "engine_result") return resultName(result);
    if (field == "effective_policy_id" && !policy.empty()) return policy;
    return std::nullopt;
  };
  if (std::optional<std::string_view> value =
          entry(enforced, enforced_policy, enforced_key_prefix, "enforced")) {
    return value;
  }
  return entry(shadow, shadow_policy, shadow_key_prefix, "shadow");
}

}  // namespace remora::stream
