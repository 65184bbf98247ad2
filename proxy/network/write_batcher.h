// Coalesces a connection's writes within one loop iteration into one syscall: a
// response head and its body, or a request and its body, leave together. Writes
// append to the connection's queue; the batcher flushes every touched connection
// in a uv_check callback (after the I/O callbacks of this iteration). A uv_idle
// handle keeps the poll from blocking while anything waits, so writes made from
// timer callbacks go out at once too.
#pragma once

#include <vector>

#include "proxy/common/uv_handle.h"

namespace remora::network {

class TcpConnection;

class WriteBatcher {
 public:
  explicit WriteBatcher(uv_loop_t* loop);
  void schedule(TcpConnection& connection);
  void cancel(TcpConnection& connection);

 private:
  static void onCheck(uv_check_t* handle);
  static void onIdle(uv_idle_t*) {}
  void flushAll();

  UvHandle<uv_check_t> check_;
  UvHandle<uv_idle_t> idle_;
  std::vector<TcpConnection*> scheduled_;
};

}  // namespace remora::network
