// The cost of telemetry: recording one request's stats on the hot path, and a
// Prometheus scrape of a large config.
#include <benchmark/benchmark.h>

#include "telemetry/stats/stats_render.h"
#include "telemetry/stats/stats_store.h"

namespace remora::stats {
namespace {

// Everything the data path records for one proxied HTTP request: downstream and
// upstream counters, gauges, the response code and class, and both latency
// histograms.
void BM_RecordOneRequest(benchmark::State& state) {
  Store store(1);
  HttpConnManagerStats& http = store.httpScope("ingress").shard(0);
  ClusterStats& cluster = store.clusterScope("web").shard(0);
  double latency = 0.3;
  for (auto _ : state) {
    http.downstream_rq_total.inc();
    http.downstream_rq_http1_total.inc();
    http.downstream_rq_active.inc();
    cluster.upstream_rq_total.inc();
    cluster.upstream_rq_active.inc();
    cluster.upstream_rq_by_code.inc(200);
    cluster.upstreamResponseClass(200).inc();
    cluster.upstream_rq_completed.inc();
    cluster.upstream_rq_active.dec();
    cluster.upstream_rq_time.record(latency);
    http.downstreamResponseClass(200).inc();
    http.downstream_rq_completed.inc();
    http.downstream_rq_active.dec();
    http.downstream_rq_time.record(latency + 0.1);
    latency = latency > 900 ? 0.3 : latency * 1.7;  // walk the buckets
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_RecordOneRequest);

// /stats/prometheus for a config with `n` clusters, two workers.
void BM_PrometheusScrape(benchmark::State& state) {
  Store store(2);
  for (int i = 0; i < state.range(0); ++i) {
    ClusterStats& c = store.clusterScope("cluster_" + std::to_string(i)).shard(0);
    c.upstream_rq_total.inc(i);
    c.upstream_rq_by_code.inc(200);
    c.upstream_rq_time.record(i % 100);
  }
  StatsQuery query;
  for (auto _ : state) {
    std::string text = renderPrometheus(store, query);
    benchmark::DoNotOptimize(text.data());
  }
}
BENCHMARK(BM_PrometheusScrape)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace remora::stats
