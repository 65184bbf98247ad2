#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "proxy/http/h1/client_codec.h"
#include "proxy/http/h1/details.h"
#include "tests/unit/proxy/http/h1_test_support.h"

namespace remora::http::h1 {
namespace {

using ::remora::http::h1::testing::RecordingOutput;
using ::remora::http::h1::testing::RecordingResponseDecoder;
using Events = std::vector<std::string>;

class H1ClientCodecTest : public ::testing::Test {
 protected:
  static RequestHead requestHead(std::string method, std::string path,
                                 std::vector<HeaderEntry> fields = {}) {
    RequestHead head;
    head.method = std::move(method);
    head.path = std::move(path);
    head.authority = "backend.example";
    for (const HeaderEntry& field : fields) head.headers.add(field.name, field.value);
    return head;
  }
  // Starts a stream and sends a bodiless request with `method`.
  RequestEncoder& sendRequest(std::string method = "GET") {
    RequestEncoder& encoder = codec_.newStream(decoder_);
    encoder.encodeHeaders(requestHead(std::move(method), "/"), true);
    output_.clear();
    return encoder;
  }
  DispatchResult dispatchByteByByte(std::string_view data) {
    for (size_t i = 0; i < data.size(); ++i) {
      DispatchResult result = codec_.dispatch(data.substr(i, 1));
      if (!result.ok) return result;
    }
    return DispatchResult::success();
  }

