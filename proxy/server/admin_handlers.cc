// The admin endpoint's handlers (Envoy's paths and formats). They run on the main
// thread and only read what workers write (stats shards, atomics), so an admin
// request never blocks or slows a worker.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <limits>

#include "proxy/common/json.h"
#include "proxy/common/logger.h"
#include "proxy/server/server.h"
#include "proxy/server/version.h"
#include "telemetry/stats/stats_render.h"

namespace remora::server {

namespace {
constexpr const char* kText = "text/plain; charset=UTF-8";
constexpr const char* kJson = "application/json";

std::string quoted(std::string_view s) { return jsonQuoted(s); }

// Query parameters of an admin request ("a=1&b"), percent-decoding '+' and %XX.
std::map<std::string, std::string> queryParams(std::string_view query) {
  auto decode = [](std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        out += ' ';
      } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(s[i + 1]) &&
                 std::isxdigit(s[i + 2])) {
        out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  };
  std::map<std::string, std::string> params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    const size_t eq = item.find('=');
    params[decode(item.substr(0, eq))] =
        eq == std::string_view::npos ? "" : decode(item.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return params;
}

// The loaded document as JSON, with secrets replaced (Envoy redacts private keys).
void yamlToJson(const YAML::Node& node, std::string& out) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      out += '{';
      bool first = true;
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!first) out += ',';
        first = false;
        const std::string key = it->first.as<std::string>();
        out += quoted(key) + ':';
        if (key == "private_key" || key == "password" || key == "secret") {
          out += "\"[redacted]\"";
        } else {
          yamlToJson(it->second, out);
        }
      }
      out += '}';
      return;
    }
    case YAML::NodeType::Sequence: {
      out += '[';
      for (size_t i = 0; i < node.size(); ++i) {
        if (i) out += ',';
        yamlToJson(node[i], out);
      }
      out += ']';
      return;
    }
    case YAML::NodeType::Scalar: {
      const std::string& v = node.Scalar();
      // Plain (unquoted) scalars that are numbers or booleans stay unquoted.
      const bool plain = node.Tag() != "!";
      char* end = nullptr;
      if (plain && (v == "true" || v == "false")) {
        out += v;
      } else if (plain && !v.empty() && (std::strtod(v.c_str(), &end), *end == '\0')) {
        out += v;
      } else {
        out += quoted(v);
      }
      return;
    }
    default:
      out += "null";
  }
}

uint64_t residentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// One admin.v3.CertificateDetails. SANs are listed by type (DNS, URI, IP), not in
// certificate order; days_until_expiration is a uint64, which proto3 JSON quotes.
std::string certificateJson(const network::tls::CertificateDetails& cert) {
  std::string sans;
  auto addSans = [&](const char* type, const std::vector<std::string>& names) {
    for (const std::string& name : names) {
      if (!sans.empty()) sans += ',';
      sans += std::string("{\"") + type + "\":" + quoted(name) + "}";
    }
  };
  addSans("dns", cert.dns_sans);
  addSans("uri", cert.uri_sans);
  addSans("ip_address", cert.ip_sans);
  return "{\"path\":" + quoted(cert.path) + ",\"serial_number\":" + quoted(cert.serial_number) +
         ",\"subject_alt_names\":[" + sans + "],\"days_until_expiration\":\"" +
         std::to_string(cert.days_until_expiration) +
         "\",\"valid_from\":" + quoted(cert.valid_from) +
         ",\"expiration_time\":" + quoted(cert.expiration_time) + "}";
}

std::string certificateListJson(const std::vector<network::tls::CertificateDetails>& certs) {
  std::string out = "[";
  for (size_t i = 0; i < certs.size(); ++i) {
    if (i) out += ',';
    out += certificateJson(certs[i]);
  }
  return out + "]";
}

const char* levelName(log::Level l) {
  switch (l) {
    case log::Level::Trace:
      return "trace";
    case log::Level::Debug:
      return "debug";
    case log::Level::Info:
      return "info";
    case log::Level::Warn:
      return "warning";
    case log::Level::Error:
      return "error";
    case log::Level::Critical:
      return "critical";
    case log::Level::Off:
      return "off";
  }
  return "info";
}
}  // namespace

