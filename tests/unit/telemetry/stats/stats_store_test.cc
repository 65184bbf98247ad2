#include "telemetry/stats/stats_store.h"

#include <gtest/gtest.h>

#include "telemetry/stats/stats_render.h"

namespace remora::stats {
namespace {

const MergedStat& find(const std::vector<MergedStat>& stats, const std::string& name) {
  for (const MergedStat& s : stats) {
    if (s.full_name == name) return s;
  }
  static MergedStat missing;
  ADD_FAILURE() << "no stat " << name;
  return missing;
}

TEST(StatsStoreTest, MergesShardsOfEveryThread) {
  Store store(2);  // two workers and the main thread
  auto& cluster = store.clusterScope("web");
  cluster.shard(0).upstream_rq_total.inc();
  cluster.shard(1).upstream_rq_total.inc(2);
  cluster.shard(store.mainThreadShard()).update_attempt.inc();
  cluster.shard(0).upstream_cx_active.inc();
  cluster.shard(1).upstream_cx_active.inc();
  cluster.shard(1).upstream_cx_active.dec();
  cluster.shard(0).upstream_rq_time.record(3);
  cluster.shard(1).upstream_rq_time.record(700);

  const auto stats = store.snapshot();
  EXPECT_EQ(find(stats, "cluster.web.upstream_rq_total").counter, 3u);
  EXPECT_EQ(find(stats, "cluster.web.update_attempt").counter, 1u);
  EXPECT_EQ(find(stats, "cluster.web.upstream_cx_active").gauge, 1);
  const MergedStat& time = find(stats, "cluster.web.upstream_rq_time");
  EXPECT_EQ(time.count, 2u);
  EXPECT_DOUBLE_EQ(time.sum, 703);
  // Envoy's buckets: 3 falls in (1,5], 700 in (500,1000].
  EXPECT_EQ(time.buckets[2], 1u);
  EXPECT_EQ(time.buckets[9], 1u);
}

TEST(StatsStoreTest, ResponseCodesAppearOnceSeen) {
  Store store(1);
  auto& cluster = store.clusterScope("web");
  cluster.shard(0).upstream_rq_by_code.inc(503);
  cluster.shard(0).upstream_rq_by_code.inc(503);
  cluster.shard(0).upstreamResponseClass(503).inc();
  const auto stats = store.snapshot();
  EXPECT_EQ(find(stats, "cluster.web.upstream_rq_503").counter, 2u);
  EXPECT_EQ(find(stats, "cluster.web.upstream_rq_5xx").counter, 1u);
  for (const MergedStat& s : stats) EXPECT_NE(s.full_name, "cluster.web.upstream_rq_200");
}

TEST(StatsStoreTest, SnapshotIsSortedAndMarksUse) {
  Store store(1);
  store.httpScope("ingress").shard(0).downstream_rq_total.inc();
  const auto stats = store.snapshot();
  for (size_t i = 1; i < stats.size(); ++i) EXPECT_LT(stats[i - 1].full_name, stats[i].full_name);
  EXPECT_TRUE(find(stats, "http.ingress.downstream_rq_total").used);
  EXPECT_FALSE(find(stats, "http.ingress.downstream_rq_completed").used);
}

TEST(StatsStoreTest, ResetCountersLeavesGaugesAndWriters) {
  Store store(1);
  auto& http = store.httpScope("ingress").shard(0);
  http.downstream_rq_total.inc(5);
  http.downstream_rq_active.inc();
  http.downstream_rq_time.record(2);
  store.resetCounters();
  http.downstream_rq_total.inc();
  const auto stats = store.snapshot();
  EXPECT_EQ(find(stats, "http.ingress.downstream_rq_total").counter, 1u);
  EXPECT_EQ(find(stats, "http.ingress.downstream_rq_active").gauge, 1);
  EXPECT_EQ(find(stats, "http.ingress.downstream_rq_time").count, 0u);
}

TEST(StatsStoreTest, CustomBucketsBySelector) {
  auto bounds = std::make_shared<const HistogramBounds>(HistogramBounds{1, 2});
  Store store(1, [&](const std::string& name) {
    return name == "cluster.web.upstream_rq_time" ? bounds : nullptr;
  });
  auto& c = store.clusterScope("web").shard(0);
  c.upstream_rq_time.record(1.5);
  c.upstream_rq_time.record(9);
  const auto stats = store.snapshot();
  const MergedStat& time = find(stats, "cluster.web.upstream_rq_time");
  ASSERT_EQ(time.buckets.size(), 3u);
  EXPECT_EQ(time.buckets[1], 1u);
  EXPECT_EQ(time.buckets[2], 1u);
  EXPECT_EQ(find(stats, "cluster.web.upstream_cx_connect_ms").buckets.size(),
            defaultHistogramBounds().size() + 1);
}

TEST(StatsRenderTest, TextFormatWithFilterAndUsedOnly) {
  Store store(1);
  store.clusterScope("web").shard(0).upstream_rq_total.inc(7);
  store.clusterScope("api").shard(0).upstream_rq_total.inc(1);
  StatsQuery query;
  query.filter = std::make_unique<RE2>("upstream_rq_total");
  query.used_only = true;
  EXPECT_EQ(renderText(store.snapshot(), query),
            "cluster.api.upstream_rq_total: 1\ncluster.web.upstream_rq_total: 7\n");
}

TEST(StatsRenderTest, HistogramQuantilesInterpolateWithinBuckets) {
  Store store(1);
  auto& h = store.clusterScope("web").shard(0).upstream_rq_time;
  for (int i = 0; i < 4; ++i) h.record(7);  // all in (5,10]
  const auto stats = store.snapshot();
  const MergedStat& time = find(stats, "cluster.web.upstream_rq_time");
  EXPECT_DOUBLE_EQ(histogramQuantile(time, 0.5), 7.5);
  EXPECT_DOUBLE_EQ(histogramQuantile(time, 1.0), 10);
  StatsQuery query;
  query.filter = std::make_unique<RE2>("^cluster.web.upstream_rq_time$");
  EXPECT_EQ(renderText(stats, query),
            "cluster.web.upstream_rq_time: P0(nan,5) P25(nan,6.25) P50(nan,7.5) P75(nan,8.75) "
            "P90(nan,9.5) P95(nan,9.75) P99(nan,9.95) P99.5(nan,9.975) P99.9(nan,9.995) "
            "P100(nan,10)\n");
}

TEST(StatsRenderTest, PrometheusUsesEnvoyNamesAndTags) {
  Store store(1);
  auto& c = store.clusterScope("web").shard(0);
  c.upstream_rq_by_code.inc(503);
  c.upstreamResponseClass(503).inc();
  c.upstream_rq_time.record(3);
  store.httpScope("ingress").shard(0).downstreamResponseClass(200).inc();
  StatsQuery query;
  query.filter = std::make_unique<RE2>("upstream_rq_5|upstream_rq_time|downstream_rq_2xx");
  const std::string text = renderPrometheus(store, query);
  EXPECT_NE(
      text.find(
          "# TYPE envoy_cluster_upstream_rq counter\n"
          "envoy_cluster_upstream_rq{envoy_response_code=\"503\",envoy_cluster_name=\"web\"} 1\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"5\","
                      "envoy_cluster_name=\"web\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("envoy_http_downstream_rq_xx{envoy_response_code_class=\"2\","
                      "envoy_http_conn_manager_prefix=\"ingress\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find("envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"web\",le=\"5\"} 1\n"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(
          "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"web\",le=\"+Inf\"} 1\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"web\"} 1\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace remora::stats

#include <prometheus/text_serializer.h>

#include <limits>
#include <sstream>

namespace remora::stats {
namespace {

// Our writer must produce exactly what prometheus-cpp's TextSerializer does.
TEST(StatsRenderTest, PrometheusWriterMatchesPrometheusCpp) {
  std::vector<prometheus::MetricFamily> families(3);
  families[0].name = "envoy_cluster_upstream_rq";
  families[0].type = prometheus::MetricType::Counter;
  for (double v : {0.0, 3.0, 123456789012.0, 1e20, 0.1 + 0.2}) {
    prometheus::ClientMetric m;
    m.label = {{"envoy_response_code", "503"}, {"envoy_cluster_name", "we\"ird\\name\n"}};
    m.counter.value = v;
    families[0].metric.push_back(m);
  }
  families[1].name = "envoy_server_live";
  families[1].type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric gauge;
  gauge.gauge.value = -4;
  families[1].metric.push_back(gauge);
  families[2].name = "envoy_cluster_upstream_rq_time";
  families[2].type = prometheus::MetricType::Histogram;
  prometheus::ClientMetric h;
  h.label = {{"envoy_cluster_name", "web"}};
  h.histogram.sample_count = 3;
  h.histogram.sample_sum = 2.75;
  h.histogram.bucket = {{1, 0.5}, {2, 2.5}, {3, std::numeric_limits<double>::infinity()}};
  families[2].metric.push_back(h);
  prometheus::ClientMetric h2 = h;  // without an explicit +Inf bucket
  h2.histogram.bucket.pop_back();
  families[2].metric.push_back(h2);

  std::ostringstream expected;
  prometheus::TextSerializer().Serialize(expected, families);
  std::string ours;
  writePrometheusText(families, ours);
  EXPECT_EQ(ours, expected.str());
}

}  // namespace
}  // namespace remora::stats

namespace remora::stats {
namespace {

TEST(StatsStoreTest, RouteScopesCarryVirtualHostAndRouteTags) {
  Store store(1);
  RouteStats& route = store.routeScope("api", "checkout").shard(0);
  route.upstream_rq_total.inc();
  route.upstream_rq_by_code.inc(201);
  route.upstreamResponseClass(201).inc();
  const auto stats = store.snapshot();
  EXPECT_EQ(find(stats, "vhost.api.route.checkout.upstream_rq_total").counter, 1u);
  EXPECT_EQ(find(stats, "vhost.api.route.checkout.upstream_rq_201").counter, 1u);
  StatsQuery query;
  query.filter =
      std::make_unique<RE2>("^vhost\\.api\\.route\\.checkout\\.upstream_rq_(total|201)$");
  EXPECT_EQ(renderPrometheus(store, query),
            "# TYPE envoy_vhost_route_upstream_rq counter\n"
            "envoy_vhost_route_upstream_rq{envoy_response_code=\"201\",envoy_virtual_host=\"api\","
            "envoy_route=\"checkout\"} 1\n"
            "# TYPE envoy_vhost_route_upstream_rq_total counter\n"
            "envoy_vhost_route_upstream_rq_total{envoy_virtual_host=\"api\",envoy_route="
            "\"checkout\"} 1\n");
}

}  // namespace
}  // namespace remora::stats

namespace remora::stats {
namespace {

TEST(StatsStoreTest, RbacStatsAreNamespacedInTheirHttpScope) {
  Store store(2);
  Scope<RbacStats>& rbac = store.httpRbacScope("ingress");
  rbac.shard(0).allowed.inc(2);
  rbac.shard(1).allowed.inc();
  rbac.shard(1).denied.inc();
  rbac.shard(0).shadow_denied.inc(4);
  const auto stats = store.snapshot();
  // Listed inside http.ingress (which registering them created) in name order.
  for (size_t i = 1; i < stats.size(); ++i) EXPECT_LT(stats[i - 1].full_name, stats[i].full_name);
  EXPECT_EQ(find(stats, "http.ingress.downstream_rq_total").counter, 0u);

  StatsQuery query;
  query.filter = std::make_unique<RE2>("rbac");
  EXPECT_EQ(renderText(stats, query),
            "http.ingress.rbac.allowed: 3\n"
            "http.ingress.rbac.denied: 1\n"
            "http.ingress.rbac.shadow_allowed: 0\n"
            "http.ingress.rbac.shadow_denied: 4\n");
  query.used_only = true;
  EXPECT_EQ(renderPrometheus(store, query),
            "# TYPE envoy_http_rbac_allowed counter\n"
            "envoy_http_rbac_allowed{envoy_http_conn_manager_prefix=\"ingress\"} 3\n"
            "# TYPE envoy_http_rbac_denied counter\n"
            "envoy_http_rbac_denied{envoy_http_conn_manager_prefix=\"ingress\"} 1\n"
            "# TYPE envoy_http_rbac_shadow_denied counter\n"
            "envoy_http_rbac_shadow_denied{envoy_http_conn_manager_prefix=\"ingress\"} 4\n");

  store.resetCounters();
  rbac.shard(0).denied.inc();
  EXPECT_EQ(find(store.snapshot(), "http.ingress.rbac.denied").counter, 1u);
}

TEST(StatsStoreTest, HttpRbacRulesStatPrefixesNameTheStatsAndBecomeAPrometheusTag) {
  Store store(1);
  Scope<RbacStats>& rbac = store.httpRbacScope("ingress", "enforced", "canary.");
  // The same prefixes share counters, as two filters with the same names do in Envoy.
  EXPECT_EQ(&store.httpRbacScope("ingress", "enforced", "canary."), &rbac);
  rbac.shard(0).denied.inc();
  rbac.shard(0).shadow_allowed.inc(2);
  StatsQuery query;
  query.filter = std::make_unique<RE2>("rbac");
  EXPECT_EQ(renderText(store.snapshot(), query),
            "http.ingress.rbac.canary.shadow_allowed: 2\n"
            "http.ingress.rbac.canary.shadow_denied: 0\n"
            "http.ingress.rbac.enforced.allowed: 0\n"
            "http.ingress.rbac.enforced.denied: 1\n");
  query.used_only = true;
  EXPECT_EQ(renderPrometheus(store, query),
            "# TYPE envoy_http_rbac_denied counter\n"
            "envoy_http_rbac_denied{envoy_rbac_http_prefix=\"enforced\","
            "envoy_http_conn_manager_prefix=\"ingress\"} 1\n"
            "# TYPE envoy_http_rbac_shadow_allowed counter\n"
            "envoy_http_rbac_shadow_allowed{envoy_rbac_http_prefix=\"canary\","
            "envoy_http_conn_manager_prefix=\"ingress\"} 2\n");
}

// envoy.filters.network.rbac roots its stats at its own stat_prefix (with or without a
// trailing dot), listed where that full name sorts.
TEST(StatsStoreTest, NetworkRbacStatsAreRootedAtTheFiltersStatPrefix) {
  Store store(2);
  store.tcpScope("echo");
  Scope<RbacStats>& rbac = store.networkRbacScope("inbound.");
  EXPECT_EQ(&store.networkRbacScope("inbound"), &rbac);
  Scope<RbacStats>& shadow_prefixed = store.networkRbacScope("zeta", "canary_");
  rbac.shard(0).allowed.inc();
  rbac.shard(1).denied.inc(2);
  shadow_prefixed.shard(0).shadow_denied.inc();

  const auto stats = store.snapshot();
  std::vector<std::string> names;
  for (const MergedStat& s : stats) {
    if (s.full_name.find("rbac") != std::string::npos || s.full_name == "server.live" ||
        s.full_name == "tcp.echo.downstream_cx_total") {
      names.push_back(s.full_name);
    }
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "inbound.rbac.allowed", "inbound.rbac.denied", "inbound.rbac.shadow_allowed",
                       "inbound.rbac.shadow_denied", "server.live", "tcp.echo.downstream_cx_total",
                       "zeta.rbac.allowed", "zeta.rbac.canary_.shadow_allowed",
                       "zeta.rbac.canary_.shadow_denied", "zeta.rbac.denied"}));
  EXPECT_EQ(find(stats, "inbound.rbac.denied").counter, 2u);

  StatsQuery query;
  query.used_only = true;
  query.filter = std::make_unique<RE2>("rbac");
  EXPECT_EQ(renderPrometheus(store, query),
            "# TYPE envoy_rbac_allowed counter\n"
            "envoy_rbac_allowed{envoy_rbac_prefix=\"inbound\"} 1\n"
            "# TYPE envoy_rbac_canary__shadow_denied counter\n"
            "envoy_rbac_canary__shadow_denied{envoy_rbac_prefix=\"zeta\"} 1\n"
            "# TYPE envoy_rbac_denied counter\n"
            "envoy_rbac_denied{envoy_rbac_prefix=\"inbound\"} 2\n");
}

}  // namespace
}  // namespace remora::stats
