#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "proxy/http/h1/details.h"
#include "proxy/http/h1/server_codec.h"
#include "tests/unit/proxy/http/h1_test_support.h"

namespace remora::http::h1 {
namespace {

using ::remora::http::h1::testing::RecordingOutput;
using ::remora::http::h1::testing::RecordingRequestDecoder;
using ::remora::http::h1::testing::RecordingServerCallbacks;
using Events = std::vector<std::string>;

constexpr std::string_view kSimpleGet = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

class H1ServerCodecTest : public ::testing::Test {
 protected:
  void makeCodec(const ServerCodecLimits& limits = {}) {
    codec_ = std::make_unique<ServerConnection>(output_, callbacks_, limits);
  }
  ServerConnection& codec() {
    if (!codec_) makeCodec();
    return *codec_;
  }
  DispatchResult dispatch(std::string_view data) { return codec().dispatch(data); }
  DispatchResult dispatchByteByByte(std::string_view data) {
    for (size_t i = 0; i < data.size(); ++i) {
      DispatchResult result = codec().dispatch(data.substr(i, 1));
      if (!result.ok) return result;
    }
    return DispatchResult::success();
  }
  RecordingRequestDecoder& stream(size_t i) { return callbacks_.stream(i); }
  ResponseEncoder& encoder(size_t i) { return callbacks_.encoder(i); }
  static ResponseHead responseHead(int status, std::vector<HeaderEntry> fields = {}) {
    ResponseHead head;
    head.status = status;
    for (const HeaderEntry& field : fields) head.headers.add(field.name, field.value);
    return head;
  }

