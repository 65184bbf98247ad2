// The main thread: loads and validates the config, binds listeners, starts the
// workers, runs the admin endpoint, DNS refresh and signals, and drains on
// SIGTERM/SIGINT.
#pragma once

#include <uv.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/bootstrap.h"
#include "proxy/common/timer.h"
#include "proxy/common/worker_resources.h"
#include "proxy/server/admin_server.h"
#include "proxy/server/listener_config.h"
#include "proxy/server/options.h"
#include "proxy/server/server_state.h"
#include "proxy/server/tls_reloader.h"
#include "proxy/server/worker.h"
#include "proxy/upstream/host_set_builder.h"

namespace remora::server {

// Everything derived from one bootstrap, validated; building it is what
// --mode validate checks. Throws config::ConfigError.
struct ServerConfig {
  ServerConfig(config::Bootstrap bootstrap, uint32_t concurrency);
  config::Bootstrap bootstrap;
  // Declared before the configs that hold its scopes.
  std::unique_ptr<stats::Store> store;
  std::unique_ptr<telemetry::AccessLogManager> access_logs;
  std::vector<std::shared_ptr<const ListenerConfig>> listeners;
  std::vector<std::shared_ptr<const upstream::ClusterInfo>> clusters;
};

// Loads and validates the config named by the options. Throws config::ConfigError.
ServerConfig loadServerConfig(const Options& options);

class Server {
 public:
  Server(Options options, ServerConfig config);
  ~Server();
  // Runs until shutdown; returns the process exit code.
  int run();

 private:
  struct BoundListener {
    std::shared_ptr<const ListenerConfig> config;
    std::vector<int> fds;  // one per worker
    uint16_t port = 0;
    stats::Scope<stats::ListenerStats>* stats = nullptr;
  };
  enum class State { Initializing, Live, Draining };

  std::string bindListeners();
  void initializeClusters();
  void startWorkers();
  void installSignals();
  void startDrain();
  void checkDrained();
  void shutdown();
  void broadcastHosts(const std::string& cluster, std::shared_ptr<const upstream::HostSet> hosts);
  // Registers every listener's and cluster's TLS context with the reloader; returns
  // an error if a TLS config no longer loads.
  std::string watchTlsContexts();
  void publishTlsContext(const network::tls::TlsContext& configured,
                         std::shared_ptr<const network::tls::TlsContext> current);
  AdminResponse handleAdmin(const http::RequestHead& request);
  // admin_handlers.cc
  AdminResponse adminStats(const http::RequestHead& request, bool prometheus);
  AdminResponse adminClusters(const http::RequestHead& request);
  AdminResponse adminConfigDump();
  AdminResponse adminRuntime();
  AdminResponse adminRuntimeModify(const http::RequestHead& request);
  AdminResponse adminMemory();
  AdminResponse adminLogging(const http::RequestHead& request);
  AdminResponse adminDrainListeners(const http::RequestHead& request);
  AdminResponse adminServerInfo();
  AdminResponse adminListeners(const http::RequestHead& request);
  AdminResponse adminCerts();
  // server.days_until_first_cert_expiring: the soonest expiry among the certificates
  // and CAs of the TLS contexts in use.
  int64_t daysUntilFirstCertExpiring() const;
  void refreshServerStats();
  void updateMembership(const std::string& cluster, const upstream::HostSet& hosts);
  std::string stateName() const;

  Options options_;
  ServerConfig config_;
  ServerState state_;
  State lifecycle_ = State::Initializing;
  uv_loop_t loop_{};
  std::unique_ptr<WorkerResources> resources_;
  std::vector<BoundListener> bound_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<AdminServer> admin_;
  std::vector<std::unique_ptr<upstream::DnsRefresher>> dns_;
  std::vector<std::pair<std::string, std::shared_ptr<const upstream::HostSet>>> host_sets_;
  // Runtime values: static layer from the config, then admin overrides.
  std::map<std::string, std::string> runtime_static_;
  std::map<std::string, std::string> runtime_admin_;
  size_t pending_initial_dns_ = 0;
  std::vector<UvHandle<uv_signal_t>> signals_;
  std::unique_ptr<Timer> drain_timer_;
  std::unique_ptr<Timer> quit_timer_;
  std::unique_ptr<TlsReloader> tls_reloader_;
  std::chrono::steady_clock::time_point start_time_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point drain_deadline_;
  bool stopped_ = false;
};

}  // namespace remora::server
