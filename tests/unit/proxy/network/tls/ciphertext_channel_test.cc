#include "proxy/network/tls/ciphertext_channel.h"

#include <gtest/gtest.h>

#include <string>

namespace remora::network::tls {
namespace {

std::string readAll(CiphertextChannel& channel, std::size_t chunk) {
  std::string out;
  std::string buffer(chunk, '\0');
  while (std::size_t n = channel.read(buffer.data(), buffer.size())) out.append(buffer, 0, n);
  return out;
}

TEST(CiphertextChannelTest, ReadsBorrowedBytesInPlace) {
  CiphertextChannel channel;
  const std::string socket_bytes = "record one";
  channel.feed(socket_bytes);
  EXPECT_EQ(channel.inputSize(), 10u);
  EXPECT_EQ(readAll(channel, 4), "record one");
  EXPECT_EQ(channel.inputSize(), 0u);
}

TEST(CiphertextChannelTest, KeepUnreadCopiesOnlyWhatIsLeftBeforeTheBufferIsReused) {
  CiphertextChannel channel;
  std::string read_buffer = "0123456789";
  channel.feed(read_buffer);
  char head[4];
  ASSERT_EQ(channel.read(head, sizeof(head)), 4u);
  channel.keepUnread();
  read_buffer.assign("XXXXXXXXXX");  // the worker reuses its read buffer
  EXPECT_EQ(channel.inputSize(), 6u);
  EXPECT_EQ(readAll(channel, 3), "456789");
}

TEST(CiphertextChannelTest, KeptBytesComeBeforeNewlyFedOnes) {
  CiphertextChannel channel;
  std::string first = "partial-";
  channel.feed(first);
  channel.keepUnread();
  first.assign("garbage!");
  const std::string second = "record";
  channel.feed(second);
  EXPECT_EQ(channel.inputSize(), 14u);
  EXPECT_EQ(readAll(channel, 5), "partial-record");
}

TEST(CiphertextChannelTest, FeedingTwiceKeepsTheFirstBytes) {
  CiphertextChannel channel;
  std::string first = "ab";
  channel.feed(first);
  const std::string second = "cd";
  channel.feed(second);  // `first` may go away now
  first.assign("zz");
  EXPECT_EQ(readAll(channel, 16), "abcd");
}

TEST(CiphertextChannelTest, TakeSwapsIntoAnEmptyQueueAndAppendsToAFullOne) {
  CiphertextChannel channel;
  channel.write("abc", 3);
  EXPECT_TRUE(channel.hasOutput());
  std::string queue;
  EXPECT_EQ(channel.take(queue), 3u);
  EXPECT_EQ(queue, "abc");
  EXPECT_FALSE(channel.hasOutput());
  channel.write("def", 3);
  EXPECT_EQ(channel.take(queue), 3u);
  EXPECT_EQ(queue, "abcdef");
  EXPECT_EQ(channel.take(queue), 0u);
  EXPECT_EQ(queue, "abcdef");
}

TEST(CiphertextChannelTest, BioReadsWritesAndAsksForRetryWhenEmpty) {
  CiphertextChannel channel;
  BIO* bio = channel.newBio();
  ASSERT_NE(bio, nullptr);
  char buffer[8];
  EXPECT_EQ(BIO_read(bio, buffer, sizeof(buffer)), -1);
  EXPECT_TRUE(BIO_should_retry(bio));
  EXPECT_TRUE(BIO_should_read(bio));
  EXPECT_EQ(BIO_eof(bio), 0);  // no bytes yet is not the end of the stream

  const std::string bytes = "hello";
  channel.feed(bytes);
  EXPECT_EQ(BIO_ctrl_pending(bio), 5u);
  EXPECT_EQ(BIO_read(bio, buffer, sizeof(buffer)), 5);
  EXPECT_FALSE(BIO_should_retry(bio));
  EXPECT_EQ(std::string(buffer, 5), "hello");

  EXPECT_EQ(BIO_write(bio, "record", 6), 6);
  EXPECT_EQ(BIO_flush(bio), 1);
  std::string queue;
  channel.take(queue);
  EXPECT_EQ(queue, "record");
  BIO_free(bio);
}

}  // namespace
}  // namespace remora::network::tls
