// One TCP connection (downstream or upstream) on a worker loop: non-blocking reads
// into the worker's shared read buffer, a write queue with high/low watermarks,
// half-close, and a close that fires onClosed exactly once.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/common/deferred_deleter.h"
#include "proxy/common/timer.h"
#include "proxy/network/write_batcher.h"

namespace remora::network {

namespace tls {
class TlsSession;
enum class TlsFailure;
}  // namespace tls

enum class CloseReason {
  LocalClose,      // close() called
  RemoteReset,     // read/write error (ECONNRESET, EPIPE, ...)
  ConnectFailed,   // connect() failed
  ConnectTimeout,  // connect() did not finish in time
};

class ConnectionCallbacks {
 public:
  virtual ~ConnectionCallbacks() = default;
  virtual void onConnected() {}
  virtual void onData(std::string_view data) = 0;
  // The peer half-closed. The connection stays open for writing.
  virtual void onEof() = 0;
  virtual void onClosed(CloseReason reason) = 0;
  virtual void onAboveHighWatermark() {}
  virtual void onBelowLowWatermark() {}
  // TLS only: the handshake finished, or failed (then the connection closes).
  virtual void onTlsHandshake() {}
  virtual void onTlsFailure(tls::TlsFailure failure) {}
};

// The worker's read buffer: data handed to onData is only valid during the call.
struct ReadBuffer {
  static constexpr size_t kSize = 64 * 1024;
  char data[kSize];
  bool in_use = false;
};

class TcpConnection : public Deletable {
 public:
  TcpConnection(uv_loop_t* loop, ReadBuffer& read_buffer, WriteBatcher& batcher,
                uint32_t buffer_limit);
  ~TcpConnection() override;

  void setCallbacks(ConnectionCallbacks& callbacks) { callbacks_ = &callbacks; }
  uv_tcp_t* handle() { return &io_->tcp; }

  // Downstream: start reading an accepted socket.
  void startAccepted();
  // Upstream: connect; onConnected or onClosed(ConnectFailed/ConnectTimeout) follows.
  void connect(const sockaddr_storage& address, std::chrono::milliseconds timeout);

  // Queues bytes; they leave in one write with everything else queued during this
  // loop iteration (see WriteBatcher). A piece of kDirectWriteBytes or more with nothing
  // queued ahead is written at once, without a copy.
  void write(std::string_view bytes);
  static constexpr size_t kDirectWriteBytes = 16 * 1024;
  // A first send of at most this many bytes needs no TCP_NODELAY (see beforeSend): the
  // smallest IPv4 MSS.
  static constexpr size_t kOneSegmentBytes = 536;
  // From now on bytes are TLS records: reads are decrypted before onData, writes
  // encrypted when flushed. Set before startAccepted() or connect().
  void enableTls(std::unique_ptr<tls::TlsSession> session);
  // Processes bytes read before this connection's owner took it (a listener
  // filter's inspection) as if they were read now.
  void injectReceived(std::string_view data);
  tls::TlsSession* tls() const { return tls_.get(); }
  // Sends what is queued now (the batcher calls this).
  void flushQueued();
  void setReadEnabled(bool enabled);
  // Sends FIN once queued bytes are written.
  void shutdownWrite();
  enum class CloseMode { FlushWrite, Abort };
  void close(CloseMode mode);

  bool open() const { return state_ != State::Closed; }
  bool connected() const { return state_ == State::Open; }
  size_t bufferedBytes() const {
    return pending_plain_.size() + pending_.size() + (io_ ? io_->inflight.size() : 0);
  }
  bool aboveHighWatermark() const { return above_high_; }
  uint32_t bufferLimit() const { return high_watermark_; }
  // For idle pooled connections: true if the peer has closed or sent bytes we did
  // not ask for, checked synchronously on the socket without consuming anything.
  bool peerClosedOrDirty() const;
  std::string peerAddress() const;

 private:
  enum class State { Connecting, Open, Closed };
  static void onAlloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void onWriteDone(uv_write_t* req, int status);
  static void onConnectDone(uv_connect_t* req, int status);
  static void onShutdownDone(uv_shutdown_t* req, int status);

  void markOpen();
  void startRead();
  void stopRead();
  // Nagle's algorithm holds a small segment back only while earlier bytes are
  // unacknowledged, so a connection's first send that fits in one segment leaves at once
  // anyway: an accepted connection sets TCP_NODELAY just before a later or larger send,
  // and one that answers a single small response and closes never makes the call.
  // Upstream connections set it on connect.
  void beforeSend(size_t bytes);
  // One send(2) of what the kernel takes now, nothing queued in libuv ahead of it: the
  // bytes sent, or -1 with errno. A socket call rather than uv_try_write's write(2),
  // which goes through the VFS layer first (fdget_pos, vfs_write, fput: about 150 ns of
  // kernel time per proxied request in a perf profile).
  ssize_t sendNow(std::string_view bytes);
  void flush();
  void afterDrain();
  void updateWatermarks();
  void closeNow(CloseReason reason);
  void onCiphertext(std::string_view data);
  // Queues what the TLS session has to send (handshake, records, alerts).
  void sendCiphertext();

  // Everything libuv may still touch after close(): the handle, the in-flight
  // requests and the bytes being written. Freed in the uv_close callback; until
  // then `owner` is null and late callbacks (UV_ECANCELED) are ignored.
  struct Io {
    uv_tcp_t tcp;
    uv_write_t write_req;
    uv_connect_t connect_req;
    uv_shutdown_t shutdown_req;
    std::string inflight;  // handed to uv_write, waiting for completion
    TcpConnection* owner;
  };
  static TcpConnection* ownerOf(void* io) { return static_cast<Io*>(io)->owner; }

  Io* io_;
  ReadBuffer& read_buffer_;
  WriteBatcher& batcher_;
  bool flush_scheduled_ = false;
  ConnectionCallbacks* callbacks_ = nullptr;
  State state_ = State::Connecting;
  int fd_ = -1;          // the socket once open: send(2) and the pool's check use it directly
  std::string pending_;  // queued, not yet handed to the kernel
  std::unique_ptr<tls::TlsSession> tls_;
  std::string pending_plain_;  // TLS: plaintext written this iteration, encrypted at flush
  std::string tls_read_;       // TLS: decrypted bytes being handed to onData
  const uint32_t high_watermark_;
  const uint32_t low_watermark_;
  bool above_high_ = false;
  bool reading_wanted_ = true;
  bool reading_ = false;  // uv_read_start is in effect
  bool eof_ = false;      // the peer half-closed: nothing more to read
  bool shutdown_wanted_ = false;
  bool shutdown_sent_ = false;
  bool close_after_flush_ = false;
  bool nodelay_set_ = false;
  bool sent_before_ = false;
  bool connect_refused_early_ = false;
  Timer connect_timer_;
};

// Parses "1.2.3.4" / "::1" plus port into a sockaddr; false if not an IP literal.
bool parseIpAddress(const std::string& ip, uint16_t port, sockaddr_storage& out);
std::string formatAddress(const sockaddr* address);

}  // namespace remora::network
