// Per-stream backpressure in the HTTP/2 codecs: a stream whose consumer is slow keeps
// its receive window closed (the connection window and the other streams carry on),
// and a stream whose peer does not open its window reports its queued body against
// the stream buffer limit.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "proxy/http/h2/client_codec.h"
#include "proxy/http/h2/details.h"
#include "proxy/http/h2/server_codec.h"
#include "tests/unit/proxy/http/h2_test_support.h"

namespace remora::http::h2 {
namespace {

using ::remora::http::h2::testing::CodecPair;
using ::remora::http::h2::testing::Fields;
using ::remora::http::h2::testing::parseFrames;
using ::remora::http::h2::testing::RawClient;
using ::remora::http::h2::testing::rawFrame;
using ::remora::http::h2::testing::RecordingOutput;
using ::remora::http::h2::testing::RecordingResponseDecoder;
using ::remora::http::h2::testing::RecordingServerCallbacks;
using Events = std::vector<std::string>;

const Fields kPost = {
    {":method", "POST"}, {":scheme", "http"}, {":authority", "example.com"}, {":path", "/up"}};

// More than half of the default 64 KiB stream window, so returning it is worth a
// WINDOW_UPDATE (nghttp2 batches smaller increments).
constexpr size_t kBodyBytes = 40000;

// The WINDOW_UPDATE increments in `bytes`, per stream id.
std::map<int32_t, uint32_t> windowUpdates(std::string_view bytes) {
  std::map<int32_t, uint32_t> updates;
  for (const auto& frame : parseFrames(bytes)) {
    if (frame.type != NGHTTP2_WINDOW_UPDATE || frame.payload.size() != 4) continue;
    const auto byte = [&](size_t i) { return static_cast<uint8_t>(frame.payload[i]); };
    updates[frame.stream_id] += (uint32_t{byte(0)} & 0x7f) << 24 | uint32_t{byte(1)} << 16 |
                                uint32_t{byte(2)} << 8 | byte(3);
  }
  return updates;
}

// DATA frames carrying `total` bytes on `stream_id`, without END_STREAM.
std::string dataFrames(int32_t stream_id, size_t total) {
  std::string bytes;
  while (total > 0) {
    const size_t n = std::min<size_t>(total, 16384);
    bytes += rawFrame(NGHTTP2_DATA, NGHTTP2_FLAG_NONE, stream_id, std::string(n, 'x'));
    total -= n;
  }
  return bytes;
}

class H2ServerFlowControlTest : public ::testing::Test {
 protected:
  void start(const Http2Settings& settings) {
    server_ = makeServerCodec(output_, callbacks_, settings);
    output_.clear();
  }
  DispatchResult send(std::string_view extra = {}) {
    return server_->dispatch(client_.take() + std::string(extra));
  }

