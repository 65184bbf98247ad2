// TcpConnection's write path on a real loopback socket: small writes wait for the
// batch flush, a large piece with nothing queued ahead goes out at once without a copy,
// bytes always leave in the order they were written, and TCP_NODELAY is set only when
// Nagle's algorithm could hold a send back; and peer addresses are formatted as Envoy
// prints them.
#include "proxy/network/tcp_connection.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

namespace remora::network {
namespace {

// A listening socket on 127.0.0.1 and a free port, written to `address`; -1 on failure.
int listenOnLoopback(sockaddr_in& address) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(listener, 1) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(listener);
    return -1;
  }
  return listener;
}

class NullCallbacks : public ConnectionCallbacks {
 public:
  void onConnected() override { connected = true; }
  void onData(std::string_view) override {}
  void onEof() override {}
  void onClosed(CloseReason) override {}
  bool connected = false;
};

// A loop with the worker pieces a TcpConnection needs; the connection closes on teardown.
class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    batcher_ = std::make_unique<WriteBatcher>(&loop_);
  }

  void TearDown() override {
    connection_.reset();
    batcher_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);  // close callbacks
    uv_loop_close(&loop_);
  }

  void makeConnection() {
    connection_ = std::make_unique<TcpConnection>(&loop_, read_buffer_, *batcher_, 1 << 20);
    connection_->setCallbacks(callbacks_);
  }

  uv_loop_t loop_;
  ReadBuffer read_buffer_;
  std::unique_ptr<WriteBatcher> batcher_;
  NullCallbacks callbacks_;
  std::unique_ptr<TcpConnection> connection_;
};

class TcpConnectionWriteTest : public ConnectionTest {
 protected:
  void SetUp() override {
    ConnectionTest::SetUp();
    sockaddr_in address;
    listener_ = listenOnLoopback(address);
    ASSERT_GE(listener_, 0);
    makeConnection();
    sockaddr_storage target{};
    std::memcpy(&target, &address, sizeof(address));
    connection_->connect(target, std::chrono::seconds(5));
    while (!callbacks_.connected) uv_run(&loop_, UV_RUN_ONCE);
    peer_ = accept(listener_, nullptr, nullptr);
    ASSERT_GE(peer_, 0);
    // Room for every test's bytes, so what the kernel takes does not depend on timing.
    uv_os_fd_t fd;
    uv_fileno(reinterpret_cast<uv_handle_t*>(connection_->handle()), &fd);
    const int send_buffer = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof(send_buffer));
    setsockopt(peer_, SOL_SOCKET, SO_RCVBUF, &send_buffer, sizeof(send_buffer));
  }

  void TearDown() override {
    ConnectionTest::TearDown();
    close(peer_);
    close(listener_);
  }

  // Reads exactly `n` bytes on the accepted side.
  std::string peerReads(size_t n) {
    std::string out(n, '\0');
    size_t got = 0;
    while (got < n) {
      const ssize_t r = recv(peer_, out.data() + got, n - got, 0);
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    out.resize(got);
    return out;
  }

  int listener_ = -1;
  int peer_ = -1;
};

