// The stats store: every scope (an HTTP connection manager's stat_prefix, a
// cluster, a listener, ...) has one shard per worker plus one for the main thread.
// Shards are created on the main thread before the workers start and never move;
// each is written by its own thread only. snapshot() merges the shards for the
// admin endpoint (text, JSON, Prometheus) without stopping anyone.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "telemetry/stats/stat_definitions.h"

namespace remora::stats {

// NetworkRbac names have no fixed root: they start with the filter's own stat_prefix.
enum class ScopeKind {
  Http,
  Cluster,
  Listener,
  TcpProxy,
  Server,
  AccessLog,
  Route,
  NetworkRbac,
  Http2
};

// A scope's Prometheus tags, e.g. {{"envoy_cluster_name", "web"}}.
using Tags = std::vector<std::pair<std::string, std::string>>;

template <typename S>
class Scope {
 public:
  Scope(std::string name, size_t shards, Tags tags = {})
      : name_(std::move(name)), tags_(std::move(tags)) {
    for (size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<S>());
  }
  const std::string& name() const { return name_; }
  const Tags& tags() const { return tags_; }
  S& shard(size_t thread_index) { return *shards_[thread_index]; }
  const std::vector<std::unique_ptr<S>>& shards() const { return shards_; }

 private:
  std::string name_;
  Tags tags_;
  std::vector<std::unique_ptr<S>> shards_;
};

// One stat with its shards added up.
struct MergedStat {
  enum class Type { Counter, Gauge, Histogram };
  Type type = Type::Counter;
  ScopeKind kind = ScopeKind::Server;
  const std::string* scope = nullptr;  // cluster name, stat prefix, ...; empty for server
  const Tags* tags = nullptr;
  std::string stat;  // "upstream_rq_total", "upstream_rq_503"
  uint64_t counter = 0;
  int64_t gauge = 0;
  const HistogramBounds* bounds = nullptr;
  std::vector<uint64_t> buckets;  // per bucket, last is +Inf
  uint64_t count = 0;
  double sum = 0;
  bool used = false;
  // Envoy's dotted name: "cluster.web.upstream_rq_total".
  std::string full_name;
};

// Picks a histogram's bucket bounds by its full name
// (stats_config.histogram_bucket_settings); nullptr means Envoy's defaults.
using BucketSelector = std::function<std::shared_ptr<const HistogramBounds>(const std::string&)>;

class Store {
 public:
  // Shards 0..workers-1 belong to the workers; shard `workers` to the main thread.
  Store(size_t workers, BucketSelector buckets = nullptr);

  size_t mainThreadShard() const { return shards_ - 1; }

  // Registration, main thread only, before the workers start. A name registered
  // twice returns the same scope (Envoy merges stats of the same prefix).
  Scope<HttpConnManagerStats>& httpScope(const std::string& stat_prefix);
  Scope<ClusterStats>& clusterScope(const std::string& cluster);
  Scope<ListenerStats>& listenerScope(const std::string& address);
  Scope<TcpProxyStats>& tcpScope(const std::string& stat_prefix);
  Scope<RouteStats>& routeScope(const std::string& virtual_host, const std::string& stat_prefix);
  // http.<stat_prefix>.rbac.[<rules_stat_prefix>.]{allowed,denied} and
  // ...rbac.[<shadow_rules_stat_prefix>.]shadow_{allowed,denied}: an HTTP RBAC filter,
  // listed with the http scope of that prefix (created too).
  Scope<RbacStats>& httpRbacScope(const std::string& stat_prefix,
                                  const std::string& rules_stat_prefix = "",
                                  const std::string& shadow_rules_stat_prefix = "");
  // <stat_prefix>.rbac.*: an envoy.filters.network.rbac with that (required)
  // stat_prefix, listed among all stats by its full name.
  Scope<RbacStats>& networkRbacScope(const std::string& stat_prefix,
                                     const std::string& shadow_rules_stat_prefix = "");
  ServerStats& server() { return server_.shard(0); }
  // http2.*: the downstream HTTP/2 codecs of every listener, one shard per thread.
  Scope<Http2Stats>& http2() { return http2_; }
  AccessLogStats& accessLog() { return access_log_.shard(0); }

  // Every stat, merged, ordered by kind, scope and stat name (which is Envoy's
  // sorted-by-name order but for scope names that sort differently with the dot).
  std::vector<MergedStat> snapshot() const;
  // POST /reset_counters: later snapshots count counters and histograms from now.
  // Writers are never touched, so a reset cannot race with them.
  void resetCounters();

 private:
  template <typename S>
  Scope<S>& getOrCreate(std::map<std::string, std::unique_ptr<Scope<S>>>& scopes,
                        const std::string& name, const char* prefix, Tags tags);
  // Appends the scope's stats to `out`, unsorted.
  template <typename S>
  void mergeShards(const Scope<S>& scope, ScopeKind kind, std::vector<MergedStat>& out) const;
  // mergeShards, then sorts the scope's stats by name.
  template <typename S>
  void merge(const Scope<S>& scope, ScopeKind kind, std::vector<MergedStat>& out) const;
  void applyBaseline(MergedStat& s) const;

  size_t shards_;
  BucketSelector buckets_;
  std::map<std::string, std::unique_ptr<Scope<HttpConnManagerStats>>> http_;
  std::map<std::string, std::unique_ptr<Scope<ClusterStats>>> clusters_;
  std::map<std::string, std::unique_ptr<Scope<ListenerStats>>> listeners_;
  std::map<std::string, std::unique_ptr<Scope<TcpProxyStats>>> tcp_;
  // Both RBAC filters' scopes: one per owner and stat names.
  struct RbacScope {
    ScopeKind kind;
    RbacStatNames names;
    std::unique_ptr<Scope<RbacStats>> scope;
  };
  Scope<RbacStats>& rbacScope(ScopeKind kind, const std::string& owner, RbacStatNames names,
                              Tags tags);
  // Appends the RBAC stats of `kind` owned by `owner`.
  void mergeRbac(ScopeKind kind, const std::string& owner, std::vector<MergedStat>& out) const;
  std::vector<std::unique_ptr<RbacScope>> rbac_;
  std::map<std::string, std::unique_ptr<Scope<RouteStats>>> routes_;
  Scope<ServerStats> server_{"", 1};
  Scope<Http2Stats> http2_;
  Scope<AccessLogStats> access_log_{"", 1};
  // Values at the last reset_counters, by full name.
  struct Baseline {
    uint64_t counter = 0;
    std::vector<uint64_t> buckets;
    uint64_t count = 0;
    double sum = 0;
  };
  std::map<std::string, Baseline> baseline_;
};

}  // namespace remora::stats
