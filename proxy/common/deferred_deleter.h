// Objects that can die inside their own callbacks (connections, streams) are handed
// here and destroyed on a later loop turn, never under their own stack frame.
#pragma once

#include <memory>
#include <vector>

#include "proxy/common/uv_handle.h"

namespace remora {

class Deletable {
 public:
  virtual ~Deletable() = default;
};

class DeferredDeleter {
 public:
  explicit DeferredDeleter(uv_loop_t* loop) : idle_(loop) { idle_.get()->data = this; }
  ~DeferredDeleter() {
    // Destructors may defer more objects.
    while (!pending_.empty()) {
      std::vector<std::unique_ptr<Deletable>> batch;
      batch.swap(pending_);
    }
  }

  void defer(std::unique_ptr<Deletable> object) {
    if (pending_.empty()) uv_idle_start(idle_.get(), &DeferredDeleter::run);
    pending_.push_back(std::move(object));
  }

 private:
  static void run(uv_idle_t* h) {
    auto* self = static_cast<DeferredDeleter*>(h->data);
    uv_idle_stop(h);
    // Destructors may defer more objects: drain until nothing is left. The two vectors
    // trade places and keep their storage, so closing connections allocates nothing here.
    while (!self->pending_.empty()) {
      self->deleting_.swap(self->pending_);
      self->deleting_.clear();
    }
  }

  UvHandle<uv_idle_t> idle_;
  std::vector<std::unique_ptr<Deletable>> pending_;
  std::vector<std::unique_ptr<Deletable>> deleting_;
};

}  // namespace remora