// An accepted connection: the peer here is a plain client socket.
class AcceptedConnectionTest : public ConnectionTest {
 protected:
  void SetUp() override {
    ConnectionTest::SetUp();
    sockaddr_in address{};
    const int listener = listenOnLoopback(address);
    ASSERT_GE(listener, 0);
    client_ = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_EQ(connect(client_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    accepted_ = accept(listener, nullptr, nullptr);
    close(listener);
    ASSERT_GE(accepted_, 0);
    makeConnection();
    ASSERT_EQ(uv_tcp_open(connection_->handle(), accepted_), 0);
    connection_->startAccepted();
  }

  void TearDown() override {
    ConnectionTest::TearDown();  // closes accepted_ with the connection
    close(client_);
  }

  bool noDelay() const {
    int value = -1;
    socklen_t length = sizeof(value);
    getsockopt(accepted_, IPPROTO_TCP, TCP_NODELAY, &value, &length);
    return value != 0;
  }

  void send(size_t bytes) {
    connection_->write(std::string(bytes, 'r'));
    uv_run(&loop_, UV_RUN_NOWAIT);
    ASSERT_EQ(connection_->bufferedBytes(), 0u);
  }

  int client_ = -1;
  int accepted_ = -1;
};

TEST_F(AcceptedConnectionTest, OneSmallResponseNeedsNoNoDelay) {
  EXPECT_FALSE(noDelay());
  send(TcpConnection::kOneSegmentBytes);
  EXPECT_FALSE(noDelay());
}

TEST_F(AcceptedConnectionTest, NoDelayIsSetBeforeTheSecondSend) {
  send(100);
  EXPECT_FALSE(noDelay());
  send(100);
  EXPECT_TRUE(noDelay());
}

TEST_F(AcceptedConnectionTest, NoDelayIsSetBeforeAFirstSendLongerThanOneSegment) {
  send(TcpConnection::kOneSegmentBytes + 1);
  EXPECT_TRUE(noDelay());
}

TEST_F(TcpConnectionWriteTest, AnOutboundConnectionHasNoDelayFromTheStart) {
  uv_os_fd_t fd;
  uv_fileno(reinterpret_cast<uv_handle_t*>(connection_->handle()), &fd);
  int value = 0;
  socklen_t length = sizeof(value);
  getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &length);
  EXPECT_NE(value, 0);
}

TEST_F(TcpConnectionWriteTest, SmallWritesWaitForTheBatchFlush) {
  connection_->write("GET / HTTP/1.1\r\n");
  connection_->write("\r\n");
  EXPECT_EQ(connection_->bufferedBytes(), 18u);
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(connection_->bufferedBytes(), 0u);
  EXPECT_EQ(peerReads(18), "GET / HTTP/1.1\r\n\r\n");
}

TEST_F(TcpConnectionWriteTest, ALargePieceWithNothingQueuedIsSentAtOnce) {
  const std::string body(TcpConnection::kDirectWriteBytes * 4, 'b');
  connection_->write(body);
  EXPECT_EQ(connection_->bufferedBytes(), 0u);
  EXPECT_EQ(peerReads(body.size()), body);
}

TEST_F(TcpConnectionWriteTest, ALargePieceBehindQueuedBytesKeepsTheOrder) {
  const std::string body(TcpConnection::kDirectWriteBytes * 4, 'b');
  connection_->write("head");
  connection_->write(body);
  EXPECT_EQ(connection_->bufferedBytes(), 4 + body.size());
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(peerReads(4 + body.size()), "head" + body);
}

TEST_F(TcpConnectionWriteTest, APieceJustUnderTheThresholdIsQueued) {
  const std::string piece(TcpConnection::kDirectWriteBytes - 1, 'p');
  connection_->write(piece);
  EXPECT_EQ(connection_->bufferedBytes(), piece.size());
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(peerReads(piece.size()), piece);
}

std::string formatted(const std::string& ip, uint16_t port) {
  sockaddr_storage address;
  if (!parseIpAddress(ip, port, address)) return "unparsed";
  return formatAddress(reinterpret_cast<const sockaddr*>(&address));
}

TEST(FormatAddressTest, Ipv4HasDottedOctetsAndThePort) {
  EXPECT_EQ(formatted("127.0.0.1", 54321), "127.0.0.1:54321");
  EXPECT_EQ(formatted("0.0.0.0", 0), "0.0.0.0:0");
  EXPECT_EQ(formatted("255.255.255.255", 65535), "255.255.255.255:65535");
  EXPECT_EQ(formatted("10.20.3.199", 80), "10.20.3.199:80");
}

TEST(FormatAddressTest, Ipv6IsBracketed) {
  EXPECT_EQ(formatted("::1", 443), "[::1]:443");
  EXPECT_EQ(formatted("2001:db8::8:800:200c:417a", 8080), "[2001:db8::8:800:200c:417a]:8080");
}

}  // namespace
}  // namespace remora::network
