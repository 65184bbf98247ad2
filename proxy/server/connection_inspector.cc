#include "proxy/server/connection_inspector.h"

#include "proxy/network/tls/tls_inspector.h"

namespace remora::server {

ConnectionInspector::ConnectionInspector(WorkerResources& resources,
                                         std::unique_ptr<network::TcpConnection> connection,
                                         std::chrono::milliseconds timeout, Decided decided)
    : connection_(std::move(connection)),
      timeout_(resources.loop, [this] { closeNow(); }),
      decided_(std::move(decided)) {
  connection_->setCallbacks(*this);
  connection_->startAccepted();
  timeout_.arm(timeout);
}

ConnectionInspector::~ConnectionInspector() = default;

std::unique_ptr<network::TcpConnection> ConnectionInspector::takeConnection() {
  return std::move(connection_);
}

void ConnectionInspector::closeNow() {
  timeout_.disarm();
  if (connection_ && connection_->open()) {
    connection_->close(network::TcpConnection::CloseMode::Abort);
  } else {
    notifyClosed();
  }
}

void ConnectionInspector::onData(std::string_view data) {
  buffered_.append(data);
  namespace tls = network::tls;
  tls::ClientHelloInfo info;
  switch (tls::parseClientHello(buffered_, info)) {
    case tls::ClientHelloParse::Complete:
      decide(true, info.server_name);
      return;
    case tls::ClientHelloParse::NotClientHello:
      decide(false, {});
      return;
    case tls::ClientHelloParse::NeedMoreBytes:
      return;  // the timer bounds the wait
  }
}

void ConnectionInspector::decide(bool tls, const std::string& server_name) {
  timeout_.disarm();
  if (auto decided = std::exchange(decided_, nullptr)) decided(*this, tls, server_name);
}

}  // namespace remora::server
