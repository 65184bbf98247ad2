#include "telemetry/stats/stats_store.h"

#include <algorithm>
#include <map>
#include <string_view>

namespace remora::stats {

namespace {
const char* kindPrefix(ScopeKind kind) {
  switch (kind) {
    case ScopeKind::Http:
      return "http";
    case ScopeKind::Cluster:
      return "cluster";
    case ScopeKind::Listener:
      return "listener";
    case ScopeKind::TcpProxy:
      return "tcp";
    case ScopeKind::Server:
      return "server";
    case ScopeKind::AccessLog:
      return "access_log";
    case ScopeKind::Route:
      return "vhost";
    case ScopeKind::Http2:
      return "http2";
    case ScopeKind::NetworkRbac:
      return "";
  }
  return "";
}

// Envoy's statPrefixJoin: "a" + "b" is "a.b", but "a." + "b" is "a.b" and "" + "b" is "b".
std::string statPrefixJoin(std::string_view prefix, std::string_view token) {
  std::string joined(prefix);
  if (!joined.empty() && !joined.ends_with('.')) joined += '.';
  joined += token;
  return joined;
}

RbacStatNames rbacStatNames(const std::string& rules_stat_prefix,
                            const std::string& shadow_rules_stat_prefix) {
  const std::string rules = statPrefixJoin("rbac.", rules_stat_prefix);
  const std::string shadow = statPrefixJoin("rbac.", shadow_rules_stat_prefix);
  return RbacStatNames{.allowed = statPrefixJoin(rules, "allowed"),
                       .denied = statPrefixJoin(rules, "denied"),
                       .shadow_allowed = statPrefixJoin(shadow, "shadow_allowed"),
                       .shadow_denied = statPrefixJoin(shadow, "shadow_denied")};
}

bool sameNames(const RbacStatNames& a, const RbacStatNames& b) {
  return a.allowed == b.allowed && a.shadow_allowed == b.shadow_allowed;
}

// Initialises each histogram of a fresh shard with its bounds.
struct HistogramInit {
  const std::string& prefix;
  const BucketSelector& select;
  void counter(const char*, Counter&) {}
  void gauge(const char*, Gauge&) {}
  void histogram(const char* name, Histogram& h) {
    std::shared_ptr<const HistogramBounds> bounds;
    if (select) bounds = select(prefix + name);
    if (!bounds) {
      bounds = std::shared_ptr<const HistogramBounds>(&defaultHistogramBounds(),
                                                      [](const HistogramBounds*) {});
    }
    h.init(std::move(bounds));
  }
};

// Adds one shard's values into `out`, in visit order; the first shard creates
// the entries.
struct MergeVisitor {
  std::vector<MergedStat>& out;
  size_t first;  // index of this scope's first entry in `out`
  bool create;
  ScopeKind kind;
  const std::string* scope;
  const Tags* tags;
  size_t i = 0;

