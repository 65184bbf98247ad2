// Renders a stats snapshot the way Envoy's admin endpoint does: /stats text and
// JSON, and /stats/prometheus through prometheus-cpp (a Collectable that maps
// Envoy names to Prometheus families and tags).
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <re2/re2.h>

#include <memory>
#include <string>
#include <vector>

#include "telemetry/stats/stats_store.h"

namespace remora::stats {

struct StatsQuery {
  std::unique_ptr<RE2> filter;  // partial match on the Envoy name; null: all
  bool used_only = false;
};

// The quantiles /stats prints for histograms (Envoy's list).
const std::vector<double>& supportedQuantiles();
// Estimates a quantile (0..1) from bucket counts by linear interpolation.
double histogramQuantile(const MergedStat& histogram, double q);

std::string renderText(const std::vector<MergedStat>& stats, const StatsQuery& query);
std::string renderJson(const std::vector<MergedStat>& stats, const StatsQuery& query);

// Envoy's Prometheus naming: "cluster.web.upstream_rq_503" becomes
// envoy_cluster_upstream_rq{envoy_response_code="503",envoy_cluster_name="web"}.
class PrometheusCollector : public prometheus::Collectable {
 public:
  PrometheusCollector(const Store& store, const StatsQuery& query) : store_(store), query_(query) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Store& store_;
  const StatsQuery& query_;
};

// Text exposition format 0.0.4, byte for byte what prometheus::TextSerializer
// writes for the same families. prometheus-cpp's serializer goes through iostreams
// and took two thirds of a 1,000-cluster scrape; this writer uses to_chars for the
// integral values that make up nearly all samples.
void writePrometheusText(const std::vector<prometheus::MetricFamily>& families, std::string& out);
std::string renderPrometheus(const Store& store, const StatsQuery& query);

}  // namespace remora::stats
