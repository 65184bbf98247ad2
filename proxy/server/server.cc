#include "proxy/server/server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "config/config_loader.h"
#include "proxy/common/logger.h"
#include "proxy/network/tcp_connection.h"
#include "proxy/server/version.h"

namespace remora::server {

namespace {
stats::BucketSelector bucketSelector(const config::Bootstrap& bootstrap) {
  if (bootstrap.histogram_bucket_settings.empty()) return nullptr;
  struct Rule {
    router::StringMatcher match;
    std::shared_ptr<const stats::HistogramBounds> bounds;
  };
  auto rules = std::make_shared<std::vector<Rule>>();
  for (const config::HistogramBucketSetting& s : bootstrap.histogram_bucket_settings) {
    rules->push_back({router::StringMatcher(s.match),
                      std::make_shared<const stats::HistogramBounds>(s.buckets)});
  }
  return [rules](const std::string& name) -> std::shared_ptr<const stats::HistogramBounds> {
    for (const Rule& r : *rules) {
      if (r.match.matches(name)) return r.bounds;
    }
    return nullptr;
  };
}
}  // namespace

ServerConfig::ServerConfig(config::Bootstrap b, uint32_t concurrency)
    : bootstrap(std::move(b)),
      store(std::make_unique<stats::Store>(concurrency, bucketSelector(bootstrap))),
      access_logs(std::make_unique<telemetry::AccessLogManager>()) {
  for (const config::Listener& l : bootstrap.listeners) {
    listeners.push_back(std::make_shared<const ListenerConfig>(l, *store, *access_logs));
  }
  for (const config::Cluster& c : bootstrap.clusters) {
    clusters.push_back(std::make_shared<const upstream::ClusterInfo>(c, *store));
  }
}

ServerConfig loadServerConfig(const Options& options) {
  config::Bootstrap bootstrap =
      options.config_path.empty()
          ? config::loadBootstrapString(options.config_yaml, "<config-yaml>")
          : config::loadBootstrapFile(options.config_path);
  return ServerConfig(std::move(bootstrap), options.concurrency);
}

namespace {
// One SO_REUSEPORT socket per worker: the kernel spreads new connections across
// them, and each worker accepts only on its own.
int bindReusePort(const sockaddr_storage& address, std::string& error) {
  const int fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::strerror(errno);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  const socklen_t len = address.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), len) != 0) {
    error = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

uint16_t boundPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

}  // namespace

Server::Server(Options options, ServerConfig config)
    : options_(std::move(options)), config_(std::move(config)) {
  uv_loop_init(&loop_);
  resources_ = std::make_unique<WorkerResources>(&loop_, config_.store->mainThreadShard());
  tls_reloader_ = std::make_unique<TlsReloader>(
      &loop_,
      [this](const network::tls::TlsContext& configured,
             std::shared_ptr<const network::tls::TlsContext> current) {
        publishTlsContext(configured, std::move(current));
      },
      config_.store->server().tls_context_reloads);
  for (const auto& [key, value] : config_.bootstrap.runtime.static_values)
    runtime_static_[key] = value;
}

