// Shared fixtures for the access log tests: config nodes parsed from YAML text (errors
// name "t.yaml") and one fully populated HTTP stream with fixed times.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "config/config_node.h"
#include "proxy/http/message.h"
#include "proxy/stream/stream_info.h"
#include "telemetry/access_log/log_context.h"

namespace remora::telemetry::testing {

// The node at `field` of the YAML mapping `yaml`; its path is `field`.
inline config::ConfigNode yamlField(std::string_view yaml, std::string_view field) {
  const config::ConfigNode root(YAML::Load(std::string(yaml)), "",
                                std::make_shared<const std::string>("t.yaml"));
  return root.required(field);
}

// 2026-11-26T10:00:00.123456789Z
inline std::chrono::system_clock::time_point fixedStartTime() {
  using namespace std::chrono;
  return system_clock::time_point(duration_cast<system_clock::duration>(
      sys_days{year{2026} / 11 / 26}.time_since_epoch() + hours(10) + nanoseconds(123456789)));
}

// GET http://example.com/api/v1/items?x=1 answered 200 by app's 10.1.0.5:8080 in 12.4 ms.
struct SampleStream {
  SampleStream() {
    request.method = "GET";
    request.path = "/api/v1/items?x=1";
    request.authority = "example.com";
    request.headers.add("user-agent", "curl/8.0");
    request.headers.add("x-forwarded-for", "10.0.0.1");
    request.headers.add("x-request-id", "abc-123");
    response.status = 200;
    response.headers.add("x-envoy-upstream-service-time", "7");
    trailers.add("grpc-status", "0");
    info.start_wall = fixedStartTime();
    info.end = info.start + std::chrono::microseconds(12400);
    info.first_upstream_byte = info.start + std::chrono::microseconds(9900);
    info.response_code = 200;
    info.response_code_details = "via_upstream";
    info.route_name = "default";
    info.cluster_name = "app";
    info.upstream_host = "10.1.0.5:8080";
    info.downstream_remote_address = "192.168.1.7:54321";
    info.bytes_received = 5;
    info.bytes_sent = 42;
  }

  LogContext context() const { return LogContext{&request, &response, &trailers, info}; }

  http::RequestHead request;
  http::ResponseHead response;
  http::HeaderMap trailers;
  stream::StreamInfo info;
};

}  // namespace remora::telemetry::testing
