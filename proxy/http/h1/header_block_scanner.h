// Checks the raw bytes of an HTTP/1 header block (start line and fields, or the
// trailer section of a chunked body) for what llhttp 8.1 accepts in strict mode but a
// proxy must refuse: bare LF line endings, obs-fold continuation lines, a request line
// with extra whitespace, and blocks above the size limit. It sees the bytes before
// llhttp parses them and keeps its state across reads, so a block split anywhere
// between two dispatch() calls is judged exactly like a contiguous one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace remora::http::h1 {

class HeaderBlockScanner {
 public:
  enum class Kind : uint8_t { RequestHead, ResponseHead, Trailers };
  enum class Status : uint8_t { NeedMore, Done, Error };

  // Starts a block. `max_bytes` bounds the start line plus field lines, CRLFs included.
  void start(Kind kind, size_t max_bytes);
  bool active() const { return active_; }

  // Scans the next bytes of the block. Done: the block ended within `data` (bytes after
  // it are body or the next message and are not looked at). Error: see errorStatus().
  Status scan(std::string_view data);

  int errorStatus() const { return error_status_; }
  std::string_view errorDetails() const { return error_details_; }

 private:
  // Request-line shape: method SP target SP version, single spaces, no tabs.
  struct RequestLineShape {
    uint8_t spaces = 0;
    // The last byte other than CR was a space.
    bool previous_space = false;

    bool accept(std::string_view segment);
    bool complete() const { return spaces == 2 && !previous_space; }
  };
  // Where a block stands between two reads; scan() works on a copy in registers.
  struct Position {
    size_t bytes = 0;
    // Lines that were not empty; the first one is the start line (none for trailers).
    size_t lines = 0;
    // Bytes of the current line so far, CR included, LF excluded.
    size_t line_length = 0;
    char previous = '\n';
    bool at_line_start = true;
    RequestLineShape request_line;
  };

  Status fail(int status, std::string_view details);
  // The usual case, a whole block at the start of `data` that passes every check, in
  // one lean pass; false leaves `data` to the exact line-by-line scan (which then finds
  // what is wrong, or the block's end in a later read).
  bool startsWithValidBlock(std::string_view data) const;

  Kind kind_ = Kind::RequestHead;
  bool active_ = false;
  size_t max_bytes_ = 0;
  Position position_;
  int error_status_ = 0;
  std::string_view error_details_;
};

}  // namespace remora::http::h1