Server::~Server() {
  shutdown();
  drain_timer_.reset();
  quit_timer_.reset();
  tls_reloader_.reset();
  resources_.reset();
  for (BoundListener& b : bound_) {
    for (int fd : b.fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  // A uv_stop() from shutdown() makes the next uv_run return at once (clearing the
  // flag); the second one then runs the close callbacks.
  uv_run(&loop_, UV_RUN_NOWAIT);
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

std::string Server::bindListeners() {
  for (const auto& listener : config_.listeners) {
    BoundListener bound;
    bound.config = listener;
    const config::SocketAddress& a = listener->config.address;
    sockaddr_storage address;
    network::parseIpAddress(a.address, static_cast<uint16_t>(a.port_value), address);
    for (uint32_t i = 0; i < options_.concurrency; ++i) {
      std::string error;
      const int fd = bindReusePort(address, error);
      if (fd < 0) {
        bound_.push_back(std::move(bound));
        return "cannot bind listener '" + listener->config.name + "' to " + a.address + ":" +
               std::to_string(a.port_value) + ": " + error;
      }
      bound.fds.push_back(fd);
      if (i == 0) {
        // With port 0 the first socket picks the port; the others join it.
        bound.port = boundPort(fd);
        reinterpret_cast<sockaddr_in*>(&address)->sin_port = htons(bound.port);
      }
    }
    // Envoy names listener stats after the bound address: listener.0.0.0.0_10000.
    bound.stats = &config_.store->listenerScope(a.address + "_" + std::to_string(bound.port));
    bound_.push_back(std::move(bound));
  }
  return {};
}

void Server::initializeClusters() {
  for (const auto& info : config_.clusters) {
    if (info->config.type == config::Cluster::DiscoveryType::Static) {
      host_sets_.emplace_back(info->name(), upstream::staticHostSet(*info));
      updateMembership(info->name(), *host_sets_.back().second);
      continue;
    }
    host_sets_.emplace_back(info->name(), std::make_shared<const upstream::HostSet>());
    ++pending_initial_dns_;
    const std::string name = info->name();
    auto first_round = std::make_shared<bool>(true);
    dns_.push_back(std::make_unique<upstream::DnsRefresher>(
        &loop_, info,
        [this, name](std::shared_ptr<const upstream::HostSet> hosts) {
          broadcastHosts(name, std::move(hosts));
        },
        [this, first_round](bool) {
          if (std::exchange(*first_round, false)) --pending_initial_dns_;
        }));
  }
  for (auto& d : dns_) d->start();
}

void Server::broadcastHosts(const std::string& cluster,
                            std::shared_ptr<const upstream::HostSet> hosts) {
  for (auto& [name, set] : host_sets_) {
    if (name == cluster) set = hosts;
  }
  updateMembership(cluster, *hosts);
  if (lifecycle_ == State::Initializing) return;  // workers start with host_sets_
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->post([w, cluster, hosts] { w->clusters().updateHosts(cluster, hosts); });
  }
}

std::string Server::watchTlsContexts() {
  try {
    for (const auto& listener : config_.listeners) {
      // ListenerConfig builds one chain per configured filter chain, in order.
      for (size_t i = 0; i < listener->chains.size(); ++i) {
        if (!listener->chains[i].tls) continue;
        std::string owner = "listener '" + listener->config.name + "'";
        if (listener->chains.size() > 1) owner += " filter chain " + std::to_string(i);
        tls_reloader_->watchDownstream(
            std::move(owner), listener->chains[i].tls,
            listener->config.filter_chains[i].transport_socket->typed_config);
      }
    }
    for (const auto& cluster : config_.clusters) {
      if (!cluster->tls) continue;
      tls_reloader_->watchUpstream("cluster '" + cluster->name() + "'", cluster->tls,
                                   cluster->config.transport_socket->typed_config);
    }
  } catch (const config::ConfigError& error) {
    return error.what();
  }
  return {};
}

void Server::publishTlsContext(const network::tls::TlsContext& configured,
                               std::shared_ptr<const network::tls::TlsContext> current) {
  // Each worker swaps its own copy: no lock on the accept or connect path.
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->post(
        [w, &configured, current] { w->resources().tls_contexts.replace(configured, current); });
  }
}

void Server::startWorkers() {
  for (uint32_t i = 0; i < options_.concurrency; ++i) {
    auto worker = std::make_unique<Worker>(i, state_, *config_.access_logs);
    for (const auto& info : config_.clusters) {
      for (const auto& [name, set] : host_sets_) {
        if (name == info->name()) worker->addCluster(info, set);
      }
    }
    for (BoundListener& b : bound_) {
      worker->addListener(b.config, b.fds[i], *b.stats);
      b.fds[i] = -1;  // owned by the worker's handle now
    }
    workers_.push_back(std::move(worker));
  }
  config_.access_logs->start();
  for (auto& w : workers_) w->start();
}

void Server::installSignals() {
  // SIGUSR1: reopen access log files (logrotate), as Envoy does.
  UvHandle<uv_signal_t> usr1(&loop_);
  usr1.get()->data = this;
  uv_signal_start(
      usr1.get(),
      [](uv_signal_t* h, int) { static_cast<Server*>(h->data)->config_.access_logs->reopen(); },
      SIGUSR1);
  signals_.push_back(std::move(usr1));
  for (int signum : {SIGTERM, SIGINT}) {
    UvHandle<uv_signal_t> handle(&loop_);
    handle.get()->data = this;
    uv_signal_start(
        handle.get(),
        [](uv_signal_t* h, int sig) {
          auto* self = static_cast<Server*>(h->data);
          if (self->lifecycle_ == State::Draining) {
            REMORA_LOG(Warn, "second signal " + std::to_string(sig) + ": exiting now");
            self->shutdown();
            return;
          }
          REMORA_LOG(Info, "signal " + std::to_string(sig) + ": draining for up to " +
                               std::to_string(self->options_.drain_time_s) + "s");
          self->startDrain();
        },
        signum);
    signals_.push_back(std::move(handle));
  }
}

void Server::updateMembership(const std::string& cluster, const upstream::HostSet& hosts) {
  stats::ClusterStats& s =
      config_.store->clusterScope(cluster).shard(config_.store->mainThreadShard());
  // Health checking does not exist yet: every member counts as healthy.
  s.membership_total.set(static_cast<int64_t>(hosts.hosts.size()));
  s.membership_healthy.set(static_cast<int64_t>(hosts.hosts.size()));
}

void Server::startDrain() {
  if (lifecycle_ == State::Draining) return;
  lifecycle_ = State::Draining;
  state_.draining.store(true, std::memory_order_relaxed);
  for (auto& w : workers_) w->drain();
  drain_deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(options_.drain_time_s);
  drain_timer_ = std::make_unique<Timer>(&loop_, [this] { checkDrained(); });
  drain_timer_->arm(std::chrono::milliseconds(50));
}

void Server::checkDrained() {
  size_t open = 0;
  for (const auto& w : workers_) open += w->activeConnections();
  if (open == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
    if (open > 0)
      REMORA_LOG(Warn, "drain time over: closing " + std::to_string(open) + " connections");
    shutdown();
    return;
  }
  drain_timer_->arm(std::chrono::milliseconds(50));
}

void Server::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  workers_.clear();  // each stops its loop and joins
  config_.access_logs->stop();
  if (admin_) admin_->close();
  admin_.reset();
  dns_.clear();
  signals_.clear();
  // Timers may be running this very call: they are released by the destructor.
  if (drain_timer_) drain_timer_->disarm();
  tls_reloader_->stop();
  uv_stop(&loop_);
}

