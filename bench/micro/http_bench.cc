// HTTP/1.1 request parsing and header map operations, the per-request work of
// the downstream codec.
#include <benchmark/benchmark.h>

#include <string>

#include "proxy/http/h1/server_codec.h"
#include "proxy/http/message.h"

namespace remora::http {
namespace {

constexpr std::string_view kRequest =
    "GET /api/v1/items?page=2 HTTP/1.1\r\n"
    "Host: service.default.svc.cluster.local\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "Accept-Encoding: gzip, deflate\r\n"
    "X-Request-Id: 2f1c7d0e-8a9b-4c3d-9e1f-0a1b2c3d4e5f\r\n"
    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
    "Cookie: session=abc123; theme=dark\r\n\r\n";

class NullOutput : public CodecOutput {
 public:
  void write(std::string_view) override {}
};

// Completes each request at once, so the codec goes straight on to the next.
class Responder : public ServerCodecCallbacks, public RequestDecoder {
 public:
  RequestDecoder& newStream(ResponseEncoder& encoder) override {
    encoder_ = &encoder;
    return *this;
  }
  void decodeHeaders(RequestHead&& head, bool end_stream) override {
    benchmark::DoNotOptimize(head.path.data());
    ResponseHead response;
    response.headers.add("content-length", "0");
    encoder_->encodeHeaders(response, true);
  }
  void decodeData(std::string_view, bool) override {}
  void decodeTrailers(HeaderMap&&) override {}

 private:
  ResponseEncoder* encoder_ = nullptr;
};

void BM_H1ParseRequest(benchmark::State& state) {
  NullOutput output;
  Responder responder;
  auto codec = h1::makeServerCodec(output, responder, ServerCodecLimits{});
  for (auto _ : state) {
    auto result = codec->dispatch(kRequest);
    benchmark::DoNotOptimize(result.ok);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kRequest.size()));
}
BENCHMARK(BM_H1ParseRequest);

void BM_HeaderMapBuildAndLookup(benchmark::State& state) {
  for (auto _ : state) {
    HeaderMap headers;
    headers.add("Host", "service.default.svc.cluster.local");
    headers.add("User-Agent", "curl/7.88.1");
    headers.add("Accept", "*/*");
    headers.add("X-Request-Id", "2f1c7d0e-8a9b-4c3d-9e1f-0a1b2c3d4e5f");
    headers.add("Connection", "keep-alive");
    headers.set("x-forwarded-proto", "http");
    headers.remove("connection");
    benchmark::DoNotOptimize(headers.get("x-request-id"));
    benchmark::DoNotOptimize(headers.get("missing"));
  }
}
BENCHMARK(BM_HeaderMapBuildAndLookup);

}  // namespace
}  // namespace remora::http
