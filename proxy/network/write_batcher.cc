#include "proxy/network/write_batcher.h"

#include <algorithm>

#include "proxy/network/tcp_connection.h"

namespace remora::network {

WriteBatcher::WriteBatcher(uv_loop_t* loop) : check_(loop), idle_(loop) {
  check_.get()->data = this;
}

void WriteBatcher::schedule(TcpConnection& connection) {
  if (scheduled_.empty()) {
    uv_check_start(check_.get(), &WriteBatcher::onCheck);
    uv_idle_start(idle_.get(), &WriteBatcher::onIdle);
  }
  scheduled_.push_back(&connection);
}

void WriteBatcher::cancel(TcpConnection& connection) {
  std::replace(scheduled_.begin(), scheduled_.end(), &connection,
               static_cast<TcpConnection*>(nullptr));
}

void WriteBatcher::onCheck(uv_check_t* handle) {
  if (auto* self = static_cast<WriteBatcher*>(handle->data)) self->flushAll();
}

void WriteBatcher::flushAll() {
  // Flushing can close connections, whose callbacks may write to others: those
  // join the list and are flushed in this same pass.
  for (size_t i = 0; i < scheduled_.size(); ++i) {
    if (TcpConnection* connection = scheduled_[i]) connection->flushQueued();
  }
  scheduled_.clear();
  uv_check_stop(check_.get());
  uv_idle_stop(idle_.get());
}

}  // namespace remora::network
