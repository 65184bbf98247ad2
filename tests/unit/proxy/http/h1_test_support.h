// Recording doubles for the HTTP/1 codec tests: an output that keeps every write and
// decoders that log each event as a short string, so tests compare whole sequences.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http/codec.h"

namespace remora::http::h1::testing {

class RecordingOutput : public CodecOutput {
 public:
  void write(std::string_view bytes) override {
    bytes_.append(bytes);
    writes_.emplace_back(bytes);
  }
  const std::string& bytes() const { return bytes_; }
  const std::vector<std::string>& writes() const { return writes_; }
  void clear() {
    bytes_.clear();
    writes_.clear();
  }

 private:
  std::string bytes_;
  std::vector<std::string> writes_;
};

inline std::string describeFields(const HeaderMap& fields) {
  std::string out;
  for (const HeaderEntry& field : fields) {
    if (!out.empty()) out += ",";
    out += field.name + "=" + field.value;
  }
  return out;
}

inline std::string endSuffix(bool end_stream) { return end_stream ? " end" : ""; }

// Events: "headers[ end]", "data:<bytes>[ end]", "trailers:<name=value,...>",
// "reset:<reason>", "above" / "below" (HTTP/2 stream write watermarks).
class RecordingRequestDecoder : public RequestDecoder {
 public:
  void decodeHeaders(RequestHead&& head, bool end_stream) override {
    head_ = std::move(head);
    events_.push_back("headers" + endSuffix(end_stream));
    if (end_stream) onEnd();
  }
  void decodeData(std::string_view data, bool end_stream) override {
    body_.append(data);
    events_.push_back("data:" + std::string(data) + endSuffix(end_stream));
    if (end_stream) onEnd();
  }
  void decodeTrailers(HeaderMap&& trailers) override {
    events_.push_back("trailers:" + describeFields(trailers));
    onEnd();
  }
  void onResetStream(StreamResetReason reason) override {
    events_.push_back("reset:" + std::string(resetReasonString(reason)));
  }
  void onAboveWriteBufferHighWatermark() override { events_.push_back("above"); }
  void onBelowWriteBufferLowWatermark() override { events_.push_back("below"); }

  const RequestHead& head() const { return head_; }
  const std::vector<std::string>& events() const { return events_; }
  const std::string& body() const { return body_; }
  bool ended() const { return ended_; }
  // Runs when the request ends (e.g. to answer it synchronously).
  std::function<void()> on_end;

 private:
  void onEnd() {
    ended_ = true;
    if (on_end) on_end();
  }

  RequestHead head_;
  std::vector<std::string> events_;
  std::string body_;
  bool ended_ = false;
};

class RecordingServerCallbacks : public ServerCodecCallbacks {
 public:
  RequestDecoder& newStream(ResponseEncoder& encoder) override {
    encoders_.push_back(&encoder);
    streams_.push_back(std::make_unique<RecordingRequestDecoder>());
    if (on_new_stream) on_new_stream(*streams_.back(), encoder);
    return *streams_.back();
  }

  size_t streamCount() const { return streams_.size(); }
  RecordingRequestDecoder& stream(size_t i) { return *streams_.at(i); }
  ResponseEncoder& encoder(size_t i) { return *encoders_.at(i); }
  std::function<void(RecordingRequestDecoder&, ResponseEncoder&)> on_new_stream;

 private:
  std::vector<std::unique_ptr<RecordingRequestDecoder>> streams_;
  std::vector<ResponseEncoder*> encoders_;
};

// Events: "1xx:<status>", "headers:<status>[ end]", "data:<bytes>[ end]",
// "trailers:<name=value,...>", "reset:<reason>", "above" / "below".
class RecordingResponseDecoder : public ResponseDecoder {
 public:
  void decodeInformationalHeaders(ResponseHead&& head) override {
    events_.push_back("1xx:" + std::to_string(head.status));
  }
  void decodeHeaders(ResponseHead&& head, bool end_stream) override {
    head_ = std::move(head);
    events_.push_back("headers:" + std::to_string(head_.status) + endSuffix(end_stream));
    if (end_stream && on_end) on_end();
  }
  void decodeData(std::string_view data, bool end_stream) override {
    body_.append(data);
    events_.push_back("data:" + std::string(data) + endSuffix(end_stream));
    if (end_stream && on_end) on_end();
  }
  void decodeTrailers(HeaderMap&& trailers) override {
    events_.push_back("trailers:" + describeFields(trailers));
    if (on_end) on_end();
  }
  void onResetStream(StreamResetReason reason) override {
    events_.push_back("reset:" + std::string(resetReasonString(reason)));
  }
  void onAboveWriteBufferHighWatermark() override { events_.push_back("above"); }
  void onBelowWriteBufferLowWatermark() override { events_.push_back("below"); }

  const ResponseHead& head() const { return head_; }
  const std::vector<std::string>& events() const { return events_; }
  const std::string& body() const { return body_; }
  std::function<void()> on_end;

 private:
  ResponseHead head_;
  std::vector<std::string> events_;
  std::string body_;
};

}  // namespace remora::http::h1::testing
