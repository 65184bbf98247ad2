// Owning wrapper for libuv handles. libuv may still touch a handle after
// uv_close() until its close callback runs, so the memory is freed there and
// nowhere else; the owner just drops the wrapper.
#pragma once

#include <uv.h>

#include <utility>

namespace remora {

inline int initHandle(uv_loop_t* loop, uv_tcp_t* h) { return uv_tcp_init(loop, h); }
inline int initHandle(uv_loop_t* loop, uv_timer_t* h) { return uv_timer_init(loop, h); }
inline int initHandle(uv_loop_t* loop, uv_idle_t* h) { return uv_idle_init(loop, h); }
inline int initHandle(uv_loop_t* loop, uv_signal_t* h) { return uv_signal_init(loop, h); }
inline int initHandle(uv_loop_t* loop, uv_check_t* h) { return uv_check_init(loop, h); }

template <typename T>
class UvHandle {
 public:
  UvHandle() = default;
  explicit UvHandle(uv_loop_t* loop) : handle_(new T{}) { initHandle(loop, handle_); }
  // For handles whose init takes extra arguments (uv_async_t): call it on get()
  // right after construction.
  static UvHandle adopt(T* handle) {
    UvHandle h;
    h.handle_ = handle;
    return h;
  }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;
  UvHandle(UvHandle&& o) noexcept : handle_(std::exchange(o.handle_, nullptr)) {}
  UvHandle& operator=(UvHandle&& o) noexcept {
    if (this != &o) {
      close();
      handle_ = std::exchange(o.handle_, nullptr);
    }
    return *this;
  }
  ~UvHandle() { close(); }

  T* get() const { return handle_; }
  uv_handle_t* base() const { return reinterpret_cast<uv_handle_t*>(handle_); }
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(handle_); }
  explicit operator bool() const { return handle_ != nullptr; }

  // Idempotent. No callback of the handle runs after this returns.
  void close() {
    if (!handle_) return;
    base()->data = nullptr;
    uv_close(base(), [](uv_handle_t* h) { delete reinterpret_cast<T*>(h); });
    handle_ = nullptr;
  }

 private:
  T* handle_ = nullptr;
};

}  // namespace remora