  RecordingOutput output_;
  RecordingServerCallbacks callbacks_;
  std::unique_ptr<ServerConnection> codec_;
};

// ---- Stream accounting and reset ----

TEST_F(H1ServerCodecTest, ReportsHttp11AndOneActiveStream) {
  EXPECT_EQ(codec().protocol(), Protocol::Http11);
  EXPECT_EQ(codec().activeStreams(), 0u);
  ASSERT_TRUE(dispatch("GET / HTTP/1.1\r\nHost: a\r\n\r\n").ok);
  EXPECT_EQ(codec().activeStreams(), 1u);
  encoder(0).encodeHeaders(responseHead(204), true);
  EXPECT_EQ(codec().activeStreams(), 0u);
}

TEST_F(H1ServerCodecTest, ResetStreamClosesTheConnectionAfterwards) {
  ASSERT_TRUE(dispatch("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab").ok);
  encoder(0).resetStream(StreamResetReason::LocalReset);
  EXPECT_FALSE(codec().streamActive());
  EXPECT_TRUE(codec().closeAfterResponse());
  // The rest of the body and anything after it is ignored.
  ASSERT_TRUE(dispatch("cde").ok);
  EXPECT_EQ(stream(0).events(), Events({"headers", "data:ab"}));
  EXPECT_TRUE(output_.bytes().empty());
}

// ---- Request parsing ----

TEST_F(H1ServerCodecTest, ParsesRequestHead) {
  ASSERT_TRUE(dispatch("GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nX-Custom:  some value \t\r\n"
                       "Accept: */*\r\n\r\n")
                  .ok);
  ASSERT_EQ(callbacks_.streamCount(), 1u);
  const RequestHead& head = stream(0).head();
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.path, "/a/b?c=d");
  EXPECT_EQ(head.authority, "example.com");
  EXPECT_EQ(head.protocol, Protocol::Http11);
  EXPECT_EQ(testing::describeFields(head.headers),
            "host=example.com,x-custom=some value,accept=*/*");
  EXPECT_EQ(stream(0).events(), Events({"headers end"}));
  EXPECT_TRUE(codec().streamActive());
}

TEST_F(H1ServerCodecTest, HeadSplitAnywhereParsesTheSame) {
  ASSERT_TRUE(
      dispatchByteByByte("\r\nGET /x HTTP/1.1\r\nHost: example.com\r\nX-Long-Name: v1\r\n\r\n").ok);
  ASSERT_EQ(callbacks_.streamCount(), 1u);
  EXPECT_EQ(stream(0).head().path, "/x");
  EXPECT_EQ(testing::describeFields(stream(0).head().headers), "host=example.com,x-long-name=v1");
  EXPECT_EQ(stream(0).events(), Events({"headers end"}));
}

TEST_F(H1ServerCodecTest, AbsoluteFormTargetSetsAuthorityAndOriginFormPath) {
  ASSERT_TRUE(
      dispatch("GET http://upstream.example:8080/p/q?x=1 HTTP/1.1\r\nHost: other\r\n\r\n").ok);
  EXPECT_EQ(stream(0).head().authority, "upstream.example:8080");
  EXPECT_EQ(stream(0).head().path, "/p/q?x=1");
}

TEST_F(H1ServerCodecTest, AbsoluteFormWithoutPathGetsSlash) {
  ASSERT_TRUE(dispatch("GET http://h.example?x=1 HTTP/1.1\r\nHost: h.example\r\n\r\n").ok);
  EXPECT_EQ(stream(0).head().authority, "h.example");
  EXPECT_EQ(stream(0).head().path, "/?x=1");
}

TEST_F(H1ServerCodecTest, ContentLengthBodyInOnePiece) {
  ASSERT_TRUE(dispatch("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello").ok);
  EXPECT_EQ(stream(0).events(), Events({"headers", "data:hello end"}));
}

TEST_F(H1ServerCodecTest, ContentLengthBodyByteByByte) {
  ASSERT_TRUE(
      dispatchByteByByte("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello").ok);
  EXPECT_EQ(stream(0).events(),
            Events({"headers", "data:h", "data:e", "data:l", "data:l", "data:o end"}));
}

TEST_F(H1ServerCodecTest, ContentLengthBodyAcrossDispatches) {
  ASSERT_TRUE(dispatch("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhel").ok);
  ASSERT_TRUE(dispatch("lo wo").ok);
  ASSERT_TRUE(dispatch("rl").ok);
  EXPECT_FALSE(stream(0).ended());
  ASSERT_TRUE(dispatch("d").ok);
  EXPECT_EQ(stream(0).events(),
            Events({"headers", "data:hel", "data:lo wo", "data:rl", "data:d end"}));
}

TEST_F(H1ServerCodecTest, ChunkedBodyWithTrailers) {
  ASSERT_TRUE(dispatch("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Checksum: abc\r\nX-B: 2\r\n\r\n")
                  .ok);
  EXPECT_EQ(stream(0).events(),
            Events({"headers", "data:hello", "data: world", "trailers:x-checksum=abc,x-b=2"}));
}

TEST_F(H1ServerCodecTest, ChunkedBodyWithTrailersByteByByte) {
  ASSERT_TRUE(dispatchByteByByte("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n")
                  .ok);
  EXPECT_EQ(stream(0).body(), "hello world");
  EXPECT_EQ(stream(0).events().back(), "trailers:x-checksum=abc");
  EXPECT_TRUE(stream(0).ended());
}

TEST_F(H1ServerCodecTest, ChunkedBodyWithoutTrailersEndsWithEmptyData) {
  ASSERT_TRUE(dispatch("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "3\r\nabc\r\n0\r\n\r\n")
                  .ok);
  EXPECT_EQ(stream(0).events(), Events({"headers", "data:abc", "data: end"}));
}

TEST_F(H1ServerCodecTest, ZeroContentLengthIsABodylessRequest) {
  ASSERT_TRUE(dispatch("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").ok);
  EXPECT_EQ(stream(0).events(), Events({"headers end"}));
}

TEST_F(H1ServerCodecTest, EverySplitPointGivesTheSameRequest) {
  const std::string request =
      "POST /upload?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Long-Header-Name: some value\r\n"
      "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: done\r\n\r\n";
  for (size_t split = 0; split <= request.size(); ++split) {
    RecordingServerCallbacks callbacks;
    ServerConnection codec(output_, callbacks, {});
    ASSERT_TRUE(codec.dispatch(std::string_view(request).substr(0, split)).ok) << split;
    ASSERT_TRUE(codec.dispatch(std::string_view(request).substr(split)).ok) << split;
    ASSERT_EQ(callbacks.streamCount(), 1u) << split;
    const RecordingRequestDecoder& decoder = callbacks.stream(0);
    EXPECT_EQ(decoder.head().path, "/upload?x=1") << split;
    EXPECT_EQ(testing::describeFields(decoder.head().headers),
              "host=example.com,x-long-header-name=some value,transfer-encoding=chunked")
        << split;
    EXPECT_EQ(decoder.body(), "hello") << split;
    EXPECT_EQ(decoder.events().back(), "trailers:x-trailer=done") << split;
  }
}

TEST_F(H1ServerCodecTest, MixedCaseFieldsSplitAcrossReadsAreStoredLowerCase) {
  const std::string request =
      "GET / HTTP/1.1\r\nHost: a\r\nX-MiXeD-CaSe-Field-Name: Value With  Spaces \r\n"
      "ACCEPT:*/*\r\n\r\n";
  const std::string_view whole(request);
  for (size_t split = 0; split <= whole.size(); ++split) {
    RecordingServerCallbacks callbacks;
    ServerConnection codec(output_, callbacks, {});
    ASSERT_TRUE(codec.dispatch(whole.substr(0, split)).ok) << split;
    ASSERT_TRUE(codec.dispatch(whole.substr(split)).ok) << split;
    ASSERT_EQ(callbacks.streamCount(), 1u) << split;
    EXPECT_EQ(testing::describeFields(callbacks.stream(0).head().headers),
              "host=a,x-mixed-case-field-name=Value With  Spaces,accept=*/*")
        << split;
  }
}

// Three reads: the middle one holds only part of a name or value, which is joined with
// the part before it and the part after it.
TEST_F(H1ServerCodecTest, FieldInThreePiecesIsJoined) {
  const std::string_view request = "GET / HTTP/1.1\r\nHost: a\r\nX-Long-Name: long value\r\n\r\n";
  const size_t name = request.find("X-Long");
  const size_t value = request.find("long value");
  for (const size_t first : {name + 2, value + 2}) {
    RecordingServerCallbacks callbacks;
    ServerConnection codec(output_, callbacks, {});
    ASSERT_TRUE(codec.dispatch(request.substr(0, first)).ok);
    ASSERT_TRUE(codec.dispatch(request.substr(first, 3)).ok);
    ASSERT_TRUE(codec.dispatch(request.substr(first + 3)).ok);
    ASSERT_EQ(callbacks.streamCount(), 1u);
    EXPECT_EQ(testing::describeFields(callbacks.stream(0).head().headers),
              "host=a,x-long-name=long value");
  }
}

// ---- Pipelining ----

TEST_F(H1ServerCodecTest, PipelinedRequestWaitsForResume) {
  ASSERT_TRUE(dispatch("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n").ok);
  ASSERT_EQ(callbacks_.streamCount(), 1u);
  ASSERT_TRUE(dispatch("GET /3 HTTP/1.1\r\nHost: a\r\n\r\n").ok);
  EXPECT_EQ(callbacks_.streamCount(), 1u);
  // Not complete yet: resume() must not start the next request.
  ASSERT_TRUE(codec().resume().ok);
  EXPECT_EQ(callbacks_.streamCount(), 1u);

  encoder(0).encodeHeaders(responseHead(200), true);
  EXPECT_FALSE(codec().streamActive());
  EXPECT_EQ(callbacks_.streamCount(), 1u);
  ASSERT_TRUE(codec().resume().ok);
  ASSERT_EQ(callbacks_.streamCount(), 2u);
  EXPECT_EQ(stream(1).head().path, "/2");

  encoder(1).encodeHeaders(responseHead(204), true);
  ASSERT_TRUE(codec().resume().ok);
  ASSERT_EQ(callbacks_.streamCount(), 3u);
  EXPECT_EQ(stream(2).head().path, "/3");
  EXPECT_EQ(output_.bytes(),
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
}

TEST_F(H1ServerCodecTest, PipelinedRequestWithBodyKeptIntact) {
  ASSERT_TRUE(dispatch("POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcPOST /2 "
                       "HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz")
                  .ok);
  ASSERT_EQ(callbacks_.streamCount(), 1u);
  EXPECT_EQ(stream(0).events(), Events({"headers", "data:abc end"}));
  encoder(0).encodeHeaders(responseHead(200), true);
  ASSERT_TRUE(codec().resume().ok);
  ASSERT_EQ(callbacks_.streamCount(), 2u);
  EXPECT_EQ(stream(1).head().path, "/2");
  EXPECT_EQ(stream(1).events(), Events({"headers", "data:xyz end"}));
}

TEST_F(H1ServerCodecTest, ResponseCompletedDuringRequestContinuesWithoutResume) {
  callbacks_.on_new_stream = [](RecordingRequestDecoder& decoder, ResponseEncoder& encoder) {
    decoder.on_end = [&encoder] {
      ResponseHead head;
      head.status = 200;
      encoder.encodeHeaders(head, true);
    };
  };
  ASSERT_TRUE(dispatch("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n").ok);
  ASSERT_EQ(callbacks_.streamCount(), 2u);
  EXPECT_EQ(stream(1).head().path, "/2");
  EXPECT_FALSE(codec().streamActive());
}

// ---- Rejections ----

struct RejectionCase {
  std::string name;
  std::string request;
  int status;
  std::string_view details;
  ServerCodecLimits limits = {};
  // Streams created before the error (errors after the head).
  size_t streams = 0;
};

std::string chunkedRequest(std::string_view body) {
  return "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(body);
}

std::string getWithField(std::string_view field_line) {
  return "GET / HTTP/1.1\r\nHost: a\r\n" + std::string(field_line) + "\r\n\r\n";
}

ServerCodecLimits limitsWith(uint32_t kb, uint32_t count, bool http_10 = false) {
  ServerCodecLimits limits;
  limits.max_request_headers_kb = kb;
  limits.max_headers_count = count;
  limits.accept_http_10 = http_10;
  return limits;
}

std::vector<RejectionCase> rejectionCases() {
  using namespace details;
  const std::string big(1100, 'a');
  return {
      {"HeadTooLarge", getWithField("X-Big: " + big), 431, kHeadersTooLarge, limitsWith(1, 100)},
      {"UnterminatedHeadTooLarge", "GET / HTTP/1.1\r\nX-Big: " + big, 431, kHeadersTooLarge,
       limitsWith(1, 100)},
      {"TooManyHeaders", getWithField("A: 1\r\nB: 2\r\nC: 3"), 431, kTooManyHeaders,
       limitsWith(60, 3)},
      {"DoubleSpaceInRequestLine", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, kCodecError},
      {"TrailingSpaceInRequestLine", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, kCodecError},
      {"TabInRequestLine", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, kCodecError},
      {"RequestLineWithoutVersion", "GET /\r\nHost: a\r\n\r\n", 400, kCodecError},
      {"UnknownMethod", "BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 400, kCodecError},
      {"LowerCaseProtocolName", "GET / http/1.1\r\nHost: a\r\n\r\n", 400, kCodecError},
      {"SpaceInHeaderName", getWithField("Bad Name: x"), 400, kInvalidCharacters},
      {"SpaceBeforeColon", getWithField("X-Name : x"), 400, kInvalidCharacters},
      {"NonTokenHeaderName", getWithField("X@Y: x"), 400, kInvalidCharacters},
      {"EmptyHeaderName", getWithField(": x"), 400, kInvalidCharacters},
      {"ControlCharacterInValue",
       getWithField("X: a\x01"
                    "b"),
       400, kInvalidCharacters},
      {"ObsFold", getWithField("X: a\r\n b"), 400, kObsFold},
      {"ObsFoldAfterEmptyValue", getWithField("X:\r\n\tb"), 400, kObsFold},
      {"WhitespaceBeforeFirstField", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400, kObsFold},
      {"BareLfAfterRequestLine", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400, kBareLineFeed},
      {"BareLfBetweenFields", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400, kBareLineFeed},
      {"BareLfEndingHead", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400, kBareLineFeed},
      {"ContentLengthThenChunked",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
       kContentLengthAndChunked},
      {"ChunkedThenContentLength",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400,
       kContentLengthAndChunked},
      {"ConflictingContentLengths",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400,
       kDuplicateContentLength},
      {"InvalidContentLength", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400,
       kInvalidContentLength},
      {"NegativeContentLength", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400,
       kInvalidContentLength},
      {"TransferCodingNotChunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
       400, kInvalidTransferEncoding},
      {"ChunkedNotLast", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
       400, kInvalidTransferEncoding},
      {"RepeatedChunked",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
       "chunked\r\n\r\n",
       400, kInvalidTransferEncoding},
      {"CodingBeforeChunked",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501,
       kInvalidTransferEncoding},
      {"UnknownCodingBeforeChunked",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo, chunked\r\n\r\n", 501,
       kInvalidTransferEncoding},
      {"InvalidChunkSize", chunkedRequest("zz\r\nabc\r\n0\r\n\r\n"), 400, kCodecError, {}, 1},
      {"SpaceAfterChunkSize", chunkedRequest("3 \r\nabc\r\n0\r\n\r\n"), 400, kCodecError, {}, 1},
      {"ChunkLongerThanItsSize", chunkedRequest("3\r\nabcd\r\n0\r\n\r\n"), 400, kCodecError, {}, 1},
      {"BareLfAfterChunkSize", chunkedRequest("3\nabc\r\n0\r\n\r\n"), 400, kCodecError, {}, 1},
      {"ChunkSizeOverflow", chunkedRequest("fffffffffffffffff\r\n"), 400, kCodecError, {}, 1},
      {"MissingHost", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400, kMissingHost},
      {"EmptyHost", "GET / HTTP/1.1\r\nHost: \r\n\r\n", 400, kMissingHost},
      {"TwoHosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, kMultipleHosts},
      {"Http10NotAccepted", "GET / HTTP/1.0\r\n\r\n", 426, kHttp10NotAllowed},
      {"Http20", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, kVersionNotSupported},
      {"Http12", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505, kVersionNotSupported},
      {"Http09", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505, kVersionNotSupported},
      {"Http2Preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, kVersionNotSupported},
      {"Http10Chunked", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
       kInvalidTransferEncoding, limitsWith(60, 100, true)},
      {"UpgradeWithChunkedBody",
       "GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
       "Transfer-Encoding: chunked\r\n\r\n",
       400, kInvalidTransferEncoding},
      {"UserinfoInTarget", "GET http://user@h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400, kInvalidUrl},
      {"UnknownSchemeInTarget", "GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400, kInvalidUrl},
      {"TargetWithoutSlash", "GET foo HTTP/1.1\r\nHost: h\r\n\r\n", 400, kInvalidUrl},
      {"ControlCharacterInTarget", "GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400, kInvalidUrl},
      {"TrailerObsFold", chunkedRequest("0\r\nX: a\r\n b\r\n\r\n"), 400, kObsFold, {}, 1},
      {"TrailerObsFoldAfterEmptyValue",
       chunkedRequest("0\r\nX:\r\n b\r\n\r\n"),
       400,
       kObsFold,
       {},
       1},
      {"TrailerBareLf", chunkedRequest("0\r\nX: a\n\r\n"), 400, kBareLineFeed, {}, 1},
      {"TrailerSectionEndsWithBareLf",
       chunkedRequest("0\r\nX: a\r\n\n"),
       400,
       kBareLineFeed,
       {},
       1},
      {"EmptyTrailerName", chunkedRequest("0\r\n: x\r\n\r\n"), 400, kInvalidCharacters, {}, 1},
      {"TooManyTrailers", chunkedRequest("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), 431, kTooManyHeaders,
       limitsWith(60, 2), 1},
      {"TrailersTooLarge", chunkedRequest("0\r\nX: " + big + "\r\n\r\n"), 431, kHeadersTooLarge,
       limitsWith(1, 100), 1},
  };
}

class H1ServerRejectionTest : public H1ServerCodecTest,
                              public ::testing::WithParamInterface<RejectionCase> {};

TEST_P(H1ServerRejectionTest, RejectsInOnePiece) {
  const RejectionCase& c = GetParam();
  makeCodec(c.limits);
  const DispatchResult result = dispatch(c.request);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error.status, c.status);
  EXPECT_EQ(result.error.details, c.details);
  EXPECT_EQ(callbacks_.streamCount(), c.streams);
  EXPECT_TRUE(codec().closeAfterResponse());
  // The connection is unusable: nothing more is parsed.
  EXPECT_FALSE(dispatch(kSimpleGet).ok);
  EXPECT_FALSE(codec().resume().ok);
  EXPECT_EQ(callbacks_.streamCount(), c.streams);
}

TEST_P(H1ServerRejectionTest, RejectsByteByByte) {
  const RejectionCase& c = GetParam();
  makeCodec(c.limits);
  const DispatchResult result = dispatchByteByByte(c.request);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error.status, c.status);
  EXPECT_EQ(result.error.details, c.details);
  EXPECT_EQ(callbacks_.streamCount(), c.streams);
}

INSTANTIATE_TEST_SUITE_P(Requests, H1ServerRejectionTest, ::testing::ValuesIn(rejectionCases()),
                         [](const ::testing::TestParamInfo<RejectionCase>& info) {
                           return info.param.name;
                         });

TEST_F(H1ServerCodecTest, HeadAtTheSizeLimitIsAccepted) {
  makeCodec(limitsWith(1, 100));
  // 16 (request line) + 9 (host) + 3 + 994 + 2 = 1024 bytes.
  ASSERT_TRUE(dispatch(getWithField("X: " + std::string(994, 'v'))).ok);
  EXPECT_EQ(callbacks_.streamCount(), 1u);
}

TEST_F(H1ServerCodecTest, HeadOneByteOverTheSizeLimitIsRejected) {
  makeCodec(limitsWith(1, 100));
  const DispatchResult result = dispatch(getWithField("X: " + std::string(995, 'v')));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error.status, 431);
}

TEST_F(H1ServerCodecTest, HeaderCountAtTheLimitIsAccepted) {
  makeCodec(limitsWith(60, 3));
  ASSERT_TRUE(dispatch(getWithField("A: 1\r\nB: 2")).ok);
  EXPECT_EQ(callbacks_.streamCount(), 1u);
}

TEST_F(H1ServerCodecTest, ErrorInBodyLeavesEncoderUsableForTheLocalReply) {
  ASSERT_TRUE(dispatch(chunkedRequest("3\r\nabc\r\n")).ok);
  const DispatchResult result = dispatch("zz\r\n");
  ASSERT_FALSE(result.ok);
  encoder(0).encodeHeaders(responseHead(400), true);
  EXPECT_EQ(output_.bytes(),
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
}

// ---- HTTP/1.0 ----

TEST_F(H1ServerCodecTest, Http10WithoutHostGetsDefaultHost) {
  ServerCodecLimits limits = limitsWith(60, 100, true);
  limits.default_host_for_http_10 = "default.example";
  makeCodec(limits);
  ASSERT_TRUE(dispatch("GET /x HTTP/1.0\r\n\r\n").ok);
  EXPECT_EQ(stream(0).head().protocol, Protocol::Http10);
  EXPECT_EQ(stream(0).head().authority, "default.example");
}

TEST_F(H1ServerCodecTest, Http10WithHostKeepsIt) {
  ServerCodecLimits limits = limitsWith(60, 100, true);
  limits.default_host_for_http_10 = "default.example";
  makeCodec(limits);
  ASSERT_TRUE(dispatch("GET /x HTTP/1.0\r\nHost: given\r\n\r\n").ok);
  EXPECT_EQ(stream(0).head().authority, "given");
}

TEST_F(H1ServerCodecTest, Http10ResponseWithoutLengthIsCloseDelimited) {
  makeCodec(limitsWith(60, 100, true));
  ASSERT_TRUE(dispatch("GET / HTTP/1.0\r\n\r\nGET /next HTTP/1.0\r\n\r\n").ok);
  EXPECT_TRUE(codec().closeAfterResponse());
  encoder(0).encodeHeaders(responseHead(200, {{"server", "remora"}}), false);
  encoder(0).encodeData("body", false);
  encoder(0).encodeData("", true);
  EXPECT_EQ(output_.bytes(), "HTTP/1.1 200 OK\r\nserver: remora\r\nconnection: close\r\n\r\nbody");
  // Nothing after a non-keep-alive request is read.
  ASSERT_TRUE(codec().resume().ok);
  EXPECT_EQ(callbacks_.streamCount(), 1u);
}

TEST_F(H1ServerCodecTest, Http10KeepAliveIsAnsweredWithKeepAlive) {
  makeCodec(limitsWith(60, 100, true));
  ASSERT_TRUE(dispatch("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").ok);
  EXPECT_FALSE(codec().closeAfterResponse());
  encoder(0).encodeHeaders(responseHead(200, {{"content-length", "2"}}), false);
  encoder(0).encodeData("ok", true);
  EXPECT_EQ(output_.bytes(),
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok");
  EXPECT_FALSE(codec().closeAfterResponse());
  ASSERT_TRUE(dispatch("GET /next HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").ok);
  EXPECT_EQ(callbacks_.streamCount(), 2u);
}

TEST_F(H1ServerCodecTest, Http10KeepAliveWithoutLengthStillCloses) {
  makeCodec(limitsWith(60, 100, true));
  ASSERT_TRUE(dispatch("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").ok);
  encoder(0).encodeHeaders(responseHead(200, {{"connection", "keep-alive"}}), false);
  encoder(0).encodeData("abc", true);
  EXPECT_EQ(output_.bytes(), "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nabc");
  EXPECT_TRUE(codec().closeAfterResponse());
}

TEST_F(H1ServerCodecTest, NoInterimResponsesForHttp10) {
  makeCodec(limitsWith(60, 100, true));
  ASSERT_TRUE(dispatch("POST / HTTP/1.0\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n").ok);
  encoder(0).encode100Continue();
  EXPECT_EQ(output_.bytes(), "");
}

// ---- Response encoding ----

TEST_F(H1ServerCodecTest, EndStreamHeadGetsZeroContentLengthInOneWrite) {
  ASSERT_TRUE(dispatch(kSimpleGet).ok);
  encoder(0).encodeHeaders(responseHead(404, {{"Server", "remora"}, {"x-a", "b"}}), true);
  EXPECT_EQ(
      output_.writes(),
      std::vector<std::string>(
          {"HTTP/1.1 404 Not Found\r\nserver: remora\r\nx-a: b\r\ncontent-length: 0\r\n\r\n"}));
  EXPECT_FALSE(codec().streamActive());
  EXPECT_FALSE(codec().closeAfterResponse());
}

TEST_F(H1ServerCodecTest, ContentLengthResponseWritesBodyRaw) {
  ASSERT_TRUE(dispatch(kSimpleGet).ok);
  encoder(0).encodeHeaders(
      responseHead(200, {{"content-length", "5"}, {"transfer-encoding", "chunked"}}), false);
  encoder(0).encodeData("hel", false);
  encoder(0).encodeData("lo", true);
  EXPECT_EQ(output_.writes(), std::vector<std::string>(
                                  {"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", "hel", "lo"}));
}

TEST_F(H1ServerCodecTest, StreamingResponseIsChunked) {
  ASSERT_TRUE(dispatch(kSimpleGet).ok);
  encoder(0).encodeHeaders(responseHead(200), false);
  encoder(0).encodeData("hello", false);
  encoder(0).encodeData(std::string(26, 'x'), false);
  encoder(0).encodeData("", true);
  EXPECT_EQ(output_.writes(),
            std::vector<std::string>({"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
                                      "5\r\nhello\r\n", "1a\r\n" + std::string(26, 'x') + "\r\n",
                                      "0\r\n\r\n"}));
}

TEST_F(H1ServerCodecTest, LastChunkGoesWithTheFinalData) {
  ASSERT_TRUE(dispatch(kSimpleGet).ok);
  encoder(0).encodeHeaders(responseHead(200), false);
  encoder(0).encodeData("bye", true);
  EXPECT_EQ(output_.writes().back(), "3\r\nbye\r\n0\r\n\r\n");
  EXPECT_FALSE(codec().streamActive());
}

TEST_F(H1ServerCodecTest, ChunkedResponseWithTrailers) {
  ASSERT_TRUE(dispatch(kSimpleGet).ok);
  encoder(0).encodeHeaders(responseHead(200, {{"content-type", "application/grpc"}}), false);
  encoder(0).encodeData("msg", false);
  HeaderMap trailers;
  trailers.add("grpc-status", "0");
  trailers.add("grpc-message", "ok");
  encoder(0).encodeTrailers(trailers);
  EXPECT_EQ(
      output_.bytes(),
      "HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ntransfer-encoding: chunked\r\n\r\n"
      "3\r\nmsg\r\n0\r\ngrpc-status: 0\r\ngrpc-message: ok\r\n\r\n");
  EXPECT_FALSE(codec().streamActive());
}

TEST_F(H1ServerCodecTest, TrailersDroppedOnContentLengthResponse) {
  ASSERT_TRUE(dispatch(kSimpleGet).ok);
  encoder(0).encodeHeaders(responseHead(200, {{"content-length", "2"}}), false);
  encoder(0).encodeData("ok", false);
  HeaderMap trailers;
  trailers.add("x-t", "1");
  encoder(0).encodeTrailers(trailers);
  EXPECT_EQ(output_.bytes(), "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  EXPECT_FALSE(codec().streamActive());
}

TEST_F(H1ServerCodecTest, HeadResponseHasNoBody) {
  ASSERT_TRUE(dispatch("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n").ok);
  encoder(0).encodeHeaders(responseHead(200, {{"content-length", "10"}}), false);
  encoder(0).encodeData("0123456789", true);
  EXPECT_EQ(output_.bytes(), "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n");
  EXPECT_FALSE(codec().streamActive());
  EXPECT_FALSE(codec().closeAfterResponse());
}

TEST_F(H1ServerCodecTest, HeadResponseWithoutLengthAddsNoFraming) {
  ASSERT_TRUE(dispatch("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n").ok);
  encoder(0).encodeHeaders(responseHead(200), true);
  EXPECT_EQ(output_.bytes(), "HTTP/1.1 200 OK\r\n\r\n");
}

TEST_F(H1ServerCodecTest, NoContentResponseDropsLengthAndBody) {
  ASSERT_TRUE(dispatch(kSimpleGet).ok);
  encoder(0).encodeHeaders(responseHead(204, {{"content-length", "3"}}), false);
  encoder(0).encodeData("abc", true);
  EXPECT_EQ(output_.bytes(), "HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_FALSE(codec().streamActive());
}

TEST_F(H1ServerCodecTest, NotModifiedKeepsLengthWithoutBody) {
  ASSERT_TRUE(dispatch(kSimpleGet).ok);
  encoder(0).encodeHeaders(responseHead(304, {{"content-length", "42"}}), false);
  encoder(0).encodeData("ignored", true);
  EXPECT_EQ(output_.bytes(), "HTTP/1.1 304 Not Modified\r\ncontent-length: 42\r\n\r\n");
}

TEST_F(H1ServerCodecTest, ContinueAndInterimHeads) {
  ASSERT_TRUE(dispatch("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: "
                       "2\r\n\r\n")
                  .ok);
  EXPECT_EQ(stream(0).head().headers.getJoined("expect"), "100-continue");
  encoder(0).encode100Continue();
  encoder(0).encodeHeaders(responseHead(103, {{"link", "</a.css>; rel=preload"}}), false);
  EXPECT_EQ(output_.bytes(),
            "HTTP/1.1 100 Continue\r\n\r\n"
            "HTTP/1.1 103 Unknown\r\nlink: </a.css>; rel=preload\r\n\r\n");
  EXPECT_TRUE(codec().streamActive());
  ASSERT_TRUE(dispatch("ok").ok);
  EXPECT_EQ(stream(0).events(), Events({"headers", "data:ok end"}));
}

TEST_F(H1ServerCodecTest, FieldsThatWouldBreakFramingAreNotWritten) {
  ASSERT_TRUE(dispatch(kSimpleGet).ok);
  encoder(0).encodeHeaders(
      responseHead(200, {{"x-bad", "a\r\nset-cookie: evil"}, {"x-good", "fine"}}), true);
  EXPECT_EQ(output_.bytes(), "HTTP/1.1 200 OK\r\nx-good: fine\r\ncontent-length: 0\r\n\r\n");
}

// Whatever set them (configuration, a filter, a local reply), a CR, LF or NUL in a
// name or value never reaches the wire: the field is left out, the rest is written.
TEST_F(H1ServerCodecTest, NoFieldCanAddLinesToAnyResponseHead) {
  const std::vector<HeaderEntry> fields = {{"x-a", "1"},
                                           {"x-lf", "a\nset-cookie: evil"},
                                           {"x-cr", "a\rb"},
                                           {"x-nul", std::string("a\0b", 3)},
                                           {"x-name\r\nset-cookie", "evil"},
                                           {"x-b", "2"}};
  ASSERT_TRUE(dispatch("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n").ok);
  encoder(0).encodeHeaders(responseHead(103, fields), false);
  ASSERT_TRUE(dispatch("x").ok);
  encoder(0).encodeHeaders(responseHead(200, fields), true);
  EXPECT_EQ(output_.bytes(),
            "HTTP/1.1 103 Unknown\r\nx-a: 1\r\nx-b: 2\r\n\r\n"
            "HTTP/1.1 200 OK\r\nx-a: 1\r\nx-b: 2\r\ncontent-length: 0\r\n\r\n");

  ASSERT_TRUE(codec().resume().ok);
  ASSERT_TRUE(dispatch("GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: "
                       "websocket\r\n\r\n")
                  .ok);
  output_.clear();
  encoder(1).encodeHeaders(responseHead(101, fields), false);
  EXPECT_EQ(output_.bytes(), "HTTP/1.1 101 Switching Protocols\r\nx-a: 1\r\nx-b: 2\r\n\r\n");
}

TEST_F(H1ServerCodecTest, CloseTokenInAnyConnectionFieldCloses) {
  ASSERT_TRUE(dispatch(kSimpleGet).ok);
  encoder(0).encodeHeaders(
      responseHead(200, {{"connection", "keep-alive"}, {"x-a", "b"}, {"connection", "x, Close"}}),
      true);
  EXPECT_EQ(output_.bytes(),
            "HTTP/1.1 200 OK\r\nx-a: b\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  EXPECT_TRUE(codec().closeAfterResponse());
}

// ---- Connection management ----

TEST_F(H1ServerCodecTest, ConnectionCloseRequestClosesAndIgnoresPipelinedBytes) {
  ASSERT_TRUE(
      dispatch("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" + std::string(kSimpleGet))
          .ok);
  EXPECT_TRUE(codec().closeAfterResponse());
  encoder(0).encodeHeaders(responseHead(200, {{"connection", "keep-alive"}}), true);
  EXPECT_EQ(output_.bytes(), "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  ASSERT_TRUE(codec().resume().ok);
  ASSERT_TRUE(dispatch(kSimpleGet).ok);
  EXPECT_EQ(callbacks_.streamCount(), 1u);
}

TEST_F(H1ServerCodecTest, ConnectionCloseInResponseHeadCloses) {
  ASSERT_TRUE(dispatch(kSimpleGet).ok);
  encoder(0).encodeHeaders(responseHead(503, {{"connection", "close"}}), true);
  EXPECT_EQ(output_.bytes(),
            "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  EXPECT_TRUE(codec().closeAfterResponse());
}

TEST_F(H1ServerCodecTest, ResponseBeforeRequestEndClosesTheConnection) {
  ASSERT_TRUE(dispatch("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345").ok);
  encoder(0).encodeHeaders(responseHead(413), true);
  EXPECT_EQ(output_.bytes(),
            "HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  EXPECT_TRUE(codec().closeAfterResponse());
  ASSERT_TRUE(dispatch("67890" + std::string(kSimpleGet)).ok);
  ASSERT_TRUE(codec().resume().ok);
  EXPECT_EQ(callbacks_.streamCount(), 1u);
  EXPECT_EQ(stream(0).events(), Events({"headers", "data:12345"}));
}

// ---- Upgrade and CONNECT ----

TEST_F(H1ServerCodecTest, WebSocketUpgradeBecomesATunnel) {
  ASSERT_TRUE(dispatch("GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: "
                       "websocket\r\n\r\nearly")
                  .ok);
  ASSERT_EQ(callbacks_.streamCount(), 1u);
  EXPECT_EQ(stream(0).events(), Events({"headers", "data:early"}));
  EXPECT_FALSE(codec().upgraded());

  encoder(0).encodeHeaders(responseHead(101, {{"connection", "upgrade"}, {"upgrade", "websocket"}}),
                           false);
  EXPECT_TRUE(codec().upgraded());
  encoder(0).encodeData("\x81\x02hi", false);
  EXPECT_EQ(output_.bytes(),
            "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n"
            "\x81\x02hi");

  ASSERT_TRUE(dispatch("GET / HTTP/1.1\r\n\r\n").ok);
  codec().onEof();
  EXPECT_EQ(stream(0).events(),
            Events({"headers", "data:early", "data:GET / HTTP/1.1\r\n\r\n", "data: end"}));
  EXPECT_EQ(callbacks_.streamCount(), 1u);
  encoder(0).encodeData("", true);
  EXPECT_FALSE(codec().streamActive());
  EXPECT_TRUE(codec().closeAfterResponse());
}

TEST_F(H1ServerCodecTest, UpgradeRefusedEndsWithTheResponseAndCloses) {
  ASSERT_TRUE(dispatch("GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: "
                       "websocket\r\n\r\n")
                  .ok);
  encoder(0).encodeHeaders(responseHead(403), true);
  EXPECT_FALSE(codec().upgraded());
  EXPECT_TRUE(codec().closeAfterResponse());
  EXPECT_EQ(output_.bytes(),
            "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  ASSERT_TRUE(dispatch(kSimpleGet).ok);
  EXPECT_EQ(callbacks_.streamCount(), 1u);
  EXPECT_EQ(stream(0).events(), Events({"headers"}));
}

TEST_F(H1ServerCodecTest, ConnectTunnelsAfterA2xx) {
  ASSERT_TRUE(
      dispatch("CONNECT db.example:5432 HTTP/1.1\r\nHost: db.example:5432\r\n\r\nhello").ok);
  const RequestHead& head = stream(0).head();
  EXPECT_EQ(head.method, "CONNECT");
  EXPECT_EQ(head.authority, "db.example:5432");
  EXPECT_EQ(head.path, "");
  EXPECT_EQ(stream(0).events(), Events({"headers", "data:hello"}));

  encoder(0).encodeHeaders(responseHead(200, {{"content-length", "0"}}), false);
  EXPECT_TRUE(codec().upgraded());
  encoder(0).encodeData("raw", false);
  EXPECT_EQ(output_.bytes(), "HTTP/1.1 200 OK\r\n\r\nraw");
  ASSERT_TRUE(dispatch("more").ok);
  EXPECT_EQ(stream(0).events().back(), "data:more");
}

TEST_F(H1ServerCodecTest, OnEofOutsideATunnelDeliversNothing) {
  ASSERT_TRUE(dispatch("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc").ok);
  codec().onEof();
  EXPECT_EQ(stream(0).events(), Events({"headers", "data:abc"}));
}

TEST_F(H1ServerCodecTest, FactoryBuildsAWorkingCodec) {
  std::unique_ptr<ServerCodec> codec = makeServerCodec(output_, callbacks_, {});
  ASSERT_TRUE(codec->dispatch(kSimpleGet).ok);
  EXPECT_EQ(callbacks_.streamCount(), 1u);
}

}  // namespace
}  // namespace remora::http::h1
