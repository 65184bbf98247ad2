// The admin HTTP endpoint, served on the main thread's loop with the same h1 codec
// as the data plane. Handlers are plain functions of the request.
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <string>

#include "proxy/common/worker_resources.h"
#include "proxy/http/codec.h"
#include "proxy/network/downstream_connection.h"
#include "proxy/network/tcp_connection.h"

namespace remora::server {

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=UTF-8";
  std::string body;
};

using AdminHandler = std::function<AdminResponse(const http::RequestHead&)>;

class AdminServer {
 public:
  AdminServer(WorkerResources& resources, AdminHandler handler);
  ~AdminServer();
  // Binds and listens; returns an error message or empty.
  std::string listen(const std::string& ip, uint32_t port);
  uint16_t port() const { return port_; }
  void close();

 private:
  class Connection;
  static void onConnection(uv_stream_t* server, int status);

  WorkerResources& resources_;
  AdminHandler handler_;
  UvHandle<uv_tcp_t> socket_;
  uint16_t port_ = 0;
  std::list<std::unique_ptr<Connection>> connections_;
};

}  // namespace remora::server