AdminResponse Server::handleAdmin(const http::RequestHead& request) {
  const std::string path(request.pathWithoutQuery());
  const bool post = request.method == "POST";
  auto requirePost = [&]() -> std::optional<AdminResponse> {
    if (post) return std::nullopt;
    return AdminResponse{405, kText, "This endpoint requires POST.\n"};
  };
  auto mutating = [&](auto action) -> AdminResponse {
    if (auto refusal = requirePost()) return *refusal;
    action();
    return {200, kText, "OK\n"};
  };

  if (path == "/ready") {
    const bool live = lifecycle_ == State::Live;
    return {live ? 200 : 503, kText, stateName() + "\n"};
  }
  if (path == "/stats") return adminStats(request, false);
  if (path == "/stats/prometheus") return adminStats(request, true);
  if (path == "/clusters") return adminClusters(request);
  if (path == "/listeners") return adminListeners(request);
  if (path == "/certs") return adminCerts();
  if (path == "/server_info") return adminServerInfo();
  if (path == "/config_dump") return adminConfigDump();
  if (path == "/runtime") return adminRuntime();
  if (path == "/memory") return adminMemory();
  if (path == "/runtime_modify") {
    if (auto refusal = requirePost()) return *refusal;
    return adminRuntimeModify(request);
  }
  if (path == "/logging") return adminLogging(request);
  if (path == "/drain_listeners") {
    if (auto refusal = requirePost()) return *refusal;
    return adminDrainListeners(request);
  }
  if (path == "/healthcheck/fail") return mutating([&] { state_.health_check_failed.store(true); });
  if (path == "/healthcheck/ok") return mutating([&] { state_.health_check_failed.store(false); });
  if (path == "/reset_counters") return mutating([&] { config_.store->resetCounters(); });
  if (path == "/reopen_logs") return mutating([&] { config_.access_logs->reopen(); });
  if (path == "/quitquitquit") {
    return mutating([&] {
      // Answer first: the shutdown runs on the next loop turn.
      quit_timer_ = std::make_unique<Timer>(&loop_, [this] { shutdown(); });
      quit_timer_->fireSoon();
    });
  }

  static const std::string help =
      "admin commands are:\n"
      "  /: print this help\n"
      "  /clusters: upstream cluster status (?format=json)\n"
      "  /certs: print certificate info\n"
      "  /config_dump: dump current Envoy configs\n"
      "  /drain_listeners (POST): drain listeners (?graceful, ?inboundonly)\n"
      "  /healthcheck/fail (POST): cause the server to fail health checks\n"
      "  /healthcheck/ok (POST): cause the server to pass health checks\n"
      "  /help: print this help\n"
      "  /listeners: print listener info (?format=json)\n"
      "  /logging: query/change logging levels (POST ?level=)\n"
      "  /memory: print current allocation/heap usage\n"
      "  /quitquitquit (POST): exit the server\n"
      "  /ready: print server state, return 200 if LIVE, otherwise return 503\n"
      "  /reopen_logs (POST): reopen access log files (as SIGUSR1 does)\n"
      "  /reset_counters (POST): reset all counters to zero\n"
      "  /runtime: print runtime values\n"
      "  /runtime_modify (POST): modify runtime values (?key=value)\n"
      "  /server_info: print server version/status information\n"
      "  /stats: print server stats (?filter=, ?usedonly, ?format=json)\n"
      "  /stats/prometheus: print server stats in prometheus format (?filter=, ?usedonly)\n";
  if (path == "/" || path == "/help") return {200, kText, help};
  return {404, kText, "invalid path. " + help};
}

