#include "proxy/server/worker.h"

#include <unistd.h>

#include <algorithm>

#include "proxy/common/logger.h"
#include "proxy/http/connection_manager.h"
#include "proxy/network/tls/tls_session.h"
#include "proxy/server/connection_inspector.h"
#include "proxy/tcp/tcp_proxy.h"

namespace remora::server {

// ---------------------------------------------------------------- ActiveListener

ActiveListener::ActiveListener(Worker& worker, std::shared_ptr<const ListenerConfig> config, int fd,
                               stats::ListenerStats& stats)
    : worker_(worker), config_(std::move(config)), stats_(stats), socket_(worker.resources().loop) {
  socket_.get()->data = this;
  int rc = uv_tcp_open(socket_.get(), fd);
  if (rc == 0) rc = uv_listen(socket_.stream(), SOMAXCONN, &ActiveListener::onConnection);
  if (rc != 0) {
    REMORA_LOG(Error, "listener " + config_->config.name + ": " + uv_strerror(rc));
  }
}

ActiveListener::~ActiveListener() { closeConnections(); }

void ActiveListener::onConnection(uv_stream_t* server, int status) {
  auto* self = static_cast<ActiveListener*>(server->data);
  if (!self || status != 0) return;
  self->accept();
}

void ActiveListener::accept() {
  WorkerResources& resources = worker_.resources();
  auto connection = std::make_unique<network::TcpConnection>(
      resources.loop, resources.read_buffer, resources.write_batcher,
      config_->config.per_connection_buffer_limit_bytes);
  if (uv_accept(socket_.stream(), reinterpret_cast<uv_stream_t*>(connection->handle())) != 0) {
    return;
  }
  std::unique_ptr<network::DownstreamConnection> owner;
  if (config_->inspects()) {
    owner = std::make_unique<ConnectionInspector>(
        resources, std::move(connection), config_->config.listener_filters_timeout,
        [this](ConnectionInspector& inspector, bool tls, const std::string& server_name) {
          onInspected(inspector, tls, server_name);
        });
  } else {
    const FilterChainConfig* chain = config_->select(false, {});
    if (!chain) {
      stats_.no_filter_chain_match.inc();
      return;  // the connection closes as it goes out of scope
    }
    owner = serve(*chain, std::move(connection), {});
  }
  track(std::move(owner));
}

std::unique_ptr<network::DownstreamConnection> ActiveListener::serve(
    const FilterChainConfig& chain, std::unique_ptr<network::TcpConnection> connection,
    std::string_view already_read) {
  if (chain.tls) {
    connection->enableTls(std::make_unique<network::tls::TlsSession>(
        worker_.resources().tls_contexts.current(chain.tls)));
  }
  network::TcpConnection& raw = *connection;
  std::unique_ptr<network::DownstreamConnection> owner;
  if (chain.http) {
    owner = std::make_unique<http::ConnectionManager>(worker_.context(), chain.http,
                                                      std::move(connection), &stats_.ssl);
  } else {
    owner = std::make_unique<tcp::TcpProxySession>(worker_.context(), chain.tcp,
                                                   std::move(connection), &stats_.ssl);
  }
  raw.injectReceived(already_read);
  return owner;
}

void ActiveListener::onInspected(ConnectionInspector& inspector, bool tls,
                                 const std::string& server_name) {
  const FilterChainConfig* chain = config_->select(tls, server_name);
  if (!chain) {
    stats_.no_filter_chain_match.inc();
    inspector.closeNow();
    return;
  }
  // The inspector's list entry now holds the chain's connection owner; the
  // inspector itself is deleted later (this runs inside its callback).
  auto it = std::find_if(connections_.begin(), connections_.end(),
                         [&](const auto& c) { return c.get() == &inspector; });
  std::unique_ptr<network::DownstreamConnection> replaced = std::move(*it);
  replaced->setOnClosed(nullptr);
  const std::string buffered = inspector.takeBuffered();
  *it = serve(*chain, inspector.takeConnection(), buffered);
  (*it)->accepted_at = replaced->accepted_at;
  watch(it);
  worker_.resources().deleter.defer(std::move(replaced));
}

void ActiveListener::track(std::unique_ptr<network::DownstreamConnection> owner) {
  connections_.push_back(std::move(owner));
  auto it = std::prev(connections_.end());
  worker_.onConnectionOpened();
  stats_.downstream_cx_total.inc();
  stats_.downstream_cx_active.inc();
  watch(it);
}

void ActiveListener::watch(std::list<std::unique_ptr<network::DownstreamConnection>>::iterator it) {
  (*it)->setOnClosed([this, it](network::DownstreamConnection& connection) {
    stats_.downstream_cx_destroy.inc();
    stats_.downstream_cx_active.dec();
    stats_.downstream_cx_length_ms.record(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                  connection.accepted_at)
            .count());
    worker_.onConnectionClosed();
    worker_.resources().deleter.defer(std::move(*it));
    connections_.erase(it);
  });
}

