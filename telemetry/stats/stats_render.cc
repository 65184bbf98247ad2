#include "telemetry/stats/stats_render.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

namespace remora::stats {

namespace {
bool selected(const MergedStat& s, const StatsQuery& q) {
  if (q.used_only && !s.used) return false;
  return !q.filter || RE2::PartialMatch(s.full_name, *q.filter);
}

std::string formatDouble(double v) {
  if (std::isnan(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.10g", v);
  return buf;
}

std::string quantileLabel(double q) {
  std::string s = formatDouble(q * 100);
  return "P" + s;
}
}  // namespace

const std::vector<double>& supportedQuantiles() {
  static const std::vector<double> q{0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1};
  return q;
}

double histogramQuantile(const MergedStat& h, double q) {
  if (h.count == 0 || !h.bounds) return std::nan("");
  const HistogramBounds& bounds = *h.bounds;
  const double target = q * static_cast<double>(h.count);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.buckets.size(); ++i) {
    const uint64_t before = cumulative;
    cumulative += h.buckets[i];
    if (h.buckets[i] == 0 || static_cast<double>(cumulative) < target) continue;
    const double lower = i == 0 ? 0 : bounds[i - 1];
    if (i >= bounds.size()) return lower;  // +Inf bucket: the highest finite bound
    const double upper = bounds[i];
    const double fraction =
        (target - static_cast<double>(before)) / static_cast<double>(h.buckets[i]);
    return lower + (upper - lower) * std::max(0.0, fraction);
  }
  return bounds.empty() ? 0 : bounds.back();
}

std::string renderText(const std::vector<MergedStat>& stats, const StatsQuery& query) {
  std::string out;
  for (const MergedStat& s : stats) {
    if (s.type == MergedStat::Type::Histogram || !selected(s, query)) continue;
    out += s.full_name;
    out += ": ";
    out +=
        s.type == MergedStat::Type::Counter ? std::to_string(s.counter) : std::to_string(s.gauge);
    out += '\n';
  }
  for (const MergedStat& s : stats) {
    if (s.type != MergedStat::Type::Histogram || !selected(s, query)) continue;
    out += s.full_name;
    out += ':';
    if (s.count == 0) {
      out += " No recorded values\n";
      continue;
    }
    for (double q : supportedQuantiles()) {
      out += ' ' + quantileLabel(q) + "(nan," + formatDouble(histogramQuantile(s, q)) + ")";
    }
    out += '\n';
  }
  return out;
}

std::string renderJson(const std::vector<MergedStat>& stats, const StatsQuery& query) {
  std::string out = "{\"stats\":[";
  bool first = true;
  for (const MergedStat& s : stats) {
    if (s.type == MergedStat::Type::Histogram || !selected(s, query)) continue;
    if (!first) out += ',';
    first = false;
    out += "{\"name\":\"" + s.full_name + "\",\"value\":" +
           (s.type == MergedStat::Type::Counter ? std::to_string(s.counter)
                                                : std::to_string(s.gauge)) +
           "}";
  }
  std::string histograms;
  for (const MergedStat& s : stats) {
    if (s.type != MergedStat::Type::Histogram || !selected(s, query)) continue;
    if (!histograms.empty()) histograms += ',';
    histograms += "{\"name\":\"" + s.full_name + "\",\"values\":[";
    bool first_q = true;
    for (double q : supportedQuantiles()) {
      if (!first_q) histograms += ',';
      first_q = false;
      const double v = histogramQuantile(s, q);
      histograms +=
          "{\"interval\":null,\"cumulative\":" + (std::isnan(v) ? "null" : formatDouble(v)) + "}";
    }
    histograms += "]}";
  }
  if (!histograms.empty()) {
    if (!first) out += ',';
    out += "{\"histograms\":{\"supported_quantiles\":[";
    bool first_q = true;
    for (double q : supportedQuantiles()) {
      if (!first_q) out += ',';
      first_q = false;
      out += formatDouble(q * 100);
    }
    out += "],\"computed_quantiles\":[" + histograms + "]}}";
  }
  out += "]}\n";
  return out;
}

namespace {
struct PrometheusName {
  std::string family;
  std::vector<prometheus::ClientMetric::Label> labels;
};

const char* familyPrefix(ScopeKind kind) {
  switch (kind) {
    case ScopeKind::Http:
      return "envoy_http_";
    case ScopeKind::Cluster:
      return "envoy_cluster_";
    case ScopeKind::Listener:
      return "envoy_listener_";
    case ScopeKind::TcpProxy:
      return "envoy_tcp_";
    case ScopeKind::Server:
      return "envoy_server_";
    case ScopeKind::AccessLog:
      return "envoy_access_log_";
    case ScopeKind::Route:
      return "envoy_vhost_route_";
    case ScopeKind::Http2:
      return "envoy_http2_";
    case ScopeKind::NetworkRbac:
      return "envoy_";  // envoy_rbac_allowed, the stat_prefix in envoy_rbac_prefix
  }
  return "envoy_";
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Envoy's default tag extractors for TLS: "ssl.versions.TLSv1.3" -> "ssl.versions"
// with envoy_ssl_version="TLSv1.3"; "ssl.ciphers.<cipher>" -> "ssl.ciphers" with
// envoy_ssl_cipher on listeners but cipher_suite on clusters (Envoy's two regexes
// disagree, and it keeps them for compatibility). True if `stat` was one of them.
bool extractSslTag(std::string& stat, ScopeKind kind,
                   std::vector<prometheus::ClientMetric::Label>& labels) {
  constexpr std::string_view kVersions = "ssl.versions.";
  constexpr std::string_view kCiphers = "ssl.ciphers.";
  if (stat.starts_with(kVersions)) {
    labels.push_back({"envoy_ssl_version", stat.substr(kVersions.size())});
    stat.resize(kVersions.size() - 1);
    return true;
  }
  if (stat.starts_with(kCiphers)) {
    labels.push_back({kind == ScopeKind::Cluster ? "cipher_suite" : "envoy_ssl_cipher",
                      stat.substr(kCiphers.size())});
    stat.resize(kCiphers.size() - 1);
    return true;
  }
  return false;
}

// Envoy's tag extraction for response codes: "<x>_5xx" -> "<x>_xx" with
// envoy_response_code_class="5"; "upstream_rq_503" -> "upstream_rq" with
// envoy_response_code="503".
void extractResponseCodeTag(std::string& stat,
                            std::vector<prometheus::ClientMetric::Label>& labels) {
  const size_t len = stat.size();
  if (len > 4 && stat[len - 4] == '_' && isDigit(stat[len - 3]) &&
      stat.compare(len - 2, 2, "xx") == 0) {
    labels.push_back({"envoy_response_code_class", std::string(1, stat[len - 3])});
    stat = stat.substr(0, len - 3) + "xx";
  } else if (len > 4 && stat[len - 4] == '_' && isDigit(stat[len - 3]) && isDigit(stat[len - 2]) &&
             isDigit(stat[len - 1])) {
    labels.push_back({"envoy_response_code", stat.substr(len - 3)});
    stat = stat.substr(0, len - 4);
  }
}

// Envoy's tag extractor for the HTTP RBAC filter's rules_stat_prefix and
// shadow_rules_stat_prefix: "rbac.canary.allowed" -> "rbac.allowed" with
// envoy_rbac_http_prefix="canary". True if `stat` was one of them.
bool extractRbacHttpPrefixTag(std::string& stat, ScopeKind kind,
                              std::vector<prometheus::ClientMetric::Label>& labels) {
  constexpr std::string_view kRbac = "rbac.";
  if (kind != ScopeKind::Http || !stat.starts_with(kRbac)) return false;
  const size_t last_dot = stat.rfind('.');
  if (last_dot < kRbac.size()) return false;  // no prefix between "rbac." and the name
  labels.push_back({"envoy_rbac_http_prefix", stat.substr(kRbac.size(), last_dot - kRbac.size())});
  stat.erase(kRbac.size(), last_dot + 1 - kRbac.size());
  return true;
}

PrometheusName prometheusName(const MergedStat& s) {
  PrometheusName n;
  std::string stat = s.stat;
  // A cipher name may end in digits: it is never also a response code.
  if (!extractSslTag(stat, s.kind, n.labels) && !extractRbacHttpPrefixTag(stat, s.kind, n.labels)) {
    extractResponseCodeTag(stat, n.labels);
  }
  if (s.tags) {
    for (const auto& [name, value] : *s.tags) n.labels.push_back({name, value});
  }
  // A namespaced stat ("rbac.allowed") keeps its parts: envoy_http_rbac_allowed.
  std::replace(stat.begin(), stat.end(), '.', '_');
  n.family = familyPrefix(s.kind) + stat;
  return n;
}
}  // namespace

std::vector<prometheus::MetricFamily> PrometheusCollector::Collect() const {
  // Families in Envoy's order: counters, gauges, histograms, each by name.
  std::map<std::pair<int, std::string>, prometheus::MetricFamily> families;
  for (const MergedStat& s : store_.snapshot()) {
    if (!selected(s, query_)) continue;
    PrometheusName name = prometheusName(s);
    const int order = static_cast<int>(s.type);
    prometheus::MetricFamily& family = families[{order, name.family}];
    family.name = name.family;
    prometheus::ClientMetric metric;
    metric.label = std::move(name.labels);
    switch (s.type) {
      case MergedStat::Type::Counter:
        family.type = prometheus::MetricType::Counter;
        metric.counter.value = static_cast<double>(s.counter);
        break;
      case MergedStat::Type::Gauge:
        family.type = prometheus::MetricType::Gauge;
        metric.gauge.value = static_cast<double>(s.gauge);
        break;
      case MergedStat::Type::Histogram: {
        family.type = prometheus::MetricType::Histogram;
        metric.histogram.sample_count = s.count;
        metric.histogram.sample_sum = s.sum;
        uint64_t cumulative = 0;
        for (size_t i = 0; i < s.buckets.size(); ++i) {
          cumulative += s.buckets[i];
          const double bound =
              i < s.bounds->size() ? (*s.bounds)[i] : std::numeric_limits<double>::infinity();
          metric.histogram.bucket.push_back({cumulative, bound});
        }
        break;
      }
    }
    family.metric.push_back(std::move(metric));
  }
  std::vector<prometheus::MetricFamily> out;
  out.reserve(families.size());
  for (auto& [key, family] : families) out.push_back(std::move(family));
  return out;
}

namespace {
// prometheus-cpp prints doubles with precision max_digits10 - 1 (%.16g).
void appendDouble(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "Nan";
  } else if (std::isinf(v)) {
    out += v < 0 ? "-Inf" : "+Inf";
  } else if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[24];
    const auto end = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(v)).ptr;
    out.append(buf, end);
  } else {
    char buf[32];
    const int n = std::snprintf(buf, sizeof(buf), "%.16g", v);
    out.append(buf, static_cast<size_t>(n));
  }
}

void appendEscaped(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// name + suffix + {labels[,extra]} + " "
void appendHead(std::string& out, const prometheus::MetricFamily& family,
                const prometheus::ClientMetric& metric, std::string_view suffix,
                std::string_view extra_name = {}, std::string_view extra_value = {}) {
  out += family.name;
  out += suffix;
  if (!metric.label.empty() || !extra_name.empty()) {
    out += '{';
    const char* separator = "";
    for (const auto& label : metric.label) {
      out += separator;
      out += label.name;
      out += "=\"";
      appendEscaped(out, label.value);
      out += '"';
      separator = ",";
    }
    if (!extra_name.empty()) {
      out += separator;
      out += extra_name;
      out += "=\"";
      out += extra_value;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
}

void appendTail(std::string& out, const prometheus::ClientMetric& metric) {
  if (metric.timestamp_ms != 0) {
    out += ' ';
    out += std::to_string(metric.timestamp_ms);
  }
  out += '\n';
}
}  // namespace

void writePrometheusText(const std::vector<prometheus::MetricFamily>& families, std::string& out) {
  std::map<double, std::string> bound_text;  // a handful of distinct bucket bounds
  for (const prometheus::MetricFamily& family : families) {
    if (!family.help.empty()) out += "# HELP " + family.name + " " + family.help + "\n";
    out += "# TYPE " + family.name;
    switch (family.type) {
      case prometheus::MetricType::Counter:
        out += " counter\n";
        break;
      case prometheus::MetricType::Gauge:
        out += " gauge\n";
        break;
      case prometheus::MetricType::Histogram:
        out += " histogram\n";
        break;
      case prometheus::MetricType::Summary:
        out += " summary\n";
        break;
      default:
        out += " untyped\n";
        break;
    }
    for (const prometheus::ClientMetric& metric : family.metric) {
      switch (family.type) {
        case prometheus::MetricType::Counter:
          appendHead(out, family, metric, "");
          appendDouble(out, metric.counter.value);
          appendTail(out, metric);
          break;
        case prometheus::MetricType::Gauge:
          appendHead(out, family, metric, "");
          appendDouble(out, metric.gauge.value);
          appendTail(out, metric);
          break;
        case prometheus::MetricType::Histogram: {
          appendHead(out, family, metric, "_count");
          out += std::to_string(metric.histogram.sample_count);
          appendTail(out, metric);
          appendHead(out, family, metric, "_sum");
          appendDouble(out, metric.histogram.sample_sum);
          appendTail(out, metric);
          double last = -std::numeric_limits<double>::infinity();
          for (const auto& bucket : metric.histogram.bucket) {
            std::string& le = bound_text[bucket.upper_bound];
            if (le.empty()) appendDouble(le, bucket.upper_bound);
            appendHead(out, family, metric, "_bucket", "le", le);
            out += std::to_string(bucket.cumulative_count);
            appendTail(out, metric);
            last = bucket.upper_bound;
          }
          if (last != std::numeric_limits<double>::infinity()) {
            appendHead(out, family, metric, "_bucket", "le", "+Inf");
            out += std::to_string(metric.histogram.sample_count);
            appendTail(out, metric);
          }
          break;
        }
        default:
          break;  // Remora produces no summaries or untyped samples
      }
    }
  }
}

std::string renderPrometheus(const Store& store, const StatsQuery& query) {
  PrometheusCollector collector(store, query);
  std::string out;
  writePrometheusText(collector.Collect(), out);
  return out;
}

}  // namespace remora::stats