void Server::refreshServerStats() {
  stats::ServerStats& s = config_.store->server();
  const bool live = lifecycle_ == State::Live;
  s.live.set(live ? 1 : 0);
  // Envoy's server.state: 0 LIVE, 1 DRAINING, 2 PRE_INITIALIZING, 3 INITIALIZING.
  s.state.set(lifecycle_ == State::Live ? 0 : lifecycle_ == State::Draining ? 1 : 3);
  s.uptime.set(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                start_time_)
                   .count());
  s.concurrency.set(options_.concurrency);
  const struct mallinfo2 mi = mallinfo2();
  s.memory_allocated.set(static_cast<int64_t>(mi.uordblks + mi.hblkhd));
  s.memory_heap_size.set(static_cast<int64_t>(mi.arena + mi.hblkhd));
  s.memory_physical_size.set(static_cast<int64_t>(residentBytes()));
  int64_t connections = 0;
  for (const auto& w : workers_) connections += static_cast<int64_t>(w->activeConnections());
  s.total_connections.set(connections);
  s.version.set(kVersionNumber);
  s.days_until_first_cert_expiring.set(daysUntilFirstCertExpiring());
  stats::Counter& dropped = config_.store->accessLog().dropped;
  const uint64_t total_dropped = config_.access_logs->droppedLines();
  if (total_dropped > dropped.value()) dropped.inc(total_dropped - dropped.value());
}

AdminResponse Server::adminStats(const http::RequestHead& request, bool prometheus) {
  const auto params = queryParams(request.query());
  stats::StatsQuery query;
  query.used_only = params.count("usedonly") > 0;
  if (auto it = params.find("filter"); it != params.end() && !it->second.empty()) {
    query.filter = std::make_unique<RE2>(it->second);
    if (!query.filter->ok()) {
      return {400, kText, "Invalid re2 regex: " + query.filter->error() + "\n"};
    }
  }
  refreshServerStats();
  if (prometheus) {
    return {200, "text/plain; version=0.0.4; charset=UTF-8",
            stats::renderPrometheus(*config_.store, query)};
  }
  const auto snapshot = config_.store->snapshot();
  if (auto it = params.find("format"); it != params.end() && it->second == "json") {
    return {200, kJson, stats::renderJson(snapshot, query)};
  }
  return {200, kText, stats::renderText(snapshot, query)};
}

