#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "proxy/http/h2/details.h"
#include "proxy/http/h2/server_codec.h"
#include "tests/unit/proxy/http/h2_test_support.h"

namespace remora::http::h2 {
namespace {

using ::remora::http::h2::testing::Fields;
using ::remora::http::h2::testing::hpackGetRoot;
using ::remora::http::h2::testing::hpackLiteral;
using ::remora::http::h2::testing::ParsedFrame;
using ::remora::http::h2::testing::parseFrames;
using ::remora::http::h2::testing::RawClient;
using ::remora::http::h2::testing::rawFrame;
using ::remora::http::h2::testing::RecordingOutput;
using ::remora::http::h2::testing::RecordingServerCallbacks;
using Events = std::vector<std::string>;

const Fields kGet = {
    {":method", "GET"}, {":scheme", "https"}, {":authority", "example.com"}, {":path", "/"}};

Fields withExtra(Fields fields, const Fields& extra) {
  fields.insert(fields.end(), extra.begin(), extra.end());
  return fields;
}

class H2ServerCodecTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }

  void start(const Http2Settings& settings) {
    output_.clear();
    server_ = makeServerCodec(output_, callbacks_, settings);
    client_ = std::make_unique<RawClient>();
  }

  // Sends what the client has queued to the server.
  DispatchResult send() { return server_->dispatch(client_->take()); }
  DispatchResult send(std::string_view extra) {
    return server_->dispatch(client_->take() + std::string(extra));
  }
  // HEADERS then RST_STREAM(CANCEL) for `streams` new streams, as one buffer.
  std::string openAndReset(int streams) {
    std::string bytes;
    for (int i = 0; i < streams; ++i) {
      const int32_t id = client_->submit(kGet, false);
      bytes += client_->take();
      nghttp2_submit_rst_stream(client_->session(), NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
      bytes += client_->take();
    }
    return bytes;
  }
  // Hands what the server wrote to the client.
  void reply() { ASSERT_GE(client_->receive(output_), 0); }

  RecordingOutput output_;
  RecordingServerCallbacks callbacks_;
  std::unique_ptr<ServerCodec> server_;
  std::unique_ptr<RawClient> client_;
};

TEST_F(H2ServerCodecTest, AdvertisesSettingsAndConnectionWindowOnCreation) {
  EXPECT_EQ(output_.writes().size(), 1u);
  reply();
  nghttp2_session* client = client_->session();
  EXPECT_EQ(nghttp2_session_get_remote_settings(client, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS),
            100u);
  EXPECT_EQ(nghttp2_session_get_remote_settings(client, NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE),
            65536u);
  EXPECT_EQ(nghttp2_session_get_remote_settings(client, NGHTTP2_SETTINGS_HEADER_TABLE_SIZE), 4096u);
  EXPECT_EQ(nghttp2_session_get_remote_settings(client, NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE),
            60u * 1024);
  EXPECT_EQ(nghttp2_session_get_remote_window_size(client), 1024 * 1024);
  EXPECT_EQ(server_->protocol(), Protocol::Http2);
  EXPECT_FALSE(server_->upgraded());
  EXPECT_FALSE(server_->closeAfterResponse());
}

TEST_F(H2ServerCodecTest, BuildsRequestHeadFromPseudoHeaders) {
  client_->submit(
      withExtra({{":method", "GET"},
                 {":scheme", "https"},
                 {":authority", "example.com"},
                 {":path", "/a/b?c=d"}},
                {{"user-agent", "test"}, {"cookie", "a=1"}, {"accept", "*/*"}, {"cookie", "b=2"}}));
  ASSERT_TRUE(send().ok);
  ASSERT_EQ(callbacks_.streamCount(), 1u);
  const RequestHead& head = callbacks_.stream(0).head();
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.path, "/a/b?c=d");
  EXPECT_EQ(head.authority, "example.com");
  EXPECT_EQ(head.scheme, "https");
  EXPECT_EQ(head.protocol, Protocol::Http2);
  EXPECT_EQ(h1::testing::describeFields(head.headers),
            "user-agent=test,accept=*/*,cookie=a=1; b=2");
  EXPECT_EQ(callbacks_.stream(0).events(), Events{"headers end"});
  EXPECT_EQ(server_->activeStreams(), 1u);
  EXPECT_TRUE(server_->streamActive());
}

