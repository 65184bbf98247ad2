// One upstream connection: transport plus client codec (HTTP/1.1, or HTTP/2 when
// the cluster asks for it). Owned by its connection pool; an HTTP/1.1 connection
// is lent to one stream at a time, an HTTP/2 one is shared by many (nghttpx's
// session + per-stream handles).
#pragma once

#include <chrono>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/common/deferred_deleter.h"
#include "proxy/common/worker_resources.h"
#include "proxy/http/codec.h"
#include "proxy/http/h2/settings.h"
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
  UpstreamClient(ConnPool& pool, WorkerResources& resources, uint32_t buffer_limit, bool http2,
                 const http::h2::Http2Settings& http2_settings);
  ~UpstreamClient() override;

  network::TcpConnection& connection() { return connection_; }
  http::ClientCodec& codec() { return *codec_; }

  bool http2() const { return http2_; }
  // The streams now using this connection.
  void attach(UpstreamStreamCallbacks& stream) { streams_.push_back(&stream); }
  void detach(UpstreamStreamCallbacks& stream) { std::erase(streams_, &stream); }
  // Who waits for the connection to be established.
  void addWaiting(PoolCallbacks& waiting) { waiting_.push_back(&waiting); }
  void removeWaiting(PoolCallbacks& waiting) { std::erase(waiting_, &waiting); }
  std::vector<PoolCallbacks*> takeWaiting() { return std::exchange(waiting_, {}); }
  size_t waitingCount() const { return waiting_.size(); }

  // network::ConnectionCallbacks
  void onConnected() override;
  void onData(std::string_view data) override;
  void onEof() override;
  void onClosed(network::CloseReason reason) override;
  void onAboveHighWatermark() override;
  void onBelowLowWatermark() override;
  void onTlsHandshake() override;
  void onTlsFailure(network::tls::TlsFailure failure) override;
  // http::CodecOutput
  void write(std::string_view bytes) override;
  size_t bufferedBytes() const override { return connection_.bufferedBytes(); }

  bool idle = false;
  std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();
  bool was_connected = false;
  bool peer_closed = false;  // the upstream closed it (EOF), not us

 private:
  ConnPool& pool_;
  network::TcpConnection connection_;
  const bool http2_;
  std::unique_ptr<http::ClientCodec> codec_;
  std::vector<UpstreamStreamCallbacks*> streams_;
  std::vector<PoolCallbacks*> waiting_;
  // Tells every attached stream the connection is gone (they detach).
  void loseStreams(bool protocol_error, std::string_view details);
};

}  // namespace remora::upstream
