// Doubles for the HTTP/2 codec tests: a raw nghttp2 client session that records what
// the server codec sends (frames, stream closes, response heads and bodies), helpers
// that hand-craft frames nghttp2 would never produce, and a client/server codec pair
// connected in memory.
#pragma once

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/http/h2/client_codec.h"
#include "proxy/http/h2/server_codec.h"
#include "tests/unit/proxy/http/h1_test_support.h"

namespace remora::http::h2::testing {

using h1::testing::RecordingOutput;
using h1::testing::RecordingRequestDecoder;
using h1::testing::RecordingResponseDecoder;
using h1::testing::RecordingServerCallbacks;

using Fields = std::vector<std::pair<std::string, std::string>>;

// A 9-byte frame header plus payload (RFC 9113 4.1).
inline std::string rawFrame(uint8_t type, uint8_t flags, int32_t stream_id,
                            std::string_view payload) {
  std::string frame;
  const size_t length = payload.size();
  frame += static_cast<char>((length >> 16) & 0xff);
  frame += static_cast<char>((length >> 8) & 0xff);
  frame += static_cast<char>(length & 0xff);
  frame += static_cast<char>(type);
  frame += static_cast<char>(flags);
  frame += static_cast<char>((stream_id >> 24) & 0x7f);
  frame += static_cast<char>((stream_id >> 16) & 0xff);
  frame += static_cast<char>((stream_id >> 8) & 0xff);
  frame += static_cast<char>(stream_id & 0xff);
  frame += payload;
  return frame;
}

struct ParsedFrame {
  uint8_t type;
  uint8_t flags;
  int32_t stream_id;
  std::string payload;
};

// Splits bytes written by a server codec into frames (the server sends no preface).
inline std::vector<ParsedFrame> parseFrames(std::string_view bytes) {
  std::vector<ParsedFrame> frames;
  while (bytes.size() >= 9) {
    const auto byte = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
    const size_t length = (size_t{byte(0)} << 16) | (size_t{byte(1)} << 8) | byte(2);
    const int32_t stream_id =
        static_cast<int32_t>((uint32_t{byte(5)} & 0x7f) << 24 | uint32_t{byte(6)} << 16 |
                             uint32_t{byte(7)} << 8 | byte(8));
    frames.push_back({byte(3), byte(4), stream_id, std::string(bytes.substr(9, length))});
    bytes.remove_prefix(std::min(bytes.size(), 9 + length));
  }
  return frames;
}

// HPACK "literal header field without indexing, new name" with short strings.
inline std::string hpackLiteral(std::string_view name, std::string_view value) {
  std::string out(1, '\0');
  out += static_cast<char>(name.size());
  out += name;
  out += static_cast<char>(value.size());
  out += value;
  return out;
}

// HPACK static table entries for a GET of "/" over http.
inline std::string hpackGetRoot() { return "\x82\x84\x86"; }

// A client session driven by hand. Frames it receives are recorded.
class RawClient {
 public:
  struct Frame {
    uint8_t type;
    uint8_t flags;
    int32_t stream_id;
  };

