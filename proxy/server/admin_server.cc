#include "proxy/server/admin_server.h"

#include "proxy/http/h1/server_codec.h"

namespace remora::server {

// One admin client connection: one request at a time, answered synchronously.
class AdminServer::Connection : public network::ConnectionCallbacks,
                                public http::CodecOutput,
                                public http::ServerCodecCallbacks,
                                public http::RequestDecoder,
                                public Deletable {
 public:
  Connection(AdminServer& server, std::unique_ptr<network::TcpConnection> connection)
      : server_(server),
        connection_(std::move(connection)),
        resume_timer_(server.resources_.loop, [this] {
          if (!codec_->resume().ok)
            connection_->close(network::TcpConnection::CloseMode::FlushWrite);
        }) {
    http::ServerCodecLimits limits;
    limits.accept_http_10 = true;
    codec_ = http::h1::makeServerCodec(*this, *this, limits);
    connection_->setCallbacks(*this);
    connection_->startAccepted();
  }
  std::list<std::unique_ptr<Connection>>::iterator self;

  void onData(std::string_view data) override {
    const http::DispatchResult result = codec_->dispatch(data);
    if (!result.ok) {
      const std::string body(http::reasonPhrase(result.error.status));
      connection_->write("HTTP/1.1 " + std::to_string(result.error.status) + " " + body +
                         "\r\ncontent-length: " + std::to_string(body.size()) +
                         "\r\nconnection: close\r\n\r\n" + body);
      connection_->close(network::TcpConnection::CloseMode::FlushWrite);
    }
  }
  void onEof() override { connection_->close(network::TcpConnection::CloseMode::FlushWrite); }
  void onClosed(network::CloseReason) override {
    server_.resources_.deleter.defer(std::move(*self));
    server_.connections_.erase(self);
  }
  void write(std::string_view bytes) override { connection_->write(bytes); }
  http::RequestDecoder& newStream(http::ResponseEncoder& encoder) override {
    encoder_ = &encoder;
    return *this;
  }
  void decodeHeaders(http::RequestHead&& head, bool end_stream) override {
    request_ = std::move(head);
    if (end_stream) respond();
  }
  void decodeData(std::string_view, bool end_stream) override {
    if (end_stream) respond();
  }
  void decodeTrailers(http::HeaderMap&&) override { respond(); }

 private:
  void respond() {
    const AdminResponse response = server_.handler_(request_);
    http::ResponseHead head;
    head.status = response.status;
    head.headers.add("content-type", response.content_type);
    head.headers.add("content-length", std::to_string(response.body.size()));
    head.headers.add("cache-control", "no-cache, max-age=0");
    head.headers.add("x-content-type-options", "nosniff");
    encoder_->encodeHeaders(head, response.body.empty());
    if (!response.body.empty()) encoder_->encodeData(response.body, true);
    resume_timer_.fireSoon();
  }

  AdminServer& server_;
  std::unique_ptr<network::TcpConnection> connection_;
  std::unique_ptr<http::ServerCodec> codec_;
  http::ResponseEncoder* encoder_ = nullptr;
  http::RequestHead request_;
  Timer resume_timer_;
};

AdminServer::AdminServer(WorkerResources& resources, AdminHandler handler)
    : resources_(resources), handler_(std::move(handler)), socket_(resources.loop) {
  socket_.get()->data = this;
}

AdminServer::~AdminServer() { close(); }

std::string AdminServer::listen(const std::string& ip, uint32_t port) {
  sockaddr_storage address;
  if (!network::parseIpAddress(ip, static_cast<uint16_t>(port), address)) {
    return "admin address '" + ip + "' is not an IP address";
  }
  int rc = uv_tcp_bind(socket_.get(), reinterpret_cast<const sockaddr*>(&address), 0);
  if (rc == 0) rc = uv_listen(socket_.stream(), 128, &AdminServer::onConnection);
  if (rc != 0) {
    return "cannot listen on admin address " + ip + ":" + std::to_string(port) + ": " +
           uv_strerror(rc);
  }
  sockaddr_storage bound{};
  int len = sizeof(bound);
  uv_tcp_getsockname(socket_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return {};
}

void AdminServer::close() {
  socket_.close();
  connections_.clear();  // a destroyed connection reports nothing
}

void AdminServer::onConnection(uv_stream_t* server, int status) {
  auto* self = static_cast<AdminServer*>(server->data);
  if (!self || status != 0) return;
  auto tcp =
      std::make_unique<network::TcpConnection>(self->resources_.loop, self->resources_.read_buffer,
                                               self->resources_.write_batcher, 1024 * 1024);
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(tcp->handle())) != 0) return;
  self->connections_.push_back(std::make_unique<Connection>(*self, std::move(tcp)));
  self->connections_.back()->self = std::prev(self->connections_.end());
}

}  // namespace remora::server