  MergedStat& entry(const char* name, MergedStat::Type type) {
    if (create) {
      MergedStat& s = out.emplace_back();
      s.type = type;
      s.kind = kind;
      s.scope = scope;
      s.tags = tags;
      s.stat = name;
    }
    return out[first + i++];
  }
  void counter(const char* name, Counter& c) {
    entry(name, MergedStat::Type::Counter).counter += c.value();
  }
  void gauge(const char* name, Gauge& g) {
    entry(name, MergedStat::Type::Gauge).gauge += g.value();
  }
  void histogram(const char* name, Histogram& h) {
    MergedStat& s = entry(name, MergedStat::Type::Histogram);
    const size_t n = h.bounds().size() + 1;
    if (s.buckets.empty()) {
      s.bounds = &h.bounds();
      s.buckets.assign(n, 0);
    }
    for (size_t b = 0; b < n; ++b) s.buckets[b] += h.bucketCount(b);
    s.count += h.count();
    s.sum += h.sum();
  }
};

template <typename S>
void mergeCodes(const Scope<S>&, ScopeKind, std::vector<MergedStat>&) {}

template <typename S>
requires requires(S s) { s.upstream_rq_by_code; }
void mergeCodes(const Scope<S>& scope, ScopeKind kind, std::vector<MergedStat>& out) {
  for (int code = ResponseCodeCounters::kMin; code <= ResponseCodeCounters::kMax; ++code) {
    uint64_t total = 0;
    for (const auto& shard : scope.shards()) total += shard->upstream_rq_by_code.value(code);
    if (total == 0) continue;  // codes exist once seen, as in Envoy
    MergedStat& s = out.emplace_back();
    s.type = MergedStat::Type::Counter;
    s.kind = kind;
    s.scope = &scope.name();
    s.tags = &scope.tags();
    s.stat = "upstream_rq_" + std::to_string(code);
    s.counter = total;
  }
}

template <typename S>
void mergeSsl(const Scope<S>&, ScopeKind, std::vector<MergedStat>&) {}

// ssl.versions.<version> and ssl.ciphers.<cipher>: each shard has its own slot order,
// so the names are added up by name.
template <typename S>
requires requires(S s) { s.ssl.versions; }
void mergeSsl(const Scope<S>& scope, ScopeKind kind, std::vector<MergedStat>& out) {
  std::map<std::string, uint64_t> totals;
  for (const auto& shard : scope.shards()) {
    shard->ssl.versions.forEach([&](std::string_view name, uint64_t value) {
      totals["ssl.versions." + std::string(name)] += value;
    });
    shard->ssl.ciphers.forEach([&](std::string_view name, uint64_t value) {
      totals["ssl.ciphers." + std::string(name)] += value;
    });
  }
  for (auto& [stat, total] : totals) {
    MergedStat& s = out.emplace_back();
    s.type = MergedStat::Type::Counter;
    s.kind = kind;
    s.scope = &scope.name();
    s.tags = &scope.tags();
    s.stat = stat;
    s.counter = total;
  }
}
}  // namespace

namespace {
std::string fullNameOf(const MergedStat& s) {
  std::string out = kindPrefix(s.kind);
  if (!out.empty()) out += '.';
  if (!s.scope->empty()) {
    out += *s.scope;
    out += '.';
  }
  out += s.stat;
  return out;
}
}  // namespace

Store::Store(size_t workers, BucketSelector buckets)
    : shards_(workers + 1), buckets_(std::move(buckets)), http2_("", workers + 1) {
  HistogramInit init{"server.", buckets_};
  server().visit(init);
  HistogramInit log_init{"access_log.", buckets_};
  accessLog().visit(log_init);
}

template <typename S>
Scope<S>& Store::getOrCreate(std::map<std::string, std::unique_ptr<Scope<S>>>& scopes,
                             const std::string& name, const char* prefix, Tags tags) {
  auto& slot = scopes[name];
  if (!slot) {
    slot = std::make_unique<Scope<S>>(name, shards_, std::move(tags));
    const std::string full_prefix = std::string(prefix) + "." + name + ".";
    for (const auto& shard : slot->shards()) {
      HistogramInit init{full_prefix, buckets_};
      shard->visit(init);
    }
  }
  return *slot;
}

Scope<HttpConnManagerStats>& Store::httpScope(const std::string& stat_prefix) {
  return getOrCreate(http_, stat_prefix, "http", {{"envoy_http_conn_manager_prefix", stat_prefix}});
}
Scope<RbacStats>& Store::httpRbacScope(const std::string& stat_prefix,
                                       const std::string& rules_stat_prefix,
                                       const std::string& shadow_rules_stat_prefix) {
  Scope<HttpConnManagerStats>& http = httpScope(stat_prefix);
  return rbacScope(ScopeKind::Http, stat_prefix,
                   rbacStatNames(rules_stat_prefix, shadow_rules_stat_prefix), http.tags());
}
Scope<RbacStats>& Store::networkRbacScope(const std::string& stat_prefix,
                                          const std::string& shadow_rules_stat_prefix) {
  // "tcp_rbac" and "tcp_rbac." both root the names at "tcp_rbac.rbac.".
  const std::string owner(
      std::string_view(stat_prefix)
          .substr(0, stat_prefix.ends_with('.') ? stat_prefix.size() - 1 : stat_prefix.size()));
  return rbacScope(ScopeKind::NetworkRbac, owner, rbacStatNames("", shadow_rules_stat_prefix),
                   {{"envoy_rbac_prefix", owner}});
}
Scope<RbacStats>& Store::rbacScope(ScopeKind kind, const std::string& owner, RbacStatNames names,
                                   Tags tags) {
  for (const auto& existing : rbac_) {
    if (existing->kind == kind && existing->scope->name() == owner &&
        sameNames(existing->names, names)) {
      return *existing->scope;
    }
  }
  auto& entry = rbac_.emplace_back(std::make_unique<RbacScope>(
      RbacScope{kind, std::move(names),
                std::make_unique<Scope<RbacStats>>(owner, shards_, std::move(tags))}));
  for (const auto& shard : entry->scope->shards()) shard->names = &entry->names;
  return *entry->scope;
}
Scope<ClusterStats>& Store::clusterScope(const std::string& cluster) {
  return getOrCreate(clusters_, cluster, "cluster", {{"envoy_cluster_name", cluster}});
}
Scope<ListenerStats>& Store::listenerScope(const std::string& address) {
  return getOrCreate(listeners_, address, "listener", {{"envoy_listener_address", address}});
}
Scope<TcpProxyStats>& Store::tcpScope(const std::string& stat_prefix) {
  return getOrCreate(tcp_, stat_prefix, "tcp", {{"envoy_tcp_prefix", stat_prefix}});
}
Scope<RouteStats>& Store::routeScope(const std::string& virtual_host,
                                     const std::string& stat_prefix) {
  return getOrCreate(routes_, virtual_host + ".route." + stat_prefix, "vhost",
                     {{"envoy_virtual_host", virtual_host}, {"envoy_route", stat_prefix}});
}

namespace {
// Each of `stats` goes before the first of `out` whose full name sorts after it: their
// names start with a user's stat_prefix, so they have no kind block of their own.
void insertByFullName(std::vector<MergedStat> stats, std::vector<MergedStat>& out) {
  if (stats.empty()) return;
  std::sort(stats.begin(), stats.end(),
            [](const MergedStat& a, const MergedStat& b) { return a.full_name < b.full_name; });
  std::vector<MergedStat> merged;
  merged.reserve(out.size() + stats.size());
  auto next = stats.begin();
  for (MergedStat& s : out) {
    while (next != stats.end() && next->full_name < s.full_name) {
      merged.push_back(std::move(*next++));
    }
    merged.push_back(std::move(s));
  }
  while (next != stats.end()) merged.push_back(std::move(*next++));
  out = std::move(merged);
}

// Sorts the stats from `first` on: one scope's, as scopes already come in name order.
void sortByStat(std::vector<MergedStat>& out, size_t first) {
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
            [](const MergedStat& a, const MergedStat& b) { return a.stat < b.stat; });
}
}  // namespace