TEST_F(H2ServerCodecTest, HostFieldStandsInForMissingAuthority) {
  client_->submit({{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {"host", "h.test"}});
  ASSERT_TRUE(send().ok);
  ASSERT_EQ(callbacks_.streamCount(), 1u);
  EXPECT_EQ(callbacks_.stream(0).head().authority, "h.test");
}

TEST_F(H2ServerCodecTest, SynchronousResponseLeavesInOneWriteWithoutHopByHopFields) {
  callbacks_.on_new_stream = [](h1::testing::RecordingRequestDecoder& decoder,
                                ResponseEncoder& encoder) {
    decoder.on_end = [&encoder] {
      ResponseHead head;
      head.status = 200;
      head.headers.add("content-type", "text/plain");
      head.headers.add("connection", "keep-alive");
      head.headers.add("keep-alive", "timeout=5");
      head.headers.add("transfer-encoding", "chunked");
      head.headers.add("upgrade", "h2c");
      head.headers.add("proxy-connection", "close");
      encoder.encodeHeaders(head, false);
      encoder.encodeData("hello", true);
    };
  };
  reply();
  output_.clear();
  client_->submitGet();
  ASSERT_TRUE(send().ok);
  EXPECT_EQ(output_.writes().size(), 1u);
  reply();
  EXPECT_EQ(client_->heads().at(1), ":status=200,content-type=text/plain");
  EXPECT_EQ(client_->bodies().at(1), "hello");
  EXPECT_EQ(client_->closed().at(1), NGHTTP2_NO_ERROR);
  EXPECT_EQ(server_->activeStreams(), 0u);
}

TEST_F(H2ServerCodecTest, DeliversOneDataEventPerFrameAndTrailers) {
  const int32_t id = client_->submit(withExtra(kGet, {}), false);
  ASSERT_TRUE(send().ok);
  const std::string frames =
      rawFrame(NGHTTP2_DATA, NGHTTP2_FLAG_NONE, id, "abc") +
      rawFrame(NGHTTP2_DATA, NGHTTP2_FLAG_NONE, id, "") +
      rawFrame(NGHTTP2_DATA, NGHTTP2_FLAG_NONE, id, "defg") +
      rawFrame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, id,
               hpackLiteral("x-checksum", "42"));
  // Split mid-frame: chunks of one frame still make one event.
  ASSERT_TRUE(server_->dispatch(frames.substr(0, 11)).ok);
  ASSERT_TRUE(server_->dispatch(frames.substr(11)).ok);
  EXPECT_EQ(callbacks_.stream(0).events(),
            (Events{"headers", "data:abc", "data:defg", "trailers:x-checksum=42"}));
}

TEST_F(H2ServerCodecTest, EndStreamOnDataFrameEndsTheRequest) {
  const int32_t id = client_->submit(kGet, false);
  ASSERT_TRUE(send(rawFrame(NGHTTP2_DATA, NGHTTP2_FLAG_END_STREAM, id, "xyz")).ok);
  EXPECT_EQ(callbacks_.stream(0).events(), (Events{"headers", "data:xyz end"}));
}