std::string Server::stateName() const {
  switch (lifecycle_) {
    case State::Initializing:
      return "INITIALIZING";
    case State::Live:
      return "LIVE";
    case State::Draining:
      return "DRAINING";
  }
  return "LIVE";
}

int Server::run() {
  if (std::string error = bindListeners(); !error.empty()) {
    std::cerr << error << "\n";
    return 1;
  }
  if (std::string error = watchTlsContexts(); !error.empty()) {
    std::cerr << error << "\n";
    return 1;
  }
  if (const auto& admin = config_.bootstrap.admin.address) {
    admin_ = std::make_unique<AdminServer>(
        *resources_, [this](const http::RequestHead& r) { return handleAdmin(r); });
    if (std::string error = admin_->listen(admin->address, admin->port_value); !error.empty()) {
      std::cerr << error << "\n";
      return 1;
    }
    REMORA_LOG(Info, "admin address: " + admin->address + ":" + std::to_string(admin_->port()));
  }
  initializeClusters();
  while (pending_initial_dns_ > 0) uv_run(&loop_, UV_RUN_ONCE);
  startWorkers();
  tls_reloader_->start(std::chrono::seconds(1));
  lifecycle_ = State::Live;
  for (const BoundListener& b : bound_) {
    REMORA_LOG(Info, "listener '" + b.config->config.name + "' on " +
                         b.config->config.address.address + ":" + std::to_string(b.port));
  }
  REMORA_LOG(Info, "starting main dispatch loop with " + std::to_string(options_.concurrency) +
                       " worker(s)");
  installSignals();
  uv_run(&loop_, UV_RUN_DEFAULT);
  shutdown();
  REMORA_LOG(Info, "exiting");
  return 0;
}

}  // namespace remora::server
