// A worker thread: its own uv loop, its own listening sockets (SO_REUSEPORT), its
// connections, upstream pools and load-balancer state. The main thread reaches it
// only through post(): a mutex-guarded queue and a uv_async_t wakeup.
#pragma once

#include <uv.h>

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "filters/filter_registry.h"
#include "proxy/common/worker_resources.h"
#include "proxy/network/downstream_connection.h"
#include "proxy/server/listener_config.h"
#include "proxy/server/server_state.h"
#include "proxy/upstream/cluster_manager.h"
#include "telemetry/access_log/access_log.h"

namespace remora::server {

class Worker;

// One listener's accepting socket on one worker, and the connections it accepted.
class ActiveListener {
 public:
  ActiveListener(Worker& worker, std::shared_ptr<const ListenerConfig> config, int fd,
                 stats::ListenerStats& stats);
  ~ActiveListener();
  // Stops accepting; accepted connections carry on.
  void stopAccepting();
  void drainConnections();
  void closeConnections();
  size_t connectionCount() const { return connections_.size(); }
  const ListenerConfig& config() const { return *config_; }

 private:
  static void onConnection(uv_stream_t* server, int status);
  void accept();
  // Starts serving the connection with the chain's network filter (and TLS);
  // `already_read` are bytes an inspector read first.
  std::unique_ptr<network::DownstreamConnection> serve(
      const FilterChainConfig& chain, std::unique_ptr<network::TcpConnection> connection,
      std::string_view already_read);
  void onInspected(class ConnectionInspector& inspector, bool tls, const std::string& server_name);
  void track(std::unique_ptr<network::DownstreamConnection> owner);
  void watch(std::list<std::unique_ptr<network::DownstreamConnection>>::iterator it);

  Worker& worker_;
  std::shared_ptr<const ListenerConfig> config_;
  stats::ListenerStats& stats_;
  UvHandle<uv_tcp_t> socket_;
  std::list<std::unique_ptr<network::DownstreamConnection>> connections_;
};

class Worker {
 public:
  Worker(size_t index, const ServerState& state, telemetry::AccessLogManager& access_logs);
  ~Worker();

  // Before start(), from the main thread.
  void addListener(std::shared_ptr<const ListenerConfig> config, int fd,
                   stats::Scope<stats::ListenerStats>& stats);
  void addCluster(std::shared_ptr<const upstream::ClusterInfo> info,
                  std::shared_ptr<const upstream::HostSet> hosts);

  void start();
  // Runs `task` on the worker's loop. Any thread.
  void post(std::function<void()> task);
  // Stops accepting (asynchronously); with drain_connections, connections finish
  // their current request and close. inbound_only limits it to INBOUND listeners.
  void drain(bool drain_connections = true, bool inbound_only = false);
  // Closes everything, ends the loop and joins the thread.
  void stop();

  size_t index() const { return index_; }
  // Written by the worker only; read by the main thread while draining.
  size_t activeConnections() const { return active_connections_.load(std::memory_order_relaxed); }

  // Worker-thread only.
  filters::FilterContext& context() { return *context_; }
  WorkerResources& resources() { return *resources_; }
  upstream::ClusterManager& clusters() { return *clusters_; }
  void onConnectionOpened() { active_connections_.fetch_add(1, std::memory_order_relaxed); }
  void onConnectionClosed() { active_connections_.fetch_sub(1, std::memory_order_relaxed); }

 private:
  static void onAsync(uv_async_t* handle);
  void runPosted();
  void releaseHandles();

  const size_t index_;
  uv_loop_t loop_{};
  // Owned through pointers so the worker thread can destroy them (closing their
  // libuv handles) before its loop ends.
  std::unique_ptr<WorkerResources> resources_;
  std::unique_ptr<upstream::ClusterManager> clusters_;
  std::unique_ptr<telemetry::WorkerAccessLogs> access_logs_;
  std::unique_ptr<filters::FilterContext> context_;
  std::vector<std::unique_ptr<ActiveListener>> listeners_;
  UvHandle<uv_async_t> async_;
  std::mutex mutex_;
  std::vector<std::function<void()>> posted_;
  std::thread thread_;
  alignas(64) std::atomic<size_t> active_connections_{0};
};

}  // namespace remora::server