TEST_F(H2ServerCodecTest, PeerResetReachesTheDecoder) {
  const int32_t id = client_->submit(kGet, false);
  ASSERT_TRUE(send().ok);
  nghttp2_submit_rst_stream(client_->session(), NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
  ASSERT_TRUE(send().ok);
  EXPECT_EQ(callbacks_.stream(0).events(), (Events{"headers", "reset:remote reset"}));
  EXPECT_EQ(server_->activeStreams(), 0u);
}

TEST_F(H2ServerCodecTest, LocalResetSendsRstStreamWithMatchingCode) {
  client_->submit(kGet, false);
  client_->submit(kGet, false);
  ASSERT_TRUE(send().ok);
  ASSERT_EQ(callbacks_.streamCount(), 2u);
  callbacks_.encoder(0).resetStream(StreamResetReason::LocalReset);
  callbacks_.encoder(1).resetStream(StreamResetReason::RefusedStream);
  reply();
  EXPECT_EQ(client_->resets().at(1), NGHTTP2_CANCEL);
  EXPECT_EQ(client_->resets().at(3), NGHTTP2_REFUSED_STREAM);
  // The owner reset it: no callback back to it.
  EXPECT_EQ(callbacks_.stream(0).events(), Events{"headers"});
}

TEST_F(H2ServerCodecTest, ResponseBeforeRequestEndIsFollowedByNoErrorReset) {
  const int32_t id = client_->submit(kGet, false);
  ASSERT_TRUE(send().ok);
  ResponseHead head;
  head.status = 413;
  callbacks_.encoder(0).encodeHeaders(head, true);
  reply();
  EXPECT_EQ(client_->heads().at(id), ":status=413");
  EXPECT_EQ(client_->resets().at(id), NGHTTP2_NO_ERROR);
  // Body bytes still in flight are dropped, not delivered.
  ASSERT_TRUE(send(rawFrame(NGHTTP2_DATA, NGHTTP2_FLAG_END_STREAM, id, "late")).ok);
  EXPECT_EQ(callbacks_.stream(0).events(), Events{"headers"});
}

TEST_F(H2ServerCodecTest, InterimHeadsPrecedeTheFinalResponse) {
  client_->submit(kGet, false);
  ASSERT_TRUE(send().ok);
  callbacks_.encoder(0).encode100Continue();
  ResponseHead head;
  head.status = 204;
  callbacks_.encoder(0).encodeHeaders(head, true);
  reply();
  EXPECT_EQ(client_->heads().at(1), ":status=100,:status=204");
}

TEST_F(H2ServerCodecTest, GoAwayNamesLastStreamAndRefusesLaterOnes) {
  client_->submitGet();
  ASSERT_TRUE(send().ok);
  server_->goAway();
  EXPECT_TRUE(server_->closeAfterResponse());
  const int32_t late = client_->submitGet();
  ASSERT_TRUE(send().ok);
  EXPECT_EQ(callbacks_.streamCount(), 1u);
  reply();
  EXPECT_EQ(client_->goAwayError(), NGHTTP2_NO_ERROR);
  EXPECT_EQ(client_->goAwayLastStreamId(), 1);
  EXPECT_EQ(client_->closed().at(late), NGHTTP2_REFUSED_STREAM);
  // The open stream still completes.
  ResponseHead head;
  callbacks_.encoder(0).encodeHeaders(head, true);
  reply();
  EXPECT_EQ(client_->heads().at(1), ":status=200");
  EXPECT_EQ(server_->activeStreams(), 0u);
}

TEST_F(H2ServerCodecTest, GoAwayDuringDispatchRefusesTheRestOfTheRead) {
  callbacks_.on_new_stream = [this](h1::testing::RecordingRequestDecoder&, ResponseEncoder&) {
    server_->goAway();
  };
  client_->submitGet();
  const int32_t second = client_->submitGet();
  ASSERT_TRUE(send().ok);
  EXPECT_EQ(callbacks_.streamCount(), 1u);
  reply();
  EXPECT_EQ(client_->goAwayLastStreamId(), 1);
  EXPECT_EQ(client_->closed().at(second), NGHTTP2_REFUSED_STREAM);
}

TEST_F(H2ServerCodecTest, EofResetsOpenStreams) {
  client_->submit(kGet, false);
  ASSERT_TRUE(send().ok);
  server_->onEof();
  EXPECT_EQ(callbacks_.stream(0).events(), (Events{"headers", "reset:connection termination"}));
}

TEST_F(H2ServerCodecTest, StreamsAboveMaxConcurrentAreRefused) {
  Http2Settings settings;
  settings.max_concurrent_streams = 2;
  start(settings);
  client_->submit(kGet, false);
  client_->submit(kGet, false);
  const int32_t third = client_->submit(kGet, false);
  ASSERT_TRUE(send().ok);
  EXPECT_EQ(callbacks_.streamCount(), 2u);
  reply();
  EXPECT_EQ(client_->resets().at(third), NGHTTP2_REFUSED_STREAM);
}

TEST_F(H2ServerCodecTest, NonHttp2PrefaceFailsTheConnection) {
  const DispatchResult result = server_->dispatch("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error.details, details::kCodecError);
  EXPECT_TRUE(server_->closeAfterResponse());
  EXPECT_FALSE(server_->dispatch("more").ok);
}

// ---- Hardening: each case is a real nghttp2 client misbehaving on purpose ----

TEST_F(H2ServerCodecTest, RapidResetClosesTheConnectionWithGoAway) {
  Http2Settings settings;
  settings.stream_reset_burst = 10;
  settings.stream_reset_rate_per_second = 0;
  start(settings);
  const DispatchResult result = server_->dispatch(openAndReset(20));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error.details, details::kTooManyStreamResets);
  // The eleventh reset fails the connection before any later stream opens.
  EXPECT_EQ(callbacks_.streamCount(), 11u);
  EXPECT_EQ(callbacks_.stream(10).events(), (Events{"headers", "reset:connection termination"}));
  reply();
  EXPECT_EQ(client_->goAwayError(), NGHTTP2_ENHANCE_YOUR_CALM);
  EXPECT_EQ(client_->goAwayLastStreamId(), 21);
}

TEST_F(H2ServerCodecTest, ResetsWithinTheBurstAreAccepted) {
  Http2Settings settings;
  settings.stream_reset_burst = 10;
  settings.stream_reset_rate_per_second = 0;
  start(settings);
  EXPECT_TRUE(server_->dispatch(openAndReset(10)).ok);
  EXPECT_EQ(callbacks_.streamCount(), 10u);
  reply();
  EXPECT_FALSE(client_->goAwayReceived());
}

TEST_F(H2ServerCodecTest, ContinuationFloodClosesTheConnection) {
  ASSERT_TRUE(send().ok);
  std::string flood = rawFrame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_STREAM, 1,
                               hpackGetRoot() + hpackLiteral(":authority", "a"));
  for (int i = 0; i < 9; ++i) {
    flood += rawFrame(NGHTTP2_CONTINUATION, NGHTTP2_FLAG_NONE, 1, hpackLiteral("x", "y"));
  }
  flood += rawFrame(NGHTTP2_CONTINUATION, NGHTTP2_FLAG_END_HEADERS, 1, "");
  const DispatchResult result = server_->dispatch(flood);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error.details, details::kCodecError);
  EXPECT_EQ(callbacks_.streamCount(), 0u);
  reply();
  EXPECT_EQ(client_->goAwayError(), NGHTTP2_PROTOCOL_ERROR);
}

