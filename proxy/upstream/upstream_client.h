// One upstream HTTP/1.1 connection: transport plus client codec. Owned by its
// connection pool; lent to one stream at a time.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include "proxy/common/deferred_deleter.h"
#include "proxy/common/worker_resources.h"
#include "proxy/http/codec.h"
#include "proxy/network/tcp_connection.h"
#include "proxy/upstream/host.h"

namespace remora::upstream {

class ConnPool;

enum class PoolFailure { ConnectFailure, ConnectTimeout };

// Events of the connection the stream using it must hear about.
class UpstreamStreamCallbacks {
 public:
  virtual ~UpstreamStreamCallbacks() = default;
  // The connection died before the response completed.
  virtual void onUpstreamConnectionLost(bool protocol_error, std::string_view details) = 0;
  virtual void onUpstreamAboveHighWatermark() {}
  virtual void onUpstreamBelowLowWatermark() {}
};

class PoolCallbacks {
 public:
  virtual ~PoolCallbacks() = default;
  virtual void onPoolReady(class UpstreamClient& client) = 0;
  virtual void onPoolFailure(PoolFailure reason) = 0;
};

class UpstreamClient : public network::ConnectionCallbacks,
                       public http::CodecOutput,
                       public Deletable {
 public:
  UpstreamClient(ConnPool& pool, WorkerResources& resources, uint32_t buffer_limit);
  ~UpstreamClient() override;

  network::TcpConnection& connection() { return connection_; }
  http::ClientCodec& codec() { return *codec_; }
  ConnPool& pool() { return pool_; }

  // The stream now using this connection (nullptr when idle or connecting).
  void attach(UpstreamStreamCallbacks* stream) { stream_ = stream; }
  // Who waits for the connection to be established.
  void setWaiting(PoolCallbacks* waiting) { waiting_ = waiting; }
  PoolCallbacks* waiting() const { return waiting_; }

  // network::ConnectionCallbacks
  void onConnected() override;
  void onData(std::string_view data) override;
  void onEof() override;
  void onClosed(network::CloseReason reason) override;
  void onAboveHighWatermark() override;
  void onBelowLowWatermark() override;
  // http::CodecOutput
  void write(std::string_view bytes) override;

  bool idle = false;
  std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();
  bool was_connected = false;
  bool peer_closed = false;  // the upstream closed it (EOF), not us

 private:
  ConnPool& pool_;
  network::TcpConnection connection_;
  std::unique_ptr<http::ClientCodec> codec_;
  UpstreamStreamCallbacks* stream_ = nullptr;
  PoolCallbacks* waiting_ = nullptr;
};

}  // namespace remora::upstream
