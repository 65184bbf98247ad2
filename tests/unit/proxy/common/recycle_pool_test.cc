#include "proxy/common/recycle_pool.h"

#include <gtest/gtest.h>
#include <uv.h>

#include <memory>

namespace remora {
namespace {

// Counts how many are alive, so a test sees when the pool destroys one.
struct Tracked : Deletable {
  explicit Tracked(int& alive) : alive_(alive) { ++alive_; }
  ~Tracked() override { --alive_; }
  int& alive_;
};

class RecyclePoolTest : public ::testing::Test {
 protected:
  RecyclePoolTest() {
    uv_loop_init(&loop_);
    deleter_ = std::make_unique<DeferredDeleter>(&loop_);
    pool_ = std::make_unique<RecyclePool>(*deleter_);
  }
  ~RecyclePoolTest() override {
    pool_.reset();
    deleter_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }
  void runDeferred() { uv_run(&loop_, UV_RUN_NOWAIT); }

  uv_loop_t loop_;
  std::unique_ptr<DeferredDeleter> deleter_;
  std::unique_ptr<RecyclePool> pool_;
  int alive_ = 0;
};

TEST_F(RecyclePoolTest, HandsBackWhatWasFiledUnderTheSameOwnerLastInFirstOut) {
  const auto owner = std::make_shared<int>(1);
  const auto other = std::make_shared<int>(2);
  auto first = std::make_unique<Tracked>(alive_);
  auto second = std::make_unique<Tracked>(alive_);
  const Deletable* first_ptr = first.get();
  const Deletable* second_ptr = second.get();
  pool_->put(owner, std::move(first));
  pool_->put(owner, std::move(second));
  EXPECT_EQ(pool_->take(other.get()), nullptr);
  EXPECT_EQ(pool_->take(owner.get()).get(), second_ptr);
  EXPECT_EQ(pool_->take(owner.get()).get(), first_ptr);
  EXPECT_EQ(pool_->take(owner.get()), nullptr);
}

TEST_F(RecyclePoolTest, NeverHandsOutWhatBelongsToAGoneOwner) {
  auto owner = std::make_shared<int>(1);
  const void* address = owner.get();
  pool_->put(owner, std::make_unique<Tracked>(alive_));
  owner.reset();
  EXPECT_EQ(pool_->take(address), nullptr);
  EXPECT_EQ(alive_, 1);  // destroyed on a later loop turn, not under the caller
  runDeferred();
  EXPECT_EQ(alive_, 0);
}

TEST_F(RecyclePoolTest, PastItsCapacityTheOldestIsDestroyed) {
  const auto owner = std::make_shared<int>(1);
  auto oldest = std::make_unique<Tracked>(alive_);
  const Deletable* oldest_ptr = oldest.get();
  pool_->put(owner, std::move(oldest));
  for (size_t i = 1; i < RecyclePool::kCapacity + 1; ++i) {
    pool_->put(owner, std::make_unique<Tracked>(alive_));
  }
  runDeferred();
  EXPECT_EQ(alive_, static_cast<int>(RecyclePool::kCapacity));
  for (size_t i = 0; i < RecyclePool::kCapacity; ++i) {
    std::unique_ptr<Deletable> taken = pool_->take(owner.get());
    ASSERT_NE(taken, nullptr);
    EXPECT_NE(taken.get(), oldest_ptr);
  }
}

}  // namespace
}  // namespace remora