TEST_F(H2ServerCodecTest, EightContinuationsAreAccepted) {
  ASSERT_TRUE(send().ok);
  std::string headers = rawFrame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_STREAM, 1,
                                 hpackGetRoot() + hpackLiteral(":authority", "a"));
  for (int i = 0; i < 7; ++i) {
    headers += rawFrame(NGHTTP2_CONTINUATION, NGHTTP2_FLAG_NONE, 1, hpackLiteral("x", "y"));
  }
  headers += rawFrame(NGHTTP2_CONTINUATION, NGHTTP2_FLAG_END_HEADERS, 1, "");
  ASSERT_TRUE(server_->dispatch(headers).ok);
  ASSERT_EQ(callbacks_.streamCount(), 1u);
  EXPECT_EQ(callbacks_.stream(0).head().headers.count("x"), 7u);
}

TEST_F(H2ServerCodecTest, SettingsFloodClosesTheConnection) {
  std::string flood;
  for (int i = 0; i < 1001; ++i) flood += rawFrame(NGHTTP2_SETTINGS, NGHTTP2_FLAG_NONE, 0, "");
  output_.clear();
  const DispatchResult result = send(flood);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error.details, details::kFloodDetected);
  // None of the ACKs it asked for is written.
  EXPECT_TRUE(output_.bytes().empty());
}

TEST_F(H2ServerCodecTest, SettingsBelowTheAckLimitAreAnswered) {
  std::string settings;
  for (int i = 0; i < 999; ++i) settings += rawFrame(NGHTTP2_SETTINGS, NGHTTP2_FLAG_NONE, 0, "");
  output_.clear();
  ASSERT_TRUE(send(settings).ok);
  // One ACK for the client's own SETTINGS and one per raw frame.
  size_t acks = 0;
  for (const ParsedFrame& frame : parseFrames(output_.bytes())) {
    acks += frame.type == NGHTTP2_SETTINGS && frame.flags == NGHTTP2_FLAG_ACK ? 1 : 0;
  }
  EXPECT_EQ(acks, 1000u);
}

