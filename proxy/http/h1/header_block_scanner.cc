#include "proxy/http/h1/header_block_scanner.h"

#include <cstring>

#include "proxy/http/h1/details.h"

namespace remora::http::h1 {

void HeaderBlockScanner::start(Kind kind, size_t max_bytes) {
  *this = HeaderBlockScanner{};
  kind_ = kind;
  max_bytes_ = max_bytes;
  active_ = true;
}

HeaderBlockScanner::Status HeaderBlockScanner::fail(int status, std::string_view details) {
  active_ = false;
  error_status_ = status;
  error_details_ = details;
  return Status::Error;
}

bool HeaderBlockScanner::RequestLineShape::accept(std::string_view segment) {
  for (const char c : segment) {
    // Most bytes are none of the three: one comparison to rule them out.
    if (static_cast<unsigned char>(c) > ' ') {
      previous_space = false;
    } else if (c == ' ') {
      if (previous_space || ++spaces > 2) return false;
      previous_space = true;
    } else if (c == '\t') {
      return false;
    } else if (c != '\r') {
      previous_space = false;
    }
  }
  return true;
}

bool HeaderBlockScanner::startsWithValidBlock(std::string_view data) const {
  const char* const begin = data.data();
  const char* const end = begin + data.size();
  if (data.empty() || *begin == ' ' || *begin == '\t') return false;
  RequestLineShape request_line;
  bool first_line = true;
  for (const char* line = begin; line != end;) {
    const char* lf =
        static_cast<const char*>(std::memchr(line, '\n', static_cast<size_t>(end - line)));
    if (lf == nullptr || lf == line || lf[-1] != '\r') return false;
    if (lf == line + 1) {
      // Empty lines before a start line count towards the limit: left to scan().
      if (first_line && kind_ != Kind::Trailers) return false;
      // Every line before this one ended within the limit.
      return static_cast<size_t>(line - begin) <= max_bytes_;
    }
    if (first_line && kind_ == Kind::RequestHead &&
        (!request_line.accept({line, static_cast<size_t>(lf - line)}) ||
         !request_line.complete())) {
      return false;
    }
    first_line = false;
    line = lf + 1;
    if (line == end || *line == ' ' || *line == '\t') return false;
  }
  return false;
}

HeaderBlockScanner::Status HeaderBlockScanner::scan(std::string_view data) {
  if (!active_) return Status::Done;
  if (position_.bytes == 0 && position_.line_length == 0 && startsWithValidBlock(data)) {
    active_ = false;
    return Status::Done;
  }
  Position at = position_;
  const bool request_head = kind_ == Kind::RequestHead;
  const char* p = data.data();
  const char* const end = p + data.size();
  while (p != end) {
    if (at.at_line_start) {
      at.at_line_start = false;
      if (*p == ' ' || *p == '\t') {
        // After a field line this is a continuation (obs-fold, RFC 9112 5.2); before
        // any, a start line or trailer section beginning with whitespace.
        return fail(400, at.lines > 0 ? details::kObsFold : details::kCodecError);
      }
    }
    const char* lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* const segment_end = lf != nullptr ? lf : end;
    const std::string_view segment(p, static_cast<size_t>(segment_end - p));
    if (request_head && at.lines == 0 && !at.request_line.accept(segment)) {
      return fail(400, details::kCodecError);
    }
    if (!segment.empty()) at.previous = segment.back();
    at.line_length += segment.size();
    const size_t line_without_cr = at.line_length - (at.previous == '\r' ? 1 : 0);
    if (at.bytes + line_without_cr > max_bytes_) return fail(431, details::kHeadersTooLarge);
    if (lf == nullptr) {
      position_ = at;
      return Status::NeedMore;
    }

    if (at.previous != '\r') return fail(400, details::kBareLineFeed);
    const bool empty_line = at.line_length == 1;
    at.bytes += at.line_length + 1;
    at.line_length = 0;
    at.previous = '\n';
    at.at_line_start = true;
    p = lf + 1;
    if (empty_line) {
      // RFC 9112 2.2: empty lines before a start line are ignored (they still count
      // towards the limit so a peer cannot stream them forever).
      if (at.lines == 0 && kind_ != Kind::Trailers) {
        if (at.bytes > max_bytes_) return fail(431, details::kHeadersTooLarge);
        continue;
      }
      active_ = false;
      return Status::Done;
    }
    if (at.bytes > max_bytes_) return fail(431, details::kHeadersTooLarge);
    if (request_head && at.lines == 0 && !at.request_line.complete()) {
      return fail(400, details::kCodecError);
    }
    ++at.lines;
  }
  position_ = at;
  return Status::NeedMore;
}

}  // namespace remora::http::h1
