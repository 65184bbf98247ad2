// Every stat Remora records, declared once per scope as a list. Each list expands
// into a struct of named handles (the hot path writes `stats.upstream_rq_total.inc()`)
// and into a visitor that gives the admin side each stat's Envoy name.
#pragma once

#include <string>
#include <string_view>

#include "telemetry/stats/stat_types.h"

namespace remora::stats {

// http.<stat_prefix>.*  (Prometheus tag envoy_http_conn_manager_prefix)
#define REMORA_HTTP_CONN_MANAGER_STATS(COUNTER, GAUGE, HISTOGRAM) \
  COUNTER(downstream_cx_total)                                    \
  COUNTER(downstream_cx_destroy)                                  \
  COUNTER(downstream_cx_destroy_local)                            \
  COUNTER(downstream_cx_destroy_remote)                           \
  COUNTER(downstream_cx_protocol_error)                           \
  COUNTER(downstream_cx_idle_timeout)                             \
  COUNTER(downstream_cx_drain_close)                              \
  COUNTER(downstream_cx_http1_total)                              \
  COUNTER(downstream_cx_http2_total)                              \
  COUNTER(downstream_cx_rx_bytes_total)                           \
  COUNTER(downstream_cx_tx_bytes_total)                           \
  COUNTER(downstream_rq_total)                                    \
  COUNTER(downstream_rq_http1_total)                              \
  COUNTER(downstream_rq_http2_total)                              \
  COUNTER(downstream_rq_completed)                                \
  COUNTER(downstream_rq_1xx)                                      \
  COUNTER(downstream_rq_2xx)                                      \
  COUNTER(downstream_rq_3xx)                                      \
  COUNTER(downstream_rq_4xx)                                      \
  COUNTER(downstream_rq_5xx)                                      \
  COUNTER(downstream_rq_timeout)                                  \
  COUNTER(downstream_rq_idle_timeout)                             \
  COUNTER(downstream_rq_header_timeout)                           \
  COUNTER(downstream_rq_rx_reset)                                 \
  COUNTER(downstream_rq_tx_reset)                                 \
  COUNTER(downstream_rq_too_large)                                \
  COUNTER(downstream_rq_ws_on_non_ws_route)                       \
  COUNTER(no_route)                                               \
  COUNTER(no_cluster)                                             \
  GAUGE(downstream_cx_active)                                     \
  GAUGE(downstream_cx_http1_active)                               \
  GAUGE(downstream_cx_http2_active)                               \
  GAUGE(downstream_rq_active)                                     \
  HISTOGRAM(downstream_cx_length_ms)                              \
  HISTOGRAM(downstream_rq_time)

// cluster.<name>.*  (envoy_cluster_name)
#define REMORA_CLUSTER_STATS(COUNTER, GAUGE, HISTOGRAM) \
  COUNTER(upstream_cx_total)                            \
  COUNTER(upstream_cx_http1_total)                      \
  COUNTER(upstream_cx_http2_total)                      \
  COUNTER(upstream_cx_connect_fail)                     \
  COUNTER(upstream_cx_connect_timeout)                  \
  COUNTER(upstream_cx_destroy)                          \
  COUNTER(upstream_cx_destroy_local)                    \
  COUNTER(upstream_cx_destroy_remote)                   \
  COUNTER(upstream_cx_destroy_with_active_rq)           \
  COUNTER(upstream_cx_idle_timeout)                     \
  COUNTER(upstream_cx_rx_bytes_total)                   \
  COUNTER(upstream_cx_tx_bytes_total)                   \
  COUNTER(upstream_rq_total)                            \
  COUNTER(upstream_rq_completed)                        \
  COUNTER(upstream_rq_1xx)                              \
  COUNTER(upstream_rq_2xx)                              \
  COUNTER(upstream_rq_3xx)                              \
  COUNTER(upstream_rq_4xx)                              \
  COUNTER(upstream_rq_5xx)                              \
  COUNTER(upstream_rq_timeout)                          \
  COUNTER(upstream_rq_per_try_timeout)                  \
  COUNTER(upstream_rq_pending_total)                    \
  COUNTER(upstream_rq_pending_failure_eject)            \
  COUNTER(upstream_rq_rx_reset)                         \
  COUNTER(upstream_rq_tx_reset)                         \
  COUNTER(upstream_rq_cancelled)                        \
  COUNTER(upstream_cx_none_healthy)                     \
  COUNTER(update_attempt)                               \
  COUNTER(update_success)                               \
  COUNTER(update_failure)                               \
  COUNTER(update_no_rebuild)                            \
  GAUGE(upstream_cx_active)                             \
  GAUGE(upstream_rq_active)                             \
  GAUGE(upstream_rq_pending_active)                     \
  GAUGE(membership_healthy)                             \
  GAUGE(membership_total)                               \
  HISTOGRAM(upstream_cx_connect_ms)                     \
  HISTOGRAM(upstream_cx_length_ms)                      \
  HISTOGRAM(upstream_rq_time)

// listener.<address>_<port>.*  (envoy_listener_address)
#define REMORA_LISTENER_STATS(COUNTER, GAUGE, HISTOGRAM) \
  COUNTER(downstream_cx_total)                           \
  COUNTER(downstream_cx_destroy)                         \
  COUNTER(no_filter_chain_match)                         \
  GAUGE(downstream_cx_active)                            \
  HISTOGRAM(downstream_cx_length_ms)

// tcp.<stat_prefix>.*  (envoy_tcp_prefix)
#define REMORA_TCP_PROXY_STATS(COUNTER, GAUGE, HISTOGRAM) \
  COUNTER(downstream_cx_total)                            \
  COUNTER(downstream_cx_no_route)                         \
  COUNTER(downstream_cx_rx_bytes_total)                   \
  COUNTER(downstream_cx_tx_bytes_total)                   \
  COUNTER(idle_timeout)                                   \
  COUNTER(upstream_flush_total)                           \
  GAUGE(downstream_cx_rx_bytes_buffered)                  \
  GAUGE(downstream_cx_tx_bytes_buffered)                  \
  GAUGE(upstream_flush_active)

// server.*  (tls_context_reloads is Remora's own: TLS contexts rebuilt after their
// certificate files changed on disk)
#define REMORA_SERVER_STATS(COUNTER, GAUGE, HISTOGRAM) \
  COUNTER(envoy_bug_failures)                          \
  GAUGE(live)                                          \
  GAUGE(state)                                         \
  GAUGE(uptime)                                        \
  GAUGE(concurrency)                                   \
  GAUGE(memory_allocated)                              \
  GAUGE(memory_heap_size)                              \
  GAUGE(memory_physical_size)                          \
  GAUGE(total_connections)                             \
  GAUGE(version)                                       \
  GAUGE(days_until_first_cert_expiring)                \
  COUNTER(tls_context_reloads)

// vhost.<virtual host>.route.<stat_prefix>.*  (envoy_virtual_host, envoy_route):
// only for routes that set stat_prefix, so cardinality stays opt-in.
#define REMORA_ROUTE_STATS(COUNTER, GAUGE, HISTOGRAM) \
  COUNTER(upstream_rq_total)                          \
  COUNTER(upstream_rq_completed)                      \
  COUNTER(upstream_rq_timeout)                        \
  COUNTER(upstream_rq_1xx)                            \
  COUNTER(upstream_rq_2xx)                            \
  COUNTER(upstream_rq_3xx)                            \
  COUNTER(upstream_rq_4xx)                            \
  COUNTER(upstream_rq_5xx)                            \
  HISTOGRAM(upstream_rq_time)

// access_log.*
#define REMORA_ACCESS_LOG_STATS(COUNTER, GAUGE, HISTOGRAM) COUNTER(dropped)

// The RBAC filters' verdicts (Envoy's names), registered only where an RBAC filter runs:
//   envoy.filters.http.rbac:    http.<stat_prefix>.rbac.[<rules_stat_prefix>.]allowed,
//                               ...rbac.[<shadow_rules_stat_prefix>.]shadow_allowed, ...
//   envoy.filters.network.rbac: <its stat_prefix>.rbac.allowed, ...
// A field name cannot hold the dots, so each shard carries its scope's names.
#define REMORA_RBAC_STATS(COUNTER) \
  COUNTER(allowed)                 \
  COUNTER(denied)                  \
  COUNTER(shadow_allowed)          \
  COUNTER(shadow_denied)

#define REMORA_STAT_FIELD_COUNTER(name) Counter name;
#define REMORA_STAT_FIELD_GAUGE(name) Gauge name;
#define REMORA_STAT_FIELD_HISTOGRAM(name) Histogram name;
#define REMORA_STAT_VISIT_COUNTER(name) v.counter(#name, name);
#define REMORA_STAT_VISIT_GAUGE(name) v.gauge(#name, name);
#define REMORA_STAT_VISIT_HISTOGRAM(name) v.histogram(#name, name);

#define REMORA_DEFINE_STATS_STRUCT(Type, LIST)                                              \
  struct Type {                                                                             \
    LIST(REMORA_STAT_FIELD_COUNTER, REMORA_STAT_FIELD_GAUGE, REMORA_STAT_FIELD_HISTOGRAM)   \
    template <typename V>                                                                   \
    void visit(V& v) {                                                                      \
      LIST(REMORA_STAT_VISIT_COUNTER, REMORA_STAT_VISIT_GAUGE, REMORA_STAT_VISIT_HISTOGRAM) \
    }                                                                                       \
  };

REMORA_DEFINE_STATS_STRUCT(HttpConnManagerStatsBase, REMORA_HTTP_CONN_MANAGER_STATS)
REMORA_DEFINE_STATS_STRUCT(ClusterStatsBase, REMORA_CLUSTER_STATS)
REMORA_DEFINE_STATS_STRUCT(ListenerStatsBase, REMORA_LISTENER_STATS)
REMORA_DEFINE_STATS_STRUCT(TcpProxyStats, REMORA_TCP_PROXY_STATS)
REMORA_DEFINE_STATS_STRUCT(ServerStats, REMORA_SERVER_STATS)
REMORA_DEFINE_STATS_STRUCT(AccessLogStats, REMORA_ACCESS_LOG_STATS)
REMORA_DEFINE_STATS_STRUCT(RouteStatsBase, REMORA_ROUTE_STATS)

// HTTP/2 codec events: http2.* for downstream connections (at the root, as Envoy
// names them) and cluster.<name>.http2.* for upstream ones.
#define REMORA_HTTP2_STATS(COUNTER) \
  COUNTER(outbound_flood)           \
  COUNTER(outbound_control_flood)   \
  COUNTER(tx_flush_timeout)

struct Http2Stats {
  REMORA_HTTP2_STATS(REMORA_STAT_FIELD_COUNTER)
  template <typename V>
  void visit(V& v) {
    REMORA_HTTP2_STATS(REMORA_STAT_VISIT_COUNTER)
  }
};

// Each stat's name within its scope ("rbac.allowed", "rbac.canary.shadow_denied").
struct RbacStatNames {
#define REMORA_STAT_NAME_FIELD(name) std::string name;
  REMORA_RBAC_STATS(REMORA_STAT_NAME_FIELD)
#undef REMORA_STAT_NAME_FIELD
};

#define REMORA_STAT_VISIT_RBAC_COUNTER(name) v.counter(names->name.c_str(), name);
struct RbacStats {
  REMORA_RBAC_STATS(REMORA_STAT_FIELD_COUNTER)
  const RbacStatNames* names = nullptr;  // set by the store before any visit
  template <typename V>
  void visit(V& v) {
    REMORA_RBAC_STATS(REMORA_STAT_VISIT_RBAC_COUNTER)
  }
};

// <scope>.ssl.*: TLS handshakes and failures of a listener or cluster (Envoy's names).
#define REMORA_SSL_STATS(COUNTER) \
  COUNTER(handshake)              \
  COUNTER(connection_error)       \
  COUNTER(no_certificate)         \
  COUNTER(fail_verify_no_cert)    \
  COUNTER(fail_verify_error)      \
  COUNTER(fail_verify_san)

#define REMORA_STAT_VISIT_SSL_COUNTER(name) v.counter("ssl." #name, name);
struct SslStats {
  REMORA_SSL_STATS(REMORA_STAT_FIELD_COUNTER)
  // ssl.versions.<TLSv1.2|TLSv1.3> and ssl.ciphers.<OpenSSL name>: named at handshake
  // time, so the store lists the names seen (Store::snapshot), not visit(). OpenSSL
  // 3 offers about 30 suites by default; a rarer one is counted as "other".
  NamedCounters<4> versions;
  NamedCounters<32> ciphers;
  void recordNegotiated(std::string_view version, std::string_view cipher) {
    versions.inc(version);
    ciphers.inc(cipher);
  }
  template <typename V>
  void visit(V& v) {
    REMORA_SSL_STATS(REMORA_STAT_VISIT_SSL_COUNTER)
  }
};

// The response-class counters picked by status code.
template <typename S>
Counter& responseClassCounter(S& s, int status, Counter S::*c1, Counter S::*c2, Counter S::*c3,
                              Counter S::*c4, Counter S::*c5) {
  switch (status / 100) {
    case 1:
      return s.*c1;
    case 2:
      return s.*c2;
    case 3:
      return s.*c3;
    case 4:
      return s.*c4;
    default:
      return s.*c5;
  }
}

struct HttpConnManagerStats : HttpConnManagerStatsBase {
  Counter& downstreamResponseClass(int status) {
    return responseClassCounter<HttpConnManagerStatsBase>(
        *this, status, &HttpConnManagerStatsBase::downstream_rq_1xx,
        &HttpConnManagerStatsBase::downstream_rq_2xx, &HttpConnManagerStatsBase::downstream_rq_3xx,
        &HttpConnManagerStatsBase::downstream_rq_4xx, &HttpConnManagerStatsBase::downstream_rq_5xx);
  }
};

#define REMORA_STAT_VISIT_HTTP2_COUNTER(name) v.counter("http2." #name, http2.name);
struct ClusterStats : ClusterStatsBase {
  ResponseCodeCounters upstream_rq_by_code;  // upstream_rq_<code>
  SslStats ssl;
  Http2Stats http2;
  template <typename V>
  void visit(V& v) {
    ClusterStatsBase::visit(v);
    ssl.visit(v);
    REMORA_HTTP2_STATS(REMORA_STAT_VISIT_HTTP2_COUNTER)
  }
  Counter& upstreamResponseClass(int status) {
    return responseClassCounter<ClusterStatsBase>(
        *this, status, &ClusterStatsBase::upstream_rq_1xx, &ClusterStatsBase::upstream_rq_2xx,
        &ClusterStatsBase::upstream_rq_3xx, &ClusterStatsBase::upstream_rq_4xx,
        &ClusterStatsBase::upstream_rq_5xx);
  }
};

struct RouteStats : RouteStatsBase {
  ResponseCodeCounters upstream_rq_by_code;  // upstream_rq_<code>
  Counter& upstreamResponseClass(int status) {
    return responseClassCounter<RouteStatsBase>(
        *this, status, &RouteStatsBase::upstream_rq_1xx, &RouteStatsBase::upstream_rq_2xx,
        &RouteStatsBase::upstream_rq_3xx, &RouteStatsBase::upstream_rq_4xx,
        &RouteStatsBase::upstream_rq_5xx);
  }
};

struct ListenerStats : ListenerStatsBase {
  SslStats ssl;
  template <typename V>
  void visit(V& v) {
    ListenerStatsBase::visit(v);
    ssl.visit(v);
  }
};

}  // namespace remora::stats