TEST_F(H2ServerCodecTest, TooManySettingsEntriesCloseTheConnection) {
  std::string entries;
  for (int i = 0; i < 33; ++i) entries += std::string("\x00\x01\x00\x00\x10\x00", 6);
  const DispatchResult result = send(rawFrame(NGHTTP2_SETTINGS, NGHTTP2_FLAG_NONE, 0, entries));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error.details, details::kCodecError);
  reply();
  EXPECT_EQ(client_->goAwayError(), NGHTTP2_ENHANCE_YOUR_CALM);
}

TEST_F(H2ServerCodecTest, PingFloodClosesTheConnection) {
  std::string flood;
  for (int i = 0; i < 1001; ++i) {
    flood += rawFrame(NGHTTP2_PING, NGHTTP2_FLAG_NONE, 0, std::string(8, 'p'));
  }
  output_.clear();
  const DispatchResult result = send(flood);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error.details, details::kFloodDetected);
  EXPECT_TRUE(output_.bytes().empty());
}

TEST_F(H2ServerCodecTest, OversizedHeaderListGets431WithoutReachingTheCallbacks) {
  const int32_t id = client_->submit(withExtra(kGet, {{"x-big", std::string(61 * 1024, 'v')}}));
  ASSERT_TRUE(send().ok);
  EXPECT_EQ(callbacks_.streamCount(), 0u);
  reply();
  EXPECT_EQ(client_->heads().at(id), ":status=431,content-length=0");
  EXPECT_EQ(client_->closed().at(id), NGHTTP2_NO_ERROR);
}

TEST_F(H2ServerCodecTest, OversizedHeadOfUnfinishedRequestIsAlsoReset) {
  const int32_t id =
      client_->submit(withExtra(kGet, {{"x-big", std::string(61 * 1024, 'v')}}), false);
  ASSERT_TRUE(send().ok);
  reply();
  EXPECT_EQ(client_->heads().at(id), ":status=431,content-length=0");
  EXPECT_EQ(client_->resets().at(id), NGHTTP2_NO_ERROR);
  // Its body never reaches anyone, and the connection goes on.
  ASSERT_TRUE(send(rawFrame(NGHTTP2_DATA, NGHTTP2_FLAG_END_STREAM, id, "body")).ok);
  client_->submitGet();
  ASSERT_TRUE(send().ok);
  EXPECT_EQ(callbacks_.streamCount(), 1u);
}

TEST_F(H2ServerCodecTest, HeaderListAtTheLimitIsAccepted) {
  // 60 KiB of name+value bytes in all, pseudo-headers included.
  size_t pseudo_bytes = 0;
  for (const auto& [name, value] : kGet) pseudo_bytes += name.size() + value.size();
  const std::string value(60 * 1024 - pseudo_bytes - 5, 'v');
  client_->submit(withExtra(kGet, {{"x-big", value}}));
  ASSERT_TRUE(send().ok);
  ASSERT_EQ(callbacks_.streamCount(), 1u);
  EXPECT_EQ(*callbacks_.stream(0).head().headers.get("x-big"), value);
}

TEST_F(H2ServerCodecTest, TooManyHeadersGet431) {
  Fields fields = kGet;
  for (int i = 0; i < 101; ++i) fields.push_back({"x-h" + std::to_string(i), "v"});
  const int32_t id = client_->submit(fields);
  ASSERT_TRUE(send().ok);
  EXPECT_EQ(callbacks_.streamCount(), 0u);
  reply();
  EXPECT_EQ(client_->heads().at(id), ":status=431,content-length=0");
}

TEST_F(H2ServerCodecTest, HundredHeadersAreAccepted) {
  Fields fields = kGet;
  for (int i = 0; i < 100; ++i) fields.push_back({"x-h" + std::to_string(i), "v"});
  client_->submit(fields);
  ASSERT_TRUE(send().ok);
  ASSERT_EQ(callbacks_.streamCount(), 1u);
  EXPECT_EQ(callbacks_.stream(0).head().headers.size(), 100u);
}

