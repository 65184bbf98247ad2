// Route matching on a 1,000-route table: the worst case walks every route.
#include <benchmark/benchmark.h>

#include <string>

#include "proxy/router/route_table.h"

namespace remora::router {
namespace {

std::shared_ptr<const RouteTable> buildTable(int routes) {
  config::RouteConfiguration config;
  config::VirtualHost vhost;
  vhost.name = "service";
  vhost.domains = {"service.default.svc.cluster.local", "*"};
  for (int i = 0; i < routes; ++i) {
    config::Route route;
    route.match.path_kind = config::RouteMatch::PathKind::Prefix;
    route.match.path_value = "/api/v1/resource" + std::to_string(i) + "/";
    route.route.cluster = "backend";
    vhost.routes.push_back(route);
  }
  config.virtual_hosts.push_back(vhost);
  return RouteTable::create(config);
}

void BM_RouteMatch(benchmark::State& state) {
  const auto table = buildTable(1000);
  http::RequestHead request;
  request.method = "GET";
  request.authority = "service.default.svc.cluster.local";
  // Route index `state.range(0)`: 0 is the first route, 999 the last.
  request.path = "/api/v1/resource" + std::to_string(state.range(0)) + "/items?x=1";
  for (auto _ : state) benchmark::DoNotOptimize(table->match(request));
}
BENCHMARK(BM_RouteMatch)->Arg(0)->Arg(500)->Arg(999);

}  // namespace
}  // namespace remora::router