template <typename S>
void Store::mergeShards(const Scope<S>& scope, ScopeKind kind, std::vector<MergedStat>& out) const {
  const size_t first = out.size();
  bool create = true;
  for (const auto& shard : scope.shards()) {
    MergeVisitor v{out, first, create, kind, &scope.name(), &scope.tags()};
    shard->visit(v);
    create = false;
  }
  mergeCodes(scope, kind, out);
  mergeSsl(scope, kind, out);
}

void Store::mergeRbac(ScopeKind kind, const std::string& owner,
                      std::vector<MergedStat>& out) const {
  for (const auto& rbac : rbac_) {
    if (rbac->kind == kind && rbac->scope->name() == owner) mergeShards(*rbac->scope, kind, out);
  }
}

template <typename S>
void Store::merge(const Scope<S>& scope, ScopeKind kind, std::vector<MergedStat>& out) const {
  const size_t first = out.size();
  mergeShards(scope, kind, out);
  sortByStat(out, first);
}

std::vector<MergedStat> Store::snapshot() const {
  std::vector<MergedStat> out;
  // Kinds in the alphabetical order of their prefixes.
  merge(access_log_, ScopeKind::AccessLog, out);
  for (const auto& [name, scope] : clusters_) merge(*scope, ScopeKind::Cluster, out);
  for (const auto& [name, scope] : http_) {
    const size_t first = out.size();
    mergeShards(*scope, ScopeKind::Http, out);
    mergeRbac(ScopeKind::Http, name, out);
    sortByStat(out, first);
  }
  merge(http2_, ScopeKind::Http2, out);
  for (const auto& [name, scope] : listeners_) merge(*scope, ScopeKind::Listener, out);
  merge(server_, ScopeKind::Server, out);
  for (const auto& [name, scope] : tcp_) merge(*scope, ScopeKind::TcpProxy, out);
  for (const auto& [name, scope] : routes_) merge(*scope, ScopeKind::Route, out);
  std::vector<MergedStat> network_rbac;
  for (const auto& rbac : rbac_) {
    if (rbac->kind == ScopeKind::NetworkRbac) mergeShards(*rbac->scope, rbac->kind, network_rbac);
  }
  for (MergedStat& s : out) s.full_name = fullNameOf(s);
  for (MergedStat& s : network_rbac) s.full_name = fullNameOf(s);
  insertByFullName(std::move(network_rbac), out);
  for (MergedStat& s : out) {
    applyBaseline(s);
    s.used = s.type == MergedStat::Type::Counter ? s.counter > 0
             : s.type == MergedStat::Type::Gauge ? s.gauge != 0
                                                 : s.count > 0;
  }
  return out;
}

void Store::applyBaseline(MergedStat& s) const {
  if (baseline_.empty() || s.type == MergedStat::Type::Gauge) return;
  auto it = baseline_.find(s.full_name);
  if (it == baseline_.end()) return;
  const Baseline& b = it->second;
  s.counter -= std::min(s.counter, b.counter);
  for (size_t i = 0; i < s.buckets.size() && i < b.buckets.size(); ++i) {
    s.buckets[i] -= std::min(s.buckets[i], b.buckets[i]);
  }
  s.count -= std::min(s.count, b.count);
  s.sum -= b.sum;
}

void Store::resetCounters() {
  std::map<std::string, Baseline> fresh;
  baseline_.clear();
  for (const MergedStat& s : snapshot()) {
    if (s.type == MergedStat::Type::Gauge) continue;
    fresh[s.full_name] = Baseline{s.counter, s.buckets, s.count, s.sum};
  }
  baseline_ = std::move(fresh);
}

}  // namespace remora::stats