TEST_F(H2ServerCodecTest, TooManyTrailersResetTheStream) {
  const int32_t id = client_->submit(kGet, false);
  ASSERT_TRUE(send().ok);
  std::string trailers;
  for (int i = 0; i < 101; ++i) trailers += hpackLiteral("x-t" + std::to_string(i), "v");
  ASSERT_TRUE(send(rawFrame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, id,
                            trailers))
                  .ok);
  EXPECT_EQ(callbacks_.stream(0).events(), (Events{"headers", "reset:protocol error"}));
  reply();
  EXPECT_EQ(client_->resets().at(id), NGHTTP2_PROTOCOL_ERROR);
  EXPECT_EQ(server_->activeStreams(), 0u);
}

TEST_F(H2ServerCodecTest, InvalidPseudoHeadersAreResetByMessagingValidation) {
  const int32_t unknown = client_->submit(withExtra(kGet, {{":foo", "bar"}}));
  const int32_t missing_path =
      client_->submit({{":method", "GET"}, {":scheme", "https"}, {":authority", "a"}});
  const int32_t after_regular = client_->submit(
      {{":method", "GET"}, {":scheme", "https"}, {"accept", "*/*"}, {":path", "/"}});
  const int32_t connection_field = client_->submit(withExtra(kGet, {{"connection", "close"}}));
  ASSERT_TRUE(send().ok);
  EXPECT_EQ(callbacks_.streamCount(), 0u);
  reply();
  for (const int32_t id : {unknown, missing_path, after_regular, connection_field}) {
    SCOPED_TRACE(id);
    EXPECT_EQ(client_->resets().at(id), NGHTTP2_PROTOCOL_ERROR);
  }
  client_->submitGet();
  ASSERT_TRUE(send().ok);
  EXPECT_EQ(callbacks_.streamCount(), 1u);
}

TEST_F(H2ServerCodecTest, UpperCaseFieldNameIsResetByMessagingValidation) {
  // nghttp2 lower-cases names it sends, so this request is built by hand.
  ASSERT_TRUE(send().ok);
  output_.clear();
  ASSERT_TRUE(
      server_
          ->dispatch(rawFrame(
              NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, 1,
              hpackGetRoot() + hpackLiteral(":authority", "a") + hpackLiteral("X-Upper", "v")))
          .ok);
  EXPECT_EQ(callbacks_.streamCount(), 0u);
  const std::vector<ParsedFrame> frames = parseFrames(output_.bytes());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, NGHTTP2_RST_STREAM);
  EXPECT_EQ(frames[0].stream_id, 1);
  EXPECT_EQ(frames[0].payload, std::string("\x00\x00\x00\x01", 4));  // PROTOCOL_ERROR
}

TEST_F(H2ServerCodecTest, StreamProtocolErrorsPastTheLimitCloseTheConnection) {
  Http2Settings settings;
  settings.max_stream_protocol_errors = 3;
  start(settings);
  for (int i = 0; i < 3; ++i) client_->submit(withExtra(kGet, {{":foo", "bar"}}));
  ASSERT_TRUE(send().ok);
  client_->submit(withExtra(kGet, {{"x-big", std::string(61 * 1024, 'v')}}));
  const DispatchResult result = send();
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error.details, details::kTooManyStreamErrors);
  reply();
  EXPECT_EQ(client_->goAwayError(), NGHTTP2_ENHANCE_YOUR_CALM);
}

TEST_F(H2ServerCodecTest, ConnectionFailureResetsOpenStreams) {
  client_->submit(kGet, false);
  ASSERT_TRUE(send().ok);
  // DATA on stream 0 is a connection error.
  EXPECT_FALSE(send(rawFrame(NGHTTP2_DATA, NGHTTP2_FLAG_NONE, 0, "x")).ok);
  EXPECT_EQ(callbacks_.stream(0).events(), (Events{"headers", "reset:connection termination"}));
  reply();
  EXPECT_EQ(client_->goAwayError(), NGHTTP2_PROTOCOL_ERROR);
}

}  // namespace
}  // namespace remora::http::h2
