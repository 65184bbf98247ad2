// Objects a worker keeps for reuse instead of destroying them and building new ones
// for the next request (HTTP/1 streams with their filter chains and timers). Each is
// filed under what it was built for (its connection manager's config), watched through
// a weak_ptr: an object whose owner is gone is never handed out, even if a new owner
// got the same address, and is destroyed when found. Bounded: past kCapacity the
// oldest goes to the DeferredDeleter.
#pragma once

#include <memory>
#include <vector>

#include "proxy/common/deferred_deleter.h"

namespace remora {

class RecyclePool {
 public:
  static constexpr size_t kCapacity = 128;

  explicit RecyclePool(DeferredDeleter& deleter) : deleter_(deleter) {
    entries_.reserve(kCapacity);
  }

  // The object filed last under `owner` (alive, as the caller holds it), or nullptr.
  std::unique_ptr<Deletable> take(const void* owner) {
    for (size_t i = entries_.size(); i-- > 0;) {
      if (entries_[i].key != owner || entries_[i].owner.expired()) continue;
      std::unique_ptr<Deletable> object = std::move(entries_[i].object);
      entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
      return object;
    }
    // A miss is rare once traffic flows: the time to drop what nobody can take.
    std::erase_if(entries_, [this](Entry& e) {
      if (!e.owner.expired()) return false;
      deleter_.defer(std::move(e.object));
      return true;
    });
    return nullptr;
  }

  // `object` may still be on the stack (it is only destroyed later, if at all).
  template <typename Owner>
  void put(const std::shared_ptr<Owner>& owner, std::unique_ptr<Deletable> object) {
    if (entries_.size() == kCapacity) {
      deleter_.defer(std::move(entries_.front().object));
      entries_.erase(entries_.begin());
    }
    entries_.push_back({owner.get(), owner, std::move(object)});
  }

 private:
  struct Entry {
    const void* key;
    std::weak_ptr<const void> owner;
    std::unique_ptr<Deletable> object;
  };

  DeferredDeleter& deleter_;
  std::vector<Entry> entries_;
};

}  // namespace remora