  RecordingOutput output_;
  RecordingServerCallbacks callbacks_;
  std::unique_ptr<ServerCodec> server_;
  RawClient client_;
};

TEST_F(H2ServerFlowControlTest, ReadDisabledStreamKeepsItsWindowClosedUntilEnabled) {
  start({});
  const int32_t id = client_.submit(kPost, false);
  ASSERT_TRUE(send().ok);
  ASSERT_EQ(callbacks_.streamCount(), 1u);
  callbacks_.encoder(0).setReadEnabled(false);
  output_.clear();

  ASSERT_TRUE(send(dataFrames(id, kBodyBytes)).ok);
  // The bytes still reach the decoder; only the connection window is reopened.
  EXPECT_EQ(callbacks_.stream(0).body().size(), kBodyBytes);
  std::map<int32_t, uint32_t> updates = windowUpdates(output_.bytes());
  EXPECT_EQ(updates.count(id), 0u);

  output_.clear();
  callbacks_.encoder(0).setReadEnabled(true);
  updates = windowUpdates(output_.bytes());
  EXPECT_EQ(updates[id], kBodyBytes);
}

TEST_F(H2ServerFlowControlTest, ReadEnabledStreamReturnsItsWindowAtOnce) {
  start({});
  const int32_t id = client_.submit(kPost, false);
  ASSERT_TRUE(send(std::string()).ok);
  output_.clear();
  ASSERT_TRUE(send(dataFrames(id, kBodyBytes)).ok);
  EXPECT_GE(windowUpdates(output_.bytes())[id], kBodyBytes / 2);
}

TEST_F(H2ServerFlowControlTest, OtherStreamsKeepFlowingWhileOneIsReadDisabled) {
  Http2Settings settings;
  // Updated once half of it is consumed: more than one stream's bytes.
  settings.initial_connection_window_size = 100000;
  start(settings);
  const int32_t slow = client_.submit(kPost, false);
  const int32_t other = client_.submit(kPost, false);
  ASSERT_TRUE(send().ok);
  callbacks_.encoder(0).setReadEnabled(false);
  output_.clear();
  ASSERT_TRUE(send(dataFrames(slow, kBodyBytes) + dataFrames(other, kBodyBytes)).ok);
  std::map<int32_t, uint32_t> updates = windowUpdates(output_.bytes());
  EXPECT_EQ(updates.count(slow), 0u);
  EXPECT_GE(updates[other], kBodyBytes / 2);
  // More than the other stream alone consumed: the held stream's bytes were returned
  // to the connection window at once.
  EXPECT_GT(updates[0], kBodyBytes);
}

TEST_F(H2ServerFlowControlTest, QueuedResponseBodyCrossesTheStreamBufferLimit) {
  Http2Settings settings;
  settings.connection_buffer_limit = 100;
  start(settings);
  // The client grants no stream window: the response body stays queued in the codec.
  const nghttp2_settings_entry zero_window{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 0};
  nghttp2_submit_settings(client_.session(), NGHTTP2_FLAG_NONE, &zero_window, 1);
  const int32_t id = client_.submit(kPost, false);
  ASSERT_TRUE(send().ok);
  ResponseHead head;
  head.status = 200;
  callbacks_.encoder(0).encodeHeaders(head, false);
  callbacks_.encoder(0).encodeData(std::string(80, 'a'), false);
  EXPECT_EQ(callbacks_.stream(0).events(), Events{"headers"});
  callbacks_.encoder(0).encodeData(std::string(80, 'b'), false);
  EXPECT_EQ(callbacks_.stream(0).events(), (Events{"headers", "above"}));

  // The client opens the window: the queue drains below half the limit.
  ASSERT_GE(client_.receive(output_), 0);
  ASSERT_TRUE(send(rawFrame(NGHTTP2_WINDOW_UPDATE, NGHTTP2_FLAG_NONE, id,
                            std::string("\x00\x00\x03\xe8", 4)))
                  .ok);
  EXPECT_EQ(callbacks_.stream(0).events(), (Events{"headers", "above", "below"}));
}

// A transport whose buffer level the test sets.
class BackedUpOutput : public RecordingOutput {
 public:
  size_t bufferedBytes() const override { return buffered; }
  size_t buffered = 0;
};

TEST(H2OutboundFramesTest, FramesWaitWhileTheTransportIsFullAndCountAgainstTheLimit) {
  BackedUpOutput output;
  RecordingServerCallbacks callbacks;
  Http2Settings settings;
  settings.connection_buffer_limit = 1000;
  settings.max_outbound_frames = 5;
  std::unique_ptr<ServerCodec> server = makeServerCodec(output, callbacks, settings);
  RawClient client;
  ASSERT_TRUE(server->dispatch(client.take()).ok);
  output.clear();

  const auto ping = [&] {
    return rawFrame(NGHTTP2_PING, NGHTTP2_FLAG_NONE, 0, std::string(8, 'p'));
  };
  output.buffered = 2000;
  ASSERT_TRUE(server->dispatch(ping() + ping() + ping()).ok);
  EXPECT_TRUE(output.bytes().empty());

  // The transport drained: the held ACKs leave.
  output.buffered = 0;
  server->onBelowLowWatermark();
  size_t acks = 0;
  for (const auto& frame : parseFrames(output.bytes())) {
    acks += frame.type == NGHTTP2_PING && (frame.flags & NGHTTP2_FLAG_ACK) != 0 ? 1 : 0;
  }
  EXPECT_EQ(acks, 3u);

  output.buffered = 2000;
  std::string flood;
  for (int i = 0; i < 6; ++i) flood += ping();
  const DispatchResult result = server->dispatch(flood);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error.details, details::kFloodDetected);
}

TEST(H2ClientFlowControlTest, ReadDisabledStreamKeepsItsWindowClosedUntilEnabled) {
  CodecPair pair;
  RecordingResponseDecoder response;
  RequestHead head;
  head.method = "GET";
  head.path = "/";
  head.authority = "backend.test";
  head.scheme = "http";
  RequestEncoder& encoder = pair.client().newStream(response);
  encoder.encodeHeaders(head, true);
  ASSERT_TRUE(pair.pump());
  ResponseHead ok;
  ok.status = 200;
  pair.callbacks().encoder(0).encodeHeaders(ok, false);
  ASSERT_TRUE(pair.pump());
  encoder.setReadEnabled(false);

  pair.callbacks().encoder(0).encodeData(std::string(kBodyBytes, 'r'), false);
  const std::string response_bytes = pair.serverOut().bytes();
  pair.serverOut().clear();
  ASSERT_TRUE(pair.client().dispatch(response_bytes).ok);
  EXPECT_EQ(response.body().size(), kBodyBytes);
  const int32_t id = parseFrames(response_bytes).front().stream_id;
  EXPECT_EQ(windowUpdates(pair.clientOut().bytes()).count(id), 0u);

  pair.clientOut().clear();
  encoder.setReadEnabled(true);
  EXPECT_EQ(windowUpdates(pair.clientOut().bytes())[id], kBodyBytes);
}

TEST(H2ClientFlowControlTest, QueuedRequestBodyCrossesTheStreamBufferLimit) {
  Http2Settings server_settings;
  server_settings.initial_stream_window_size = 0;
  Http2Settings client_settings;
  client_settings.connection_buffer_limit = 100;
  CodecPair pair(server_settings, client_settings);
  ASSERT_TRUE(pair.pump());
  RecordingResponseDecoder response;
  RequestHead head;
  head.method = "POST";
  head.path = "/up";
  head.authority = "backend.test";
  head.scheme = "http";
  RequestEncoder& encoder = pair.client().newStream(response);
  encoder.encodeHeaders(head, false);
  encoder.encodeData(std::string(150, 'q'), false);
  ASSERT_TRUE(pair.pump());
  EXPECT_EQ(response.events(), Events{"above"});
}

}  // namespace
}  // namespace remora::http::h2