AdminResponse Server::adminClusters(const http::RequestHead& request) {
  const bool json = queryParams(request.query())["format"] == "json";
  std::string body = json ? "{\"cluster_statuses\":[" : "";
  bool first_cluster = true;
  for (const auto& [name, set] : host_sets_) {
    if (json) {
      if (!first_cluster) body += ',';
      body += "{\"name\":" + quoted(name) + ",\"added_via_api\":false,\"host_statuses\":[";
    }
    first_cluster = false;
    bool first_host = true;
    for (const auto& host : set->hosts) {
      uint64_t cx_total = 0, cx_connect_fail = 0, rq_total = 0, rq_success = 0, rq_error = 0,
               rq_timeout = 0;
      int64_t cx_active = 0, rq_active = 0;
      const size_t threads = config_.store->mainThreadShard() + 1;
      for (size_t i = 0; i < threads; ++i) {
        const upstream::HostStats& h = host->stats[i];
        cx_total += h.cx_total.value();
        cx_connect_fail += h.cx_connect_fail.value();
        rq_total += h.rq_total.value();
        rq_success += h.rq_success.value();
        rq_error += h.rq_error.value();
        rq_timeout += h.rq_timeout.value();
        cx_active += h.cx_active.value();
        rq_active += h.rq_active.value();
      }
      const std::pair<const char*, uint64_t> counters[] = {
          {"cx_connect_fail", cx_connect_fail}, {"cx_total", cx_total},     {"rq_error", rq_error},
          {"rq_success", rq_success},           {"rq_timeout", rq_timeout}, {"rq_total", rq_total}};
      const std::pair<const char*, int64_t> gauges[] = {{"cx_active", cx_active},
                                                        {"rq_active", rq_active}};
      if (json) {
        if (!first_host) body += ',';
        const size_t colon = host->address.rfind(':');
        std::string ip = host->address.substr(0, colon);
        if (!ip.empty() && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
        body += "{\"address\":{\"socket_address\":{\"address\":" + quoted(ip) +
                ",\"port_value\":" + host->address.substr(colon + 1) + "}},\"stats\":[";
        bool first_stat = true;
        for (const auto& [stat, value] : counters) {
          body += std::string(first_stat ? "" : ",") + "{\"name\":\"" + stat + "\",\"value\":\"" +
                  std::to_string(value) + "\"}";
          first_stat = false;
        }
        for (const auto& [stat, value] : gauges) {
          body += ",{\"type\":\"GAUGE\",\"name\":\"" + std::string(stat) + "\",\"value\":\"" +
                  std::to_string(value) + "\"}";
        }
        body += "],\"health_status\":{\"eds_health_status\":\"HEALTHY\"},\"weight\":" +
                std::to_string(host->weight) + ",\"hostname\":" + quoted(host->hostname) + "}";
      } else {
        const std::string prefix = name + "::" + host->address + "::";
        for (const auto& [stat, value] : gauges)
          body += prefix + stat + "::" + std::to_string(value) + "\n";
        for (const auto& [stat, value] : counters)
          body += prefix + stat + "::" + std::to_string(value) + "\n";
        body += prefix + "hostname::" + host->hostname + "\n";
        body += prefix + "health_flags::healthy\n";
        body += prefix + "weight::" + std::to_string(host->weight) + "\n";
      }
      first_host = false;
    }
    if (json) body += "]}";
  }
  if (json) body += "]}\n";
  return {200, json ? kJson : kText, body};
}

AdminResponse Server::adminListeners(const http::RequestHead& request) {
  const bool json = queryParams(request.query())["format"] == "json";
  std::string body = json ? "{\"listener_statuses\":[" : "";
  for (size_t i = 0; i < bound_.size(); ++i) {
    const auto& b = bound_[i];
    const std::string& ip = b.config->config.address.address;
    if (json) {
      if (i) body += ",";
      body += "{\"name\":" + quoted(b.config->config.name) +
              ",\"local_address\":{\"socket_address\":{\"address\":" + quoted(ip) +
              ",\"port_value\":" + std::to_string(b.port) + "}}}";
    } else {
      body += b.config->config.name + "::" + ip + ":" + std::to_string(b.port) + "\n";
    }
  }
  if (json) body += "]}\n";
  return {200, json ? kJson : kText, body};
}

AdminResponse Server::adminCerts() {
  const std::time_t now = std::time(nullptr);
  std::string body = "{\"certificates\":[";
  bool first = true;
  for (const auto& context : tls_reloader_->currentContexts()) {
    if (!first) body += ',';
    first = false;
    body += "{\"ca_cert\":" + certificateListJson(context->caCertificateDetails(now)) +
            ",\"cert_chain\":" + certificateListJson(context->certificateDetails(now)) + "}";
  }
  body += "]}\n";
  return {200, kJson, body};
}

int64_t Server::daysUntilFirstCertExpiring() const {
  // Envoy reports the largest uint32 when no certificate is loaded.
  uint32_t days = std::numeric_limits<uint32_t>::max();
  const std::time_t now = std::time(nullptr);
  for (const auto& context : tls_reloader_->currentContexts()) {
    for (const auto& cert : context->certificateDetails(now)) {
      days = std::min(days, cert.days_until_expiration);
    }
    for (const auto& cert : context->caCertificateDetails(now)) {
      days = std::min(days, cert.days_until_expiration);
    }
  }
  return days;
}

AdminResponse Server::adminServerInfo() {
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now() - start_time_)
                          .count();
  const config::Bootstrap& b = config_.bootstrap;
  std::string body =
      "{\"version\":" + quoted(std::string(kVersion) + "/RELEASE") +
      ",\"state\":" + quoted(stateName()) +
      ",\"hot_restart_version\":\"disabled\",\"command_line_options\":{" +
      "\"concurrency\":" + std::to_string(options_.concurrency) +
      ",\"config_path\":" + quoted(options_.config_path) +
      ",\"config_yaml\":" + quoted(options_.config_yaml) +
      ",\"log_level\":" + quoted(levelName(options_.log_level)) + ",\"drain_time\":\"" +
      std::to_string(options_.drain_time_s) + "s\"" +
      ",\"mode\":" + quoted(options_.mode == Options::Mode::Serve ? "Serve" : "Validate") +
      "},\"node\":{\"id\":" + quoted(b.node_id) + ",\"cluster\":" + quoted(b.node_cluster) +
      "},\"uptime_current_epoch\":\"" + std::to_string(uptime) + "s\",\"uptime_all_epochs\":\"" +
      std::to_string(uptime) + "s\"}\n";
  return {200, kJson, body};
}

