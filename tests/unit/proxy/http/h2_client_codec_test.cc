// Round trips: our client codec against our server codec, bytes pumped in memory.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "proxy/http/h2/client_codec.h"
#include "tests/unit/proxy/http/h2_test_support.h"

namespace remora::http::h2 {
namespace {

using ::remora::http::h1::testing::describeFields;
using ::remora::http::h2::testing::CodecPair;
using ::remora::http::h2::testing::parseFrames;
using ::remora::http::h2::testing::RawClient;
using ::remora::http::h2::testing::RecordingOutput;
using ::remora::http::h2::testing::RecordingResponseDecoder;
using Events = std::vector<std::string>;

RequestHead getHead(std::string path = "/") {
  RequestHead head;
  head.method = "GET";
  head.path = std::move(path);
  head.authority = "backend.test";
  head.scheme = "http";
  return head;
}

RequestHead postHead() {
  RequestHead head = getHead("/upload");
  head.method = "POST";
  return head;
}

ResponseHead okHead() {
  ResponseHead head;
  head.status = 200;
  return head;
}

class H2ClientCodecTest : public ::testing::Test {
 protected:
  CodecPair pair_;
};

TEST_F(H2ClientCodecTest, GetWithoutBodyRoundTrip) {
  RecordingResponseDecoder response;
  RequestHead head = getHead("/items?page=2");
  head.headers.add("accept", "application/json");
  head.headers.add("connection", "keep-alive");
  head.headers.add("te", "trailers");
  pair_.client().newStream(response).encodeHeaders(head, true);
  ASSERT_TRUE(pair_.pump());

  ASSERT_EQ(pair_.callbacks().streamCount(), 1u);
  const RequestHead& received = pair_.callbacks().stream(0).head();
  EXPECT_EQ(received.method, "GET");
  EXPECT_EQ(received.path, "/items?page=2");
  EXPECT_EQ(received.authority, "backend.test");
  EXPECT_EQ(received.scheme, "http");
  EXPECT_EQ(describeFields(received.headers), "accept=application/json,te=trailers");
  EXPECT_EQ(pair_.callbacks().stream(0).events(), Events{"headers end"});

  ResponseHead reply = okHead();
  reply.headers.add("content-type", "text/plain");
  pair_.callbacks().encoder(0).encodeHeaders(reply, false);
  pair_.callbacks().encoder(0).encodeData("hello", true);
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(response.events(), (Events{"headers:200", "data:hello end"}));
  EXPECT_EQ(describeFields(response.head().headers), "content-type=text/plain");
  EXPECT_EQ(pair_.client().activeStreams(), 0u);
  EXPECT_EQ(pair_.server().activeStreams(), 0u);
  EXPECT_TRUE(pair_.client().reusable());
  EXPECT_TRUE(pair_.client().canStartStream());
}

TEST_F(H2ClientCodecTest, HostFieldBecomesAuthority) {
  RecordingResponseDecoder response;
  RequestHead head = getHead();
  head.authority.clear();
  head.headers.add("host", "from-host.test");
  pair_.client().newStream(response).encodeHeaders(head, true);
  ASSERT_TRUE(pair_.pump());
  const RequestHead& received = pair_.callbacks().stream(0).head();
  EXPECT_EQ(received.authority, "from-host.test");
  EXPECT_FALSE(received.headers.has("host"));
}

TEST_F(H2ClientCodecTest, PostBodyInChunks) {
  RecordingResponseDecoder response;
  RequestEncoder& request = pair_.client().newStream(response);
  request.encodeHeaders(postHead(), false);
  ASSERT_TRUE(pair_.pump());
  request.encodeData("abc", false);
  ASSERT_TRUE(pair_.pump());
  request.encodeData("de", false);
  request.encodeData("f", true);
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(pair_.callbacks().stream(0).head().method, "POST");
  // Data encoded between two flushes leaves as one DATA frame.
  EXPECT_EQ(pair_.callbacks().stream(0).events(),
            (Events{"headers", "data:abc", "data:de", "data:f end"}));
}

TEST_F(H2ClientCodecTest, TrailersBothWays) {
  RecordingResponseDecoder response;
  RequestEncoder& request = pair_.client().newStream(response);
  request.encodeHeaders(postHead(), false);
  request.encodeData("ping", false);
  HeaderMap request_trailers;
  request_trailers.add("x-request-checksum", "abc");
  request.encodeTrailers(request_trailers);
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(pair_.callbacks().stream(0).events(),
            (Events{"headers", "data:ping", "trailers:x-request-checksum=abc"}));

  ResponseEncoder& encoder = pair_.callbacks().encoder(0);
  encoder.encodeHeaders(okHead(), false);
  encoder.encodeData("pong", false);
  HeaderMap response_trailers;
  response_trailers.add("grpc-status", "0");
  response_trailers.add("grpc-message", "ok");
  encoder.encodeTrailers(response_trailers);
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(response.events(),
            (Events{"headers:200", "data:pong", "trailers:grpc-status=0,grpc-message=ok"}));
}

TEST_F(H2ClientCodecTest, TrailersWithoutBody) {
  RecordingResponseDecoder response;
  RequestEncoder& request = pair_.client().newStream(response);
  request.encodeHeaders(postHead(), false);
  HeaderMap trailers;
  trailers.add("x-t", "1");
  request.encodeTrailers(trailers);
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(pair_.callbacks().stream(0).events(), (Events{"headers", "trailers:x-t=1"}));
}

TEST_F(H2ClientCodecTest, InformationalHeadsPrecedeTheFinalOne) {
  RecordingResponseDecoder response;
  pair_.client().newStream(response).encodeHeaders(postHead(), false);
  ASSERT_TRUE(pair_.pump());
  pair_.callbacks().encoder(0).encode100Continue();
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(response.events(), Events{"1xx:100"});
  ResponseHead head;
  head.status = 201;
  pair_.callbacks().encoder(0).encodeHeaders(head, true);
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(response.events(), (Events{"1xx:100", "headers:201 end"}));
}

TEST_F(H2ClientCodecTest, ManyConcurrentStreamsAnsweredOutOfOrder) {
  constexpr int kStreams = 100;
  std::vector<std::unique_ptr<RecordingResponseDecoder>> responses;
  for (int i = 0; i < kStreams; ++i) {
    ASSERT_TRUE(pair_.client().canStartStream());
    responses.push_back(std::make_unique<RecordingResponseDecoder>());
    pair_.client()
        .newStream(*responses.back())
        .encodeHeaders(getHead("/" + std::to_string(i)), true);
  }
  // The server's SETTINGS_MAX_CONCURRENT_STREAMS (100) is reached.
  EXPECT_FALSE(pair_.client().canStartStream());
  EXPECT_EQ(pair_.client().activeStreams(), 100u);
  ASSERT_TRUE(pair_.pump());
  ASSERT_EQ(pair_.callbacks().streamCount(), static_cast<size_t>(kStreams));
  EXPECT_EQ(pair_.server().activeStreams(), 100u);
  for (int i = kStreams - 1; i >= 0; --i) {
    ResponseEncoder& encoder = pair_.callbacks().encoder(i);
    encoder.encodeHeaders(okHead(), false);
    encoder.encodeData(pair_.callbacks().stream(i).head().path, true);
  }
  ASSERT_TRUE(pair_.pump());
  for (int i = 0; i < kStreams; ++i) {
    EXPECT_EQ(responses[i]->events(),
              (Events{"headers:200", "data:/" + std::to_string(i) + " end"}));
  }
  EXPECT_EQ(pair_.client().activeStreams(), 0u);
  EXPECT_TRUE(pair_.client().canStartStream());
}

TEST_F(H2ClientCodecTest, MegabyteBodiesFlowThroughWindowUpdates) {
  // 16 times the 64 KiB stream window and the whole 1 MiB connection window: only
  // WINDOW_UPDATEs sent as decoders consume the data let it through.
  std::string body(1024 * 1024, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  RecordingResponseDecoder response;
  RequestEncoder& request = pair_.client().newStream(response);
  request.encodeHeaders(postHead(), false);
  request.encodeData(body, true);
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(pair_.callbacks().stream(0).body(), body);
  EXPECT_TRUE(pair_.callbacks().stream(0).ended());

  ResponseEncoder& encoder = pair_.callbacks().encoder(0);
  encoder.encodeHeaders(okHead(), false);
  encoder.encodeData(body, true);
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(response.body(), body);
  EXPECT_EQ(response.events().front(), "headers:200");
  // One event per 16 KiB DATA frame (SETTINGS_MAX_FRAME_SIZE); the last one ends it.
  ASSERT_EQ(response.events().size(), 1u + 64u);
  EXPECT_EQ(response.events().back(), "data:" + body.substr(body.size() - 16384) + " end");

  // The same again on the same connection: the windows were fully restored.
  RecordingResponseDecoder second;
  RequestEncoder& again = pair_.client().newStream(second);
  again.encodeHeaders(postHead(), false);
  again.encodeData(body, true);
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(pair_.callbacks().stream(1).body(), body);
}

TEST_F(H2ClientCodecTest, ClientResetReachesServerDecoder) {
  RecordingResponseDecoder response;
  RequestEncoder& request = pair_.client().newStream(response);
  request.encodeHeaders(postHead(), false);
  ASSERT_TRUE(pair_.pump());
  request.resetStream(StreamResetReason::LocalReset);
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(pair_.callbacks().stream(0).events(), (Events{"headers", "reset:remote reset"}));
  EXPECT_TRUE(response.events().empty());
  EXPECT_EQ(pair_.client().activeStreams(), 0u);
  EXPECT_EQ(pair_.server().activeStreams(), 0u);
}

TEST_F(H2ClientCodecTest, ServerResetReachesClientDecoder) {
  RecordingResponseDecoder first;
  RecordingResponseDecoder second;
  pair_.client().newStream(first).encodeHeaders(getHead(), true);
  pair_.client().newStream(second).encodeHeaders(getHead(), true);
  ASSERT_TRUE(pair_.pump());
  pair_.callbacks().encoder(0).resetStream(StreamResetReason::LocalReset);
  pair_.callbacks().encoder(1).resetStream(StreamResetReason::RefusedStream);
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(first.events(), Events{"reset:remote reset"});
  EXPECT_EQ(second.events(), Events{"reset:remote refused stream reset"});
  EXPECT_TRUE(pair_.client().reusable());
}

TEST_F(H2ClientCodecTest, ResetBeforeHeadersSendsNothing) {
  RecordingResponseDecoder response;
  RequestEncoder& request = pair_.client().newStream(response);
  EXPECT_EQ(pair_.client().activeStreams(), 1u);
  request.resetStream(StreamResetReason::LocalReset);
  EXPECT_EQ(pair_.client().activeStreams(), 0u);
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(pair_.callbacks().streamCount(), 0u);
}

TEST_F(H2ClientCodecTest, EarlyResponseCancelsTheRestOfTheRequest) {
  RecordingResponseDecoder response;
  RequestEncoder& request = pair_.client().newStream(response);
  request.encodeHeaders(postHead(), false);
  ASSERT_TRUE(pair_.pump());
  ResponseHead head;
  head.status = 413;
  pair_.callbacks().encoder(0).encodeHeaders(head, true);
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(response.events(), Events{"headers:413 end"});
  EXPECT_EQ(pair_.client().activeStreams(), 0u);
  EXPECT_EQ(pair_.server().activeStreams(), 0u);
  EXPECT_EQ(pair_.callbacks().stream(0).events(), Events{"headers"});
}

TEST_F(H2ClientCodecTest, GoAwayRefusesStreamsAboveLastStreamId) {
  RecordingResponseDecoder accepted;
  pair_.client().newStream(accepted).encodeHeaders(getHead("/accepted"), true);
  ASSERT_TRUE(pair_.pump());
  pair_.server().goAway();
  // Sent before the GOAWAY arrives: the server ignores it.
  RecordingResponseDecoder late;
  pair_.client().newStream(late).encodeHeaders(getHead("/late"), true);
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(pair_.callbacks().streamCount(), 1u);
  EXPECT_EQ(late.events(), Events{"reset:remote refused stream reset"});
  EXPECT_FALSE(pair_.client().reusable());
  EXPECT_FALSE(pair_.client().canStartStream());
  EXPECT_TRUE(pair_.server().closeAfterResponse());

  pair_.callbacks().encoder(0).encodeHeaders(okHead(), true);
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(accepted.events(), Events{"headers:200 end"});
  EXPECT_EQ(pair_.server().activeStreams(), 0u);
  EXPECT_EQ(pair_.client().activeStreams(), 0u);
}

TEST_F(H2ClientCodecTest, ClientGoAwayStopsNewStreams) {
  pair_.client().goAway();
  EXPECT_FALSE(pair_.client().reusable());
  EXPECT_FALSE(pair_.client().canStartStream());
  ASSERT_TRUE(pair_.pump());
  EXPECT_TRUE(pair_.server().closeAfterResponse());
}

TEST_F(H2ClientCodecTest, EofResetsOpenStreams) {
  EXPECT_TRUE(pair_.client().onEof());

  CodecPair pair;
  RecordingResponseDecoder response;
  pair.client().newStream(response).encodeHeaders(getHead(), true);
  ASSERT_TRUE(pair.pump());
  EXPECT_FALSE(pair.client().onEof());
  EXPECT_EQ(response.events(), Events{"reset:connection termination"});
  EXPECT_FALSE(pair.client().reusable());
}

TEST_F(H2ClientCodecTest, MalformedResponseResetsTheStream) {
  RecordingResponseDecoder response;
  pair_.client().newStream(response).encodeHeaders(getHead(), true);
  ASSERT_TRUE(pair_.pump());
  // content-length promises more than the body holds: nghttp2 resets the stream.
  ResponseHead head = okHead();
  head.headers.add("content-length", "10");
  pair_.callbacks().encoder(0).encodeHeaders(head, false);
  pair_.callbacks().encoder(0).encodeData("short", true);
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(response.events(), (Events{"headers:200", "reset:protocol error"}));
  EXPECT_TRUE(pair_.client().reusable());
}

TEST_F(H2ClientCodecTest, OversizedResponseHeadResetsTheStream) {
  RecordingResponseDecoder response;
  pair_.client().newStream(response).encodeHeaders(getHead(), true);
  ASSERT_TRUE(pair_.pump());
  ResponseHead head = okHead();
  for (int i = 0; i < 101; ++i) head.headers.add("x-h" + std::to_string(i), "v");
  pair_.callbacks().encoder(0).encodeHeaders(head, true);
  ASSERT_TRUE(pair_.pump());
  EXPECT_EQ(response.events(), Events{"reset:protocol error"});
}

TEST_F(H2ClientCodecTest, ConnectionErrorFailsDispatchAndResetsStreams) {
  RecordingOutput output;
  std::unique_ptr<ClientCodec> client = makeClientCodec(output, {});
  RecordingResponseDecoder response;
  client->newStream(response).encodeHeaders(getHead(), true);
  // A server that answers with HTTP/1.1.
  const DispatchResult result = client->dispatch("HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error.status, 502);
  EXPECT_EQ(response.events(), Events{"reset:connection termination"});
  EXPECT_FALSE(client->reusable());
}

TEST_F(H2ClientCodecTest, PrefaceAndSettingsAreWrittenOnCreation) {
  RecordingOutput output;
  const std::unique_ptr<ClientCodec> client = makeClientCodec(output, {});
  ASSERT_EQ(output.writes().size(), 1u);
  const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  ASSERT_EQ(output.bytes().substr(0, preface.size()), preface);
  const auto frames = parseFrames(std::string_view(output.bytes()).substr(preface.size()));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].type, NGHTTP2_SETTINGS);
  // HEADER_TABLE_SIZE, INITIAL_WINDOW_SIZE, MAX_HEADER_LIST_SIZE, ENABLE_PUSH=0.
  EXPECT_EQ(frames[0].payload.size(), 4u * 6u);
  EXPECT_EQ(frames[1].type, NGHTTP2_WINDOW_UPDATE);
  EXPECT_EQ(client->activeStreams(), 0u);
  EXPECT_FALSE(client->streamActive());
}

}  // namespace
}  // namespace remora::http::h2
