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

bool HeaderBlockScanner::checkRequestLineBytes(std::string_view segment) {
  for (const char c : segment) {
    if (c == ' ') {
      if (request_line_previous_space_ || ++request_line_spaces_ > 2) return false;
      request_line_previous_space_ = true;
    } else if (c == '\t') {
      return false;
    } else if (c != '\r') {
      request_line_previous_space_ = false;
    }
  }
  return true;
}

bool HeaderBlockScanner::requestLineComplete() const {
  return request_line_spaces_ == 2 && !request_line_previous_space_;
}

HeaderBlockScanner::Status HeaderBlockScanner::scan(std::string_view data) {
  if (!active_) return Status::Done;
  size_t i = 0;
  while (i < data.size()) {
    if (at_line_start_) {
      at_line_start_ = false;
      const char first = data[i];
      if (first == ' ' || first == '\t') {
        // After a field line this is a continuation (obs-fold, RFC 9112 5.2); before
        // any, a start line or trailer section beginning with whitespace.
        return fail(400, lines_ > 0 ? details::kObsFold : details::kCodecError);
      }
    }
    const void* lf = std::memchr(data.data() + i, '\n', data.size() - i);
    const size_t end = lf != nullptr
                           ? static_cast<size_t>(static_cast<const char*>(lf) - data.data())
                           : data.size();
    const std::string_view segment = data.substr(i, end - i);
    if (kind_ == Kind::RequestHead && lines_ == 0 && !checkRequestLineBytes(segment)) {
      return fail(400, details::kCodecError);
    }
    if (!segment.empty()) previous_ = segment.back();
    line_length_ += segment.size();
    const size_t line_without_cr = line_length_ - (previous_ == '\r' ? 1 : 0);
    if (bytes_ + line_without_cr > max_bytes_) return fail(431, details::kHeadersTooLarge);
    if (lf == nullptr) return Status::NeedMore;

    if (previous_ != '\r') return fail(400, details::kBareLineFeed);
    const bool empty_line = line_length_ == 1;
    bytes_ += line_length_ + 1;
    line_length_ = 0;
    previous_ = '\n';
    at_line_start_ = true;
    i = end + 1;
    if (empty_line) {
      // RFC 9112 2.2: empty lines before a start line are ignored (they still count
      // towards the limit so a peer cannot stream them forever).
      if (lines_ == 0 && kind_ != Kind::Trailers) {
        if (bytes_ > max_bytes_) return fail(431, details::kHeadersTooLarge);
        continue;
      }
      active_ = false;
      return Status::Done;
    }
    if (bytes_ > max_bytes_) return fail(431, details::kHeadersTooLarge);
    if (kind_ == Kind::RequestHead && lines_ == 0 && !requestLineComplete()) {
      return fail(400, details::kCodecError);
    }
    ++lines_;
  }
  return Status::NeedMore;
}

}  // namespace remora::http::h1
