// Answers health check requests at the proxy. Without pass-through it replies 200
// itself (503 once POST /healthcheck/fail was called, so load balancers drain the
// instance). In pass-through mode the request goes to the service, except while
// failed, when it gets the 503 here.
#pragma once

#include <memory>

#include "filters/filter.h"
#include "filters/health_check/health_check_config.h"

namespace remora::filters::health_check {

class HealthCheckFilter : public StreamFilter {
 public:
  HealthCheckFilter(std::shared_ptr<const HealthCheckConfig> config, const ServerState& server)
      : config_(std::move(config)), server_(server) {}

  FilterStatus onRequestHeaders(http::RequestHead& head, bool end_stream) override;
  FilterStatus onResponseHeaders(http::ResponseHead& head, bool end_stream) override;
  // It keeps no per-stream state.
  bool recycle() override { return true; }

 private:
  std::shared_ptr<const HealthCheckConfig> config_;
  const ServerState& server_;
};

}  // namespace remora::filters::health_check