  RecordingOutput output_;
  ClientConnection codec_{output_};
  RecordingResponseDecoder decoder_;
};

// ---- Request encoding ----

TEST_F(H1ClientCodecTest, EncodesBodilessRequestInOneWrite) {
  RequestEncoder& encoder = codec_.newStream(decoder_);
  encoder.encodeHeaders(
      requestHead("GET", "/p?q=1", {{"host", "ignored"}, {"x-a", "b"}, {"transfer-encoding", "x"}}),
      true);
  EXPECT_EQ(
      output_.writes(),
      std::vector<std::string>({"GET /p?q=1 HTTP/1.1\r\nhost: backend.example\r\nx-a: b\r\n\r\n"}));
  EXPECT_TRUE(codec_.streamActive());
}

TEST_F(H1ClientCodecTest, HostFieldUsedWhenAuthorityIsEmpty) {
  RequestHead head = requestHead("GET", "", {{"host", "from-field"}});
  head.authority.clear();
  codec_.newStream(decoder_).encodeHeaders(head, true);
  EXPECT_EQ(output_.bytes(), "GET / HTTP/1.1\r\nhost: from-field\r\n\r\n");
}

TEST_F(H1ClientCodecTest, BodilessPostGetsZeroContentLength) {
  codec_.newStream(decoder_).encodeHeaders(requestHead("POST", "/submit"), true);
  EXPECT_EQ(output_.bytes(),
            "POST /submit HTTP/1.1\r\nhost: backend.example\r\ncontent-length: 0\r\n\r\n");
}

TEST_F(H1ClientCodecTest, ContentLengthBodyIsWrittenRaw) {
  RequestEncoder& encoder = codec_.newStream(decoder_);
  encoder.encodeHeaders(requestHead("PUT", "/x", {{"content-length", "5"}}), false);
  encoder.encodeData("hel", false);
  encoder.encodeData("lo", true);
  EXPECT_EQ(
      output_.writes(),
      std::vector<std::string>(
          {"PUT /x HTTP/1.1\r\nhost: backend.example\r\ncontent-length: 5\r\n\r\n", "hel", "lo"}));
}

TEST_F(H1ClientCodecTest, StreamingBodyIsChunkedWithTrailers) {
  RequestEncoder& encoder = codec_.newStream(decoder_);
  encoder.encodeHeaders(requestHead("POST", "/grpc"), false);
  encoder.encodeData("abc", false);
  HeaderMap trailers;
  trailers.add("x-sum", "9");
  encoder.encodeTrailers(trailers);
  EXPECT_EQ(output_.bytes(),
            "POST /grpc HTTP/1.1\r\nhost: backend.example\r\ntransfer-encoding: chunked\r\n\r\n"
            "3\r\nabc\r\n0\r\nx-sum: 9\r\n\r\n");
}

TEST_F(H1ClientCodecTest, ConnectRequestUsesAuthorityFormAndNoFraming) {
  RequestEncoder& encoder = codec_.newStream(decoder_);
  RequestHead head = requestHead("CONNECT", "");
  head.authority = "db.example:5432";
  encoder.encodeHeaders(head, false);
  encoder.encodeData("raw", false);
  EXPECT_EQ(output_.bytes(),
            "CONNECT db.example:5432 HTTP/1.1\r\nhost: db.example:5432\r\n\r\nraw");
}

// ---- Response parsing ----

TEST_F(H1ClientCodecTest, ContentLengthResponse) {
  sendRequest();
  ASSERT_TRUE(codec_.dispatch("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Up:  v \r\n\r\nhello").ok);
  EXPECT_EQ(decoder_.events(), Events({"headers:200", "data:hello end"}));
  EXPECT_EQ(testing::describeFields(decoder_.head().headers), "content-length=5,x-up=v");
  EXPECT_FALSE(codec_.streamActive());
  EXPECT_TRUE(codec_.reusable());
}

TEST_F(H1ClientCodecTest, ContentLengthResponseByteByByte) {
  sendRequest();
  ASSERT_TRUE(dispatchByteByByte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc").ok);
  EXPECT_EQ(decoder_.events(), Events({"headers:200", "data:a", "data:b", "data:c end"}));
  EXPECT_TRUE(codec_.reusable());
}

TEST_F(H1ClientCodecTest, ReusableOnlyOnceTheResponseEnds) {
  sendRequest();
  EXPECT_FALSE(codec_.reusable());
  bool reusable_at_end = false;
  decoder_.on_end = [&] { reusable_at_end = codec_.reusable(); };
  ASSERT_TRUE(codec_.dispatch("HTTP/1.1 204 No Content\r\n\r\n").ok);
  EXPECT_EQ(decoder_.events(), Events({"headers:204 end"}));
  EXPECT_TRUE(reusable_at_end);
}

TEST_F(H1ClientCodecTest, ChunkedResponseWithTrailers) {
  sendRequest();
  ASSERT_TRUE(codec_
                  .dispatch("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "4\r\nwiki\r\n5\r\npedia\r\n0\r\ngrpc-status: 0\r\n\r\n")
                  .ok);
  EXPECT_EQ(decoder_.events(),
            Events({"headers:200", "data:wiki", "data:pedia", "trailers:grpc-status=0"}));
  EXPECT_TRUE(codec_.reusable());
}

TEST_F(H1ClientCodecTest, ChunkedResponseByteByByte) {
  sendRequest();
  ASSERT_TRUE(dispatchByteByByte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "4\r\nwiki\r\n0\r\n\r\n")
                  .ok);
  EXPECT_EQ(decoder_.body(), "wiki");
  EXPECT_EQ(decoder_.events().back(), "data: end");
}

TEST_F(H1ClientCodecTest, EverySplitPointGivesTheSameResponse) {
  const std::string response =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Name: some value\r\n"
      "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n";
  for (size_t split = 0; split <= response.size(); ++split) {
    ClientConnection codec(output_);
    RecordingResponseDecoder decoder;
    codec.newStream(decoder).encodeHeaders(requestHead("POST", "/"), true);
    ASSERT_TRUE(codec.dispatch(std::string_view(response).substr(0, split)).ok) << split;
    ASSERT_TRUE(codec.dispatch(std::string_view(response).substr(split)).ok) << split;
    EXPECT_EQ(decoder.events().front(), "1xx:100") << split;
    EXPECT_EQ(testing::describeFields(decoder.head().headers),
              "x-name=some value,transfer-encoding=chunked")
        << split;
    EXPECT_EQ(decoder.body(), "abc") << split;
    EXPECT_EQ(decoder.events().back(), "trailers:x-trailer=t") << split;
    EXPECT_TRUE(codec.reusable()) << split;
  }
}

TEST_F(H1ClientCodecTest, CloseDelimitedResponseEndsOnEof) {
  sendRequest();
  ASSERT_TRUE(codec_.dispatch("HTTP/1.1 200 OK\r\n\r\nabc").ok);
  ASSERT_TRUE(codec_.dispatch("def").ok);
  EXPECT_TRUE(codec_.streamActive());
  EXPECT_FALSE(codec_.reusable());
  EXPECT_TRUE(codec_.onEof());
  EXPECT_EQ(decoder_.events(), Events({"headers:200", "data:abc", "data:def", "data: end"}));
  EXPECT_FALSE(codec_.streamActive());
  EXPECT_FALSE(codec_.reusable());
}

TEST_F(H1ClientCodecTest, EofBeforeContentLengthIsReachedIsATruncation) {
  sendRequest();
  ASSERT_TRUE(codec_.dispatch("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc").ok);
  EXPECT_FALSE(codec_.onEof());
  EXPECT_EQ(decoder_.events(), Events({"headers:200", "data:abc"}));
}

TEST_F(H1ClientCodecTest, EofWhileIdleIsClean) {
  EXPECT_TRUE(codec_.onEof());
  EXPECT_FALSE(codec_.reusable());
}

TEST_F(H1ClientCodecTest, HeadResponseHasNoBodyDespiteContentLength) {
  sendRequest("HEAD");
  ASSERT_TRUE(codec_.dispatch("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n").ok);
  EXPECT_EQ(decoder_.events(), Events({"headers:200 end"}));
  EXPECT_TRUE(codec_.reusable());

  RecordingResponseDecoder next;
  codec_.newStream(next).encodeHeaders(requestHead("GET", "/"), true);
  ASSERT_TRUE(codec_.dispatch("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").ok);
  EXPECT_EQ(next.events(), Events({"headers:200", "data:ok end"}));
}

TEST_F(H1ClientCodecTest, NotModifiedHasNoBody) {
  sendRequest();
  ASSERT_TRUE(codec_.dispatch("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n").ok);
  EXPECT_EQ(decoder_.events(), Events({"headers:304 end"}));
  EXPECT_TRUE(codec_.reusable());
}

TEST_F(H1ClientCodecTest, InformationalThenFinal) {
  sendRequest("POST");
  ASSERT_TRUE(codec_
                  .dispatch("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: "
                            "</a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
                  .ok);
  EXPECT_EQ(decoder_.events(), Events({"1xx:100", "1xx:103", "headers:201", "data:ok end"}));
  EXPECT_TRUE(codec_.reusable());
}

TEST_F(H1ClientCodecTest, InformationalSplitFromFinal) {
  sendRequest("POST");
  ASSERT_TRUE(dispatchByteByByte("HTTP/1.1 100 Continue\r\n\r\n").ok);
  EXPECT_EQ(decoder_.events(), Events({"1xx:100"}));
  EXPECT_TRUE(codec_.streamActive());
  ASSERT_TRUE(dispatchByteByByte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").ok);
  EXPECT_EQ(decoder_.events(), Events({"1xx:100", "headers:200 end"}));
}

TEST_F(H1ClientCodecTest, ConnectionCloseResponseIsNotReusable) {
  sendRequest();
  ASSERT_TRUE(
      codec_.dispatch("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").ok);
  EXPECT_EQ(decoder_.events(), Events({"headers:200 end"}));
  EXPECT_FALSE(codec_.reusable());
}

TEST_F(H1ClientCodecTest, Http10ResponseReusableOnlyWithKeepAlive) {
  sendRequest();
  ASSERT_TRUE(codec_.dispatch("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").ok);
  EXPECT_FALSE(codec_.reusable());

  ClientConnection other(output_);
  RecordingResponseDecoder decoder;
  other.newStream(decoder).encodeHeaders(requestHead("GET", "/"), true);
  ASSERT_TRUE(
      other.dispatch("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").ok);
  EXPECT_TRUE(other.reusable());
}

TEST_F(H1ClientCodecTest, RequestAskingCloseIsNotReusable) {
  codec_.newStream(decoder_).encodeHeaders(requestHead("GET", "/", {{"connection", "close"}}),
                                           true);
  ASSERT_TRUE(codec_.dispatch("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").ok);
  EXPECT_FALSE(codec_.reusable());
}

TEST_F(H1ClientCodecTest, CloseTokenInAnyConnectionFieldIsNotReusable) {
  codec_.newStream(decoder_).encodeHeaders(
      requestHead("GET", "/", {{"connection", "keep-alive"}, {"connection", "te, CLOSE"}}), true);
  ASSERT_TRUE(codec_.dispatch("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").ok);
  EXPECT_FALSE(codec_.reusable());
}

// Request fields come from the downstream peer, configuration and filters; none of them
// can add a line to the request head upstream (request smuggling).
TEST_F(H1ClientCodecTest, NoFieldCanAddLinesToTheRequestHead) {
  RequestHead head = requestHead("GET", "/",
                                 {{"x-a", "1"},
                                  {"x-crlf", "a\r\nx-smuggled: 1"},
                                  {"x-nul", std::string("a\0b", 3)},
                                  {"x-name\nx-smuggled", "1"},
                                  {"x-b", "2"}});
  codec_.newStream(decoder_).encodeHeaders(head, true);
  EXPECT_EQ(output_.bytes(), "GET / HTTP/1.1\r\nhost: backend.example\r\nx-a: 1\r\nx-b: 2\r\n\r\n");
}

TEST_F(H1ClientCodecTest, AuthorityThatWouldAddLinesIsNotWrittenAsHost) {
  RequestHead head = requestHead("GET", "/", {{"x-a", "1"}});
  head.authority = "backend\r\nx-smuggled: 1";
  codec_.newStream(decoder_).encodeHeaders(head, true);
  EXPECT_EQ(output_.bytes(), "GET / HTTP/1.1\r\nx-a: 1\r\n\r\n");
}

TEST_F(H1ClientCodecTest, EarlyResponseWhileRequestBodyPendingIsNotReusable) {
  RequestEncoder& encoder = codec_.newStream(decoder_);
  encoder.encodeHeaders(requestHead("POST", "/", {{"content-length", "10"}}), false);
  ASSERT_TRUE(codec_.dispatch("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n").ok);
  EXPECT_FALSE(codec_.streamActive());
  EXPECT_FALSE(codec_.reusable());
}

TEST_F(H1ClientCodecTest, SwitchingProtocolsBecomesATunnel) {
  RequestEncoder& encoder = codec_.newStream(decoder_);
  encoder.encodeHeaders(
      requestHead("GET", "/ws", {{"connection", "upgrade"}, {"upgrade", "websocket"}}), false);
  EXPECT_EQ(output_.bytes(),
            "GET /ws HTTP/1.1\r\nhost: backend.example\r\nconnection: upgrade\r\nupgrade: "
            "websocket\r\n\r\n");
  ASSERT_TRUE(codec_
                  .dispatch("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n"
                            "Upgrade: websocket\r\n\r\n\x81\x01x")
                  .ok);
  EXPECT_EQ(decoder_.events(), Events({"headers:101", "data:\x81\x01x"}));
  ASSERT_TRUE(codec_.dispatch("HTTP/1.1 200 OK\r\n\r\n").ok);
  EXPECT_EQ(decoder_.events().back(), "data:HTTP/1.1 200 OK\r\n\r\n");
  output_.clear();
  encoder.encodeData("frame", false);
  EXPECT_EQ(output_.bytes(), "frame");
  EXPECT_FALSE(codec_.reusable());
  EXPECT_TRUE(codec_.onEof());
  EXPECT_EQ(decoder_.events().back(), "data: end");
  EXPECT_FALSE(codec_.streamActive());
}

TEST_F(H1ClientCodecTest, ConnectSuccessBecomesATunnel) {
  RequestHead head = requestHead("CONNECT", "");
  codec_.newStream(decoder_).encodeHeaders(head, false);
  ASSERT_TRUE(codec_.dispatch("HTTP/1.1 200 Connection Established\r\n\r\nserver-hello").ok);
  EXPECT_EQ(decoder_.events(), Events({"headers:200", "data:server-hello"}));
  EXPECT_FALSE(codec_.reusable());
}

// ---- Malformed responses ----

struct MalformedResponseCase {
  std::string name;
  std::string response;
  std::string_view details;
};

std::vector<MalformedResponseCase> malformedResponseCases() {
  using namespace details;
  return {
      {"StatusNotANumber", "HTTP/1.1 2x0 OK\r\n\r\n", kInvalidStatus},
      {"DoubleSpaceBeforeStatus", "HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n", kInvalidStatus},
      {"StatusTooLong", "HTTP/1.1 2000 OK\r\n\r\n", kInvalidStatus},
      {"NotHttp", "SSH-2.0-OpenSSH_9.2\r\n\r\n", kCodecError},
      {"Http20", "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", kVersionNotSupported},
      {"BareLf", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", kBareLineFeed},
      {"ObsFold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", kObsFold},
      {"ContentLengthAndChunked",
       "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
       kContentLengthAndChunked},
      {"GzipTransferCoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc",
       kInvalidTransferEncoding},
      {"GzipBeforeChunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
       kInvalidTransferEncoding},
      {"Http10Chunked", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       kInvalidTransferEncoding},
      {"BadChunkSize", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", kCodecError},
      {"ChunkWithoutCrlf", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
       kCodecError},
      {"HeadTooLarge", "HTTP/1.1 200 OK\r\nX: " + std::string(61 * 1024, 'a') + "\r\n\r\n",
       kHeadersTooLarge},
      {"BytesAfterTheResponse", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1",
       kUnexpectedResponseData},
  };
}

class H1ClientMalformedResponseTest : public H1ClientCodecTest,
                                      public ::testing::WithParamInterface<MalformedResponseCase> {
};

TEST_P(H1ClientMalformedResponseTest, FailsWithBadGateway) {
  sendRequest();
  const DispatchResult result = codec_.dispatch(GetParam().response);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error.status, 502);
  EXPECT_EQ(result.error.details, GetParam().details);
  EXPECT_FALSE(codec_.reusable());
  EXPECT_FALSE(codec_.streamActive());
  EXPECT_FALSE(codec_.dispatch("HTTP/1.1 200 OK\r\n\r\n").ok);
}

INSTANTIATE_TEST_SUITE_P(Responses, H1ClientMalformedResponseTest,
                         ::testing::ValuesIn(malformedResponseCases()),
                         [](const ::testing::TestParamInfo<MalformedResponseCase>& info) {
                           return info.param.name;
                         });

TEST_F(H1ClientCodecTest, BytesWithoutARequestFail) {
  const DispatchResult result = codec_.dispatch("HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error.status, 502);
  EXPECT_EQ(result.error.details, details::kUnexpectedResponseData);
}

TEST_F(H1ClientCodecTest, OneStreamAtATime) {
  EXPECT_TRUE(codec_.canStartStream());
  EXPECT_EQ(codec_.activeStreams(), 0u);
  sendRequest();
  EXPECT_FALSE(codec_.canStartStream());
  EXPECT_EQ(codec_.activeStreams(), 1u);
  ASSERT_TRUE(codec_.dispatch("HTTP/1.1 204 No Content\r\n\r\n").ok);
  EXPECT_TRUE(codec_.canStartStream());
  EXPECT_EQ(codec_.activeStreams(), 0u);
}

TEST_F(H1ClientCodecTest, ResetStreamMakesTheConnectionUnusable) {
  RequestEncoder& encoder = sendRequest();
  encoder.resetStream(StreamResetReason::LocalReset);
  EXPECT_FALSE(codec_.streamActive());
  EXPECT_FALSE(codec_.reusable());
  // The owner reset it: the decoder hears nothing.
  EXPECT_TRUE(decoder_.events().empty());
}

TEST_F(H1ClientCodecTest, FactoryBuildsAWorkingCodec) {
  std::unique_ptr<ClientCodec> codec = makeClientCodec(output_);
  codec->newStream(decoder_).encodeHeaders(requestHead("GET", "/"), true);
  ASSERT_TRUE(codec->dispatch("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").ok);
  EXPECT_EQ(decoder_.events(), Events({"headers:200 end"}));
  EXPECT_TRUE(codec->reusable());
}

}  // namespace
}  // namespace remora::http::h1
