// Header sections between nghttp2 and our message model: a received section checked
// against the header limits (HeaderBlock), and the header list handed to nghttp2's
// submit calls (NvList).
#pragma once

#include <nghttp2/nghttp2.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http/h2/settings.h"
#include "proxy/http/message.h"

namespace remora::http::h2 {

// One received header section (request head, response head or trailers).
class HeaderBlock {
 public:
  // Forgets the section; string capacity is kept for the next one.
  void reset();
  // Pseudo-headers are kept apart; "cookie" crumbs are joined with "; " (RFC 9113
  // 8.2.3). Fields past either limit are dropped and overLimit() turns true.
  void add(std::string_view name, std::string_view value, const Http2Settings& limits);
  bool overLimit() const { return over_limit_; }
  // Value of a pseudo-header, or nullptr; the caller may move it out.
  std::string* pseudo(std::string_view name);
  HeaderMap takeFields();

 private:
  // The pseudo-headers nghttp2's messaging validation lets through, one slot each.
  enum Slot : uint8_t { kMethod, kScheme, kAuthority, kPath, kStatus, kSlots };
  static int slotOf(std::string_view name);

  std::array<std::string, kSlots> pseudo_;
  uint8_t pseudo_present_ = 0;  // bit per Slot
  HeaderMap fields_;
  std::string cookie_;
  bool has_cookie_ = false;
  size_t bytes_ = 0;
  size_t regular_count_ = 0;
  bool over_limit_ = false;
};

// An nghttp2 header list viewing the caller's strings, which must outlive the submit
// call (nghttp2 copies them there). Lives on the stack: ordinary heads fit inline,
// longer ones spill to the heap.
class NvList {
 public:
  void add(std::string_view name, std::string_view value);
  // Regular fields minus the connection-specific ones HTTP/2 forbids (RFC 9113
  // 8.2.2); `skip_host` drops "host" when it became :authority.
  void addRegular(const HeaderMap& fields, bool skip_host);
  const nghttp2_nv* data() const { return spill_.empty() ? inline_.data() : spill_.data(); }
  size_t size() const { return size_; }

 private:
  std::array<nghttp2_nv, 24> inline_;
  std::vector<nghttp2_nv> spill_;
  size_t size_ = 0;
};

}  // namespace remora::http::h2
