// The tls_inspector listener filter: holds a new connection until its first
// bytes tell whether it is TLS and which server name (SNI) it asks for, so the
// listener can pick a filter chain; the bytes read meanwhile are replayed into
// the chosen chain. Like Envoy, a connection that does not decide before
// listener_filters_timeout is closed.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "proxy/common/timer.h"
#include "proxy/common/worker_resources.h"
#include "proxy/network/downstream_connection.h"
#include "proxy/network/tcp_connection.h"

namespace remora::server {

class ConnectionInspector : public network::DownstreamConnection,
                            public network::ConnectionCallbacks {
 public:
  // Called once with what was learnt; the callee takes the connection and the
  // bytes read so far.
  using Decided =
      std::function<void(ConnectionInspector&, bool tls, const std::string& server_name)>;

  ConnectionInspector(WorkerResources& resources,
                      std::unique_ptr<network::TcpConnection> connection,
                      std::chrono::milliseconds timeout, Decided decided);
  ~ConnectionInspector() override;

  std::unique_ptr<network::TcpConnection> takeConnection();
  std::string takeBuffered() { return std::move(buffered_); }

  // network::DownstreamConnection
  void startDrain() override { closeNow(); }
  void closeNow() override;
  // network::ConnectionCallbacks
  void onData(std::string_view data) override;
  void onEof() override { closeNow(); }
  void onClosed(network::CloseReason reason) override { notifyClosed(); }

 private:
  void decide(bool tls, const std::string& server_name);

  std::unique_ptr<network::TcpConnection> connection_;
  std::string buffered_;
  Timer timeout_;
  Decided decided_;
};

}  // namespace remora::server
