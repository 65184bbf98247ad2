// ssl.versions.<version> and ssl.ciphers.<cipher>: counted under names learnt at
// handshake time, merged by name across shards, exported with Envoy's tags.
#include <gtest/gtest.h>

#include "telemetry/stats/stats_render.h"
#include "telemetry/stats/stats_store.h"

namespace remora::stats {
namespace {

std::vector<std::pair<std::string, uint64_t>> contents(const NamedCounters<2>& counters) {
  std::vector<std::pair<std::string, uint64_t>> out;
  counters.forEach([&](std::string_view name, uint64_t value) { out.emplace_back(name, value); });
  return out;
}

std::vector<std::string> sslStatNames(const std::vector<MergedStat>& stats) {
  std::vector<std::string> names;
  for (const MergedStat& s : stats) {
    if (s.stat.starts_with("ssl.versions") || s.stat.starts_with("ssl.ciphers")) {
      names.push_back(s.full_name + "=" + std::to_string(s.counter));
    }
  }
  return names;
}

using Pairs = std::vector<std::pair<std::string, uint64_t>>;

TEST(NamedCountersTest, EmptyUntilFirstUse) {
  NamedCounters<2> counters;
  EXPECT_EQ(contents(counters), Pairs{});
}

TEST(NamedCountersTest, CountsByNameInFirstSeenOrder) {
  NamedCounters<2> counters;
  counters.inc("TLSv1.3");
  counters.inc("TLSv1.2");
  counters.inc("TLSv1.3");
  EXPECT_EQ(contents(counters), (Pairs{{"TLSv1.3", 2}, {"TLSv1.2", 1}}));
}

TEST(NamedCountersTest, NamesBeyondCapacityOrTooLongCountAsOther) {
  NamedCounters<2> counters;
  counters.inc("a");
  counters.inc("b");
  counters.inc("c");
  counters.inc("d");
  counters.inc(std::string(NamedCounters<2>::kMaxNameLength + 1, 'x'));
  counters.inc("a");
  EXPECT_EQ(contents(counters), (Pairs{{"a", 2}, {"b", 1}, {"other", 3}}));
}

TEST(SslStatsTest, SnapshotAddsShardsUpByNameAndListsOnlyNamesSeen) {
  Store store(2);
  Scope<ListenerStats>& listener = store.listenerScope("0.0.0.0_443");
  // Each worker learns the names in its own order.
  listener.shard(0).ssl.recordNegotiated("TLSv1.3", "TLS_AES_128_GCM_SHA256");
  listener.shard(0).ssl.recordNegotiated("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256");
  listener.shard(1).ssl.recordNegotiated("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256");
  listener.shard(1).ssl.recordNegotiated("TLSv1.3", "TLS_AES_128_GCM_SHA256");
  listener.shard(1).ssl.recordNegotiated("TLSv1.3", "TLS_AES_256_GCM_SHA384");
  store.clusterScope("plain");  // no handshakes: no ssl.versions or ssl.ciphers

  const std::vector<MergedStat> stats = store.snapshot();
  EXPECT_EQ(sslStatNames(stats),
            (std::vector<std::string>{
                "listener.0.0.0.0_443.ssl.ciphers.ECDHE-RSA-AES128-GCM-SHA256=2",
                "listener.0.0.0.0_443.ssl.ciphers.TLS_AES_128_GCM_SHA256=2",
                "listener.0.0.0.0_443.ssl.ciphers.TLS_AES_256_GCM_SHA384=1",
                "listener.0.0.0.0_443.ssl.versions.TLSv1.2=2",
                "listener.0.0.0.0_443.ssl.versions.TLSv1.3=3",
            }));
  for (size_t i = 1; i < stats.size(); ++i) EXPECT_LT(stats[i - 1].full_name, stats[i].full_name);
}

TEST(SslStatsTest, ResetCountersAppliesToNamedCounters) {
  Store store(1);
  SslStats& ssl = store.clusterScope("web").shard(0).ssl;
  ssl.recordNegotiated("TLSv1.3", "TLS_AES_128_GCM_SHA256");
  store.resetCounters();
  ssl.recordNegotiated("TLSv1.3", "TLS_AES_128_GCM_SHA256");
  ssl.recordNegotiated("TLSv1.3", "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(sslStatNames(store.snapshot()),
            (std::vector<std::string>{"cluster.web.ssl.ciphers.TLS_AES_128_GCM_SHA256=2",
                                      "cluster.web.ssl.versions.TLSv1.3=2"}));
}

// Envoy's default tag extractors: the version is envoy_ssl_version on both scopes;
// the cipher is envoy_ssl_cipher on a listener but cipher_suite on a cluster.
TEST(SslStatsTest, PrometheusUsesEnvoyTagExtraction) {
  Store store(1);
  store.listenerScope("127.0.0.1_8443")
      .shard(0)
      .ssl.recordNegotiated("TLSv1.3", "TLS_AES_128_GCM_SHA256");
  store.clusterScope("web").shard(0).ssl.recordNegotiated("TLSv1.2",
                                                          "ECDHE-ECDSA-AES256-GCM-SHA384");
  StatsQuery query;
  query.filter = std::make_unique<RE2>("ssl\\.(versions|ciphers)");
  EXPECT_EQ(
      renderPrometheus(store, query),
      "# TYPE envoy_cluster_ssl_ciphers counter\n"
      "envoy_cluster_ssl_ciphers{cipher_suite=\"ECDHE-ECDSA-AES256-GCM-SHA384\","
      "envoy_cluster_name=\"web\"} 1\n"
      "# TYPE envoy_cluster_ssl_versions counter\n"
      "envoy_cluster_ssl_versions{envoy_ssl_version=\"TLSv1.2\",envoy_cluster_name=\"web\"} 1\n"
      "# TYPE envoy_listener_ssl_ciphers counter\n"
      "envoy_listener_ssl_ciphers{envoy_ssl_cipher=\"TLS_AES_128_GCM_SHA256\","
      "envoy_listener_address=\"127.0.0.1_8443\"} 1\n"
      "# TYPE envoy_listener_ssl_versions counter\n"
      "envoy_listener_ssl_versions{envoy_ssl_version=\"TLSv1.3\","
      "envoy_listener_address=\"127.0.0.1_8443\"} 1\n");
}

TEST(SslStatsTest, TextAndJsonUseTheDottedNames) {
  Store store(1);
  store.listenerScope("127.0.0.1_8443")
      .shard(0)
      .ssl.recordNegotiated("TLSv1.3", "TLS_AES_128_GCM_SHA256");
  StatsQuery query;
  query.filter = std::make_unique<RE2>("ssl\\.versions");
  EXPECT_EQ(renderText(store.snapshot(), query),
            "listener.127.0.0.1_8443.ssl.versions.TLSv1.3: 1\n");
  EXPECT_EQ(
      renderJson(store.snapshot(), query),
      "{\"stats\":[{\"name\":\"listener.127.0.0.1_8443.ssl.versions.TLSv1.3\",\"value\":1}]}\n");
}

}  // namespace
}  // namespace remora::stats