  RawClient() {
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrameRecv);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onData);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onStreamClose);
    nghttp2_option* options = nullptr;
    nghttp2_option_new(&options);
    // Lets the tests send header lists larger than nghttp2's 64 KiB default.
    nghttp2_option_set_max_send_header_block_length(options, 1024 * 1024);
    nghttp2_session_client_new2(&session_, callbacks, this, options);
    nghttp2_option_del(options);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~RawClient() { nghttp2_session_del(session_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  nghttp2_session* session() { return session_; }

  // Submits a request with exactly these fields (pseudo-headers included).
  int32_t submit(const Fields& fields, bool end_stream = true) {
    std::vector<nghttp2_nv> nv;
    for (const auto& [name, value] : fields) {
      nv.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE});
    }
    nghttp2_data_provider provider{};
    provider.read_callback = [](nghttp2_session*, int32_t, uint8_t*, size_t, uint32_t*,
                                nghttp2_data_source*,
                                void*) -> ssize_t { return NGHTTP2_ERR_DEFERRED; };
    return nghttp2_submit_request(session_, nullptr, nv.data(), nv.size(),
                                  end_stream ? nullptr : &provider, nullptr);
  }
  int32_t submitGet(const std::string& path = "/") {
    return submit(
        {{":method", "GET"}, {":scheme", "https"}, {":authority", "example.com"}, {":path", path}});
  }

  // Everything the session has queued, as bytes.
  std::string take() {
    std::string bytes;
    while (true) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n <= 0) return bytes;
      bytes.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
  }
  // Feeds what the server wrote; returns nghttp2's result.
  ssize_t receive(RecordingOutput& output) {
    const std::string bytes = output.bytes();
    output.clear();
    return nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()),
                                    bytes.size());
  }

  size_t count(uint8_t type) const {
    size_t n = 0;
    for (const Frame& frame : frames_) n += frame.type == type ? 1 : 0;
    return n;
  }
  const std::vector<Frame>& frames() const { return frames_; }
  // Error code of each closed stream.
  const std::map<int32_t, uint32_t>& closed() const { return closed_; }
  // Error codes of RST_STREAM frames received, by stream.
  const std::map<int32_t, uint32_t>& resets() const { return resets_; }
  // Response fields by stream, "name=value" joined with ",".
  const std::map<int32_t, std::string>& heads() const { return heads_; }
  const std::map<int32_t, std::string>& bodies() const { return bodies_; }
  bool goAwayReceived() const { return goaway_error_ >= 0; }
  int64_t goAwayError() const { return goaway_error_; }
  int32_t goAwayLastStreamId() const { return goaway_last_stream_id_; }

 private:
  static RawClient& self(void* user_data) { return *static_cast<RawClient*>(user_data); }
  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    RawClient& client = self(user_data);
    client.frames_.push_back({frame->hd.type, frame->hd.flags, frame->hd.stream_id});
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      client.goaway_error_ = frame->goaway.error_code;
      client.goaway_last_stream_id_ = frame->goaway.last_stream_id;
    } else if (frame->hd.type == NGHTTP2_RST_STREAM) {
      client.resets_[frame->hd.stream_id] = frame->rst_stream.error_code;
    }
    return 0;
  }
  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                      void* user_data) {
    std::string& head = self(user_data).heads_[frame->hd.stream_id];
    if (!head.empty()) head += ",";
    head.append(reinterpret_cast<const char*>(name), name_length);
    head += "=";
    head.append(reinterpret_cast<const char*>(value), value_length);
    return 0;
  }
  static int onData(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                    size_t length, void* user_data) {
    self(user_data).bodies_[stream_id].append(reinterpret_cast<const char*>(data), length);
    return 0;
  }
  static int onStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                           void* user_data) {
    self(user_data).closed_[stream_id] = error_code;
    return 0;
  }

  nghttp2_session* session_ = nullptr;
  std::vector<Frame> frames_;
  std::map<int32_t, uint32_t> closed_;
  std::map<int32_t, uint32_t> resets_;
  std::map<int32_t, std::string> heads_;
  std::map<int32_t, std::string> bodies_;
  int64_t goaway_error_ = -1;
  int32_t goaway_last_stream_id_ = -1;
};

// Our client codec talking to our server codec through memory.
class CodecPair {
 public:
  explicit CodecPair(const Http2Settings& server_settings = {},
                     const Http2Settings& client_settings = {})
      : server_(makeServerCodec(server_out_, callbacks_, server_settings)),
        client_(makeClientCodec(client_out_, client_settings)) {}

  // Moves bytes both ways until neither side has anything to say. Returns false if
  // either dispatch failed.
  bool pump() {
    for (int round = 0; round < 10000; ++round) {
      if (client_out_.bytes().empty() && server_out_.bytes().empty()) return true;
      if (!client_out_.bytes().empty()) {
        const std::string bytes = client_out_.bytes();
        client_out_.clear();
        ++server_dispatches_;
        if (!server_->dispatch(bytes).ok) return false;
      }
      if (!server_out_.bytes().empty()) {
        const std::string bytes = server_out_.bytes();
        server_out_.clear();
        if (!client_->dispatch(bytes).ok) return false;
      }
    }
    return false;
  }

  ServerCodec& server() { return *server_; }
  ClientCodec& client() { return *client_; }
  RecordingServerCallbacks& callbacks() { return callbacks_; }
  RecordingOutput& clientOut() { return client_out_; }
  RecordingOutput& serverOut() { return server_out_; }
  int serverDispatches() const { return server_dispatches_; }

 private:
  RecordingOutput server_out_;
  RecordingOutput client_out_;
  RecordingServerCallbacks callbacks_;
  std::unique_ptr<ServerCodec> server_;
  std::unique_ptr<ClientCodec> client_;
  int server_dispatches_ = 0;
};

}  // namespace remora::http::h2::testing