void ActiveListener::stopAccepting() { socket_.close(); }

void ActiveListener::drainConnections() {
  // startDrain may close (and erase) the connection it is called on.
  for (auto it = connections_.begin(); it != connections_.end();) {
    auto next = std::next(it);
    (*it)->startDrain();
    it = next;
  }
}

void ActiveListener::closeConnections() {
  while (!connections_.empty()) {
    const size_t before = connections_.size();
    connections_.front()->closeNow();
    if (connections_.size() == before) {
      // Already closed but not yet reported: drop it here.
      worker_.onConnectionClosed();
      stats_.downstream_cx_destroy.inc();
      stats_.downstream_cx_active.dec();
      worker_.resources().deleter.defer(std::move(connections_.front()));
      connections_.pop_front();
    }
  }
}

// ---------------------------------------------------------------- Worker

namespace {
uv_loop_t* initLoop(uv_loop_t* loop) {
  uv_loop_init(loop);
  return loop;
}
}  // namespace

Worker::Worker(size_t index, const ServerState& state, telemetry::AccessLogManager& access_logs)
    : index_(index),
      resources_(std::make_unique<WorkerResources>(initLoop(&loop_), index)),
      clusters_(std::make_unique<upstream::ClusterManager>(*resources_)),
      access_logs_(access_logs.createWorkerLogs(&loop_)),
      context_(std::make_unique<filters::FilterContext>(
          filters::FilterContext{*resources_, *clusters_, state, *access_logs_})) {
  async_ = UvHandle<uv_async_t>::adopt(new uv_async_t{});
  uv_async_init(&loop_, async_.get(), &Worker::onAsync);
  async_.get()->data = this;
}

Worker::~Worker() {
  stop();
  uv_loop_close(&loop_);
}

void Worker::addListener(std::shared_ptr<const ListenerConfig> config, int fd,
                         stats::Scope<stats::ListenerStats>& stats) {
  listeners_.push_back(
      std::make_unique<ActiveListener>(*this, std::move(config), fd, stats.shard(index_)));
}

void Worker::addCluster(std::shared_ptr<const upstream::ClusterInfo> info,
                        std::shared_ptr<const upstream::HostSet> hosts) {
  clusters_->addCluster(std::move(info), std::move(hosts));
}

void Worker::start() {
  thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
}

void Worker::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    posted_.push_back(std::move(task));
  }
  uv_async_send(async_.get());
}

void Worker::onAsync(uv_async_t* handle) {
  if (auto* self = static_cast<Worker*>(handle->data)) self->runPosted();
}

void Worker::runPosted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

void Worker::drain(bool drain_connections, bool inbound_only) {
  post([this, drain_connections, inbound_only] {
    for (auto& listener : listeners_) {
      if (inbound_only && listener->config().config.traffic_direction !=
                              config::Listener::TrafficDirection::Inbound) {
        continue;
      }
      listener->stopAccepting();
      if (drain_connections) listener->drainConnections();
    }
  });
}

void Worker::releaseHandles() {
  listeners_.clear();
  access_logs_.reset();  // hands its last lines to the writer
  clusters_.reset();
  resources_.reset();
  async_.close();
}

void Worker::stop() {
  if (!resources_) return;
  if (!thread_.joinable()) {
    releaseHandles();
    uv_run(&loop_, UV_RUN_DEFAULT);
    return;
  }
  // Everything that owns a libuv handle goes on the worker's own thread, so the
  // loop can run their close callbacks and then return.
  post([this] { releaseHandles(); });
  thread_.join();
}

}  // namespace remora::server