AdminResponse Server::adminConfigDump() {
  std::string bootstrap;
  yamlToJson(config_.bootstrap.root.yaml(), bootstrap);
  return {200, kJson,
          "{\"configs\":[{\"@type\":\"type.googleapis.com/envoy.admin.v3.BootstrapConfigDump\","
          "\"bootstrap\":" +
              bootstrap + "}]}\n"};
}

AdminResponse Server::adminRuntime() {
  std::map<std::string, std::pair<std::string, std::string>> entries;  // static, admin
  for (const auto& [k, v] : runtime_static_) entries[k].first = v;
  for (const auto& [k, v] : runtime_admin_) entries[k].second = v;
  std::string body = "{\"layers\":[\"static_layer\",\"admin\"],\"entries\":{";
  bool first = true;
  for (const auto& [key, values] : entries) {
    if (!first) body += ',';
    first = false;
    const std::string& final_value = values.second.empty() ? values.first : values.second;
    body += quoted(key) + ":{\"layer_values\":[" + quoted(values.first) + "," +
            quoted(values.second) + "],\"final_value\":" + quoted(final_value) + "}";
  }
  body += "}}\n";
  return {200, kJson, body};
}

AdminResponse Server::adminRuntimeModify(const http::RequestHead& request) {
  const bool admin_layer =
      config_.bootstrap.runtime.has_admin_layer || !config_.bootstrap.root.has("layered_runtime");
  if (!admin_layer) return {503, kText, "No admin layer specified\n"};
  const auto params = queryParams(request.query());
  if (params.empty()) return {400, kText, "usage: /runtime_modify?key1=value1&key2=value2\n"};
  for (const auto& [key, value] : params) {
    if (value.empty()) {
      runtime_admin_.erase(key);
    } else {
      runtime_admin_[key] = value;
    }
  }
  return {200, kText, "OK\n"};
}

AdminResponse Server::adminMemory() {
  const struct mallinfo2 mi = mallinfo2();
  const std::string body =
      "{\"allocated\":\"" + std::to_string(mi.uordblks + mi.hblkhd) + "\",\"heap_size\":\"" +
      std::to_string(mi.arena + mi.hblkhd) + "\",\"pageheap_unmapped\":\"0\",\"pageheap_free\":\"" +
      std::to_string(mi.fordblks) + "\",\"total_thread_cache\":\"0\",\"total_physical_bytes\":\"" +
      std::to_string(residentBytes()) + "\"}\n";
  return {200, kJson, body};
}

AdminResponse Server::adminLogging(const http::RequestHead& request) {
  const auto params = queryParams(request.query());
  if (!params.empty()) {
    if (request.method != "POST") return {405, kText, "This endpoint requires POST.\n"};
    const auto it = params.find("level");
    const auto level = it == params.end() ? std::nullopt : log::parseLevel(it->second);
    if (!level)
      return {400, kText, "usage: /logging?level=<trace|debug|info|warning|error|critical|off>\n"};
    options_.log_level = *level;
    log::setLevel(*level);
  }
  return {200, kText,
          std::string("active loggers:\n  remora: ") + levelName(options_.log_level) + "\n"};
}

AdminResponse Server::adminDrainListeners(const http::RequestHead& request) {
  const auto params = queryParams(request.query());
  const bool graceful = params.count("graceful") > 0;
  const bool inbound_only = params.count("inboundonly") > 0;
  for (auto& w : workers_) w->drain(graceful, inbound_only);
  return {200, kText, "OK\n"};
}

}  // namespace remora::server
