// spare_buffers: a drained buffer's storage goes to the next empty buffer on the same
// thread, within the per-buffer and per-thread bounds.
#include "proxy/common/spare_buffers.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace remora::spare_buffers {
namespace {

class SpareBuffersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kept().buffers.clear();
    kept().bytes = 0;
  }
};

TEST_F(SpareBuffersTest, GivenStorageGoesToTheNextEmptyBuffer) {
  std::string drained(1000, 'x');
  const char* storage = drained.data();
  give(drained);
  EXPECT_TRUE(drained.empty());
  EXPECT_FALSE(onHeap(drained));

  std::string next;
  take(next);
  EXPECT_EQ(next.data(), storage);
  EXPECT_TRUE(next.empty());
  EXPECT_GE(next.capacity(), 1000u);
  EXPECT_TRUE(kept().buffers.empty());
  EXPECT_EQ(kept().bytes, 0u);
}

TEST_F(SpareBuffersTest, TakeLeavesABufferWithContentOrStorageAlone) {
  std::string drained(1000, 'x');
  give(drained);
  std::string with_content = "abc";
  take(with_content);
  EXPECT_EQ(with_content, "abc");
  EXPECT_EQ(kept().buffers.size(), 1u);

  std::string with_storage;
  with_storage.reserve(100);
  const char* own = with_storage.data();
  take(with_storage);
  EXPECT_EQ(with_storage.data(), own);
  EXPECT_EQ(kept().buffers.size(), 1u);
}

TEST_F(SpareBuffersTest, SmallStringsAndOversizedBuffersAreNotKept) {
  std::string small = "short";
  give(small);
  EXPECT_TRUE(small.empty());
  EXPECT_TRUE(kept().buffers.empty());

  std::string huge(kMaxKeptCapacity + 1, 'x');
  give(huge);
  EXPECT_FALSE(onHeap(huge));
  EXPECT_TRUE(kept().buffers.empty());
  EXPECT_EQ(kept().bytes, 0u);
}

TEST_F(SpareBuffersTest, KeptBytesStayWithinThePerThreadBound) {
  const size_t per_buffer = kMaxKeptCapacity;
  const size_t fit = kMaxKeptBytes / per_buffer;
  for (size_t i = 0; i < fit + 3; ++i) {
    std::string buffer(per_buffer, 'x');
    give(buffer);
    EXPECT_FALSE(onHeap(buffer));
  }
  EXPECT_LE(kept().bytes, kMaxKeptBytes);
  EXPECT_LT(kept().buffers.size(), fit + 3);
  EXPECT_GE(kept().buffers.size(), fit - 1);
}

TEST_F(SpareBuffersTest, EachThreadHasItsOwnSpares) {
  std::string drained(1000, 'x');
  give(drained);
  size_t seen_on_other_thread = 1;
  std::thread([&] { seen_on_other_thread = kept().buffers.size(); }).join();
  EXPECT_EQ(seen_on_other_thread, 0u);
  EXPECT_EQ(kept().buffers.size(), 1u);
}

}  // namespace
}  // namespace remora::spare_buffers
