#include "proxy/http/h2/header_block.h"

namespace remora::http::h2 {

namespace {

bool isConnectionSpecific(const HeaderEntry& field) {
  const std::string& name = field.name;
  if (name == "te") return !equalsIgnoreCase(field.value, "trailers");
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade";
}

}  // namespace

// ---- HeaderBlock ----

void HeaderBlock::reset() {
  for (std::string& value : pseudo_) value.clear();
  pseudo_present_ = 0;
  fields_.clear();
  cookie_.clear();
  has_cookie_ = false;
  bytes_ = 0;
  regular_count_ = 0;
  over_limit_ = false;
}

int HeaderBlock::slotOf(std::string_view name) {
  if (name == ":method") return kMethod;
  if (name == ":path") return kPath;
  if (name == ":scheme") return kScheme;
  if (name == ":authority") return kAuthority;
  if (name == ":status") return kStatus;
  return -1;
}

void HeaderBlock::add(std::string_view name, std::string_view value, const Http2Settings& limits) {
  if (over_limit_) return;
  const bool pseudo = !name.empty() && name.front() == ':';
  bytes_ += name.size() + value.size();
  if (!pseudo) ++regular_count_;
  if (bytes_ > static_cast<size_t>(limits.max_request_headers_kb) * 1024 ||
      regular_count_ > limits.max_headers_count) {
    reset();
    over_limit_ = true;
    return;
  }
  if (pseudo) {
    // nghttp2 has rejected unknown and repeated pseudo-headers.
    const int slot = slotOf(name);
    if (slot < 0) return;
    pseudo_[slot].assign(value);
    pseudo_present_ |= static_cast<uint8_t>(1u << slot);
  } else if (name == "cookie") {
    if (has_cookie_) cookie_ += "; ";
    cookie_ += value;
    has_cookie_ = true;
  } else {
    fields_.add(name, value);
  }
}

std::string* HeaderBlock::pseudo(std::string_view name) {
  const int slot = slotOf(name);
  if (slot < 0 || (pseudo_present_ & (1u << slot)) == 0) return nullptr;
  return &pseudo_[slot];
}

HeaderMap HeaderBlock::takeFields() {
  if (has_cookie_) fields_.add("cookie", cookie_);
  HeaderMap fields = std::move(fields_);
  reset();
  return fields;
}

// ---- NvList ----

void NvList::add(std::string_view name, std::string_view value) {
  // NGHTTP2_NV_FLAG_NONE: nghttp2 copies both strings, so the casts never lead to writes.
  const nghttp2_nv nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                      reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                      value.size(), NGHTTP2_NV_FLAG_NONE};
  if (size_ < inline_.size()) {
    inline_[size_++] = nv;
    return;
  }
  if (spill_.empty()) spill_.assign(inline_.begin(), inline_.end());
  spill_.push_back(nv);
  ++size_;
}

void NvList::addRegular(const HeaderMap& fields, bool skip_host) {
  for (const HeaderEntry& field : fields) {
    if (isConnectionSpecific(field)) continue;
    if (skip_host && field.name == "host") continue;
    add(field.name, field.value);
  }
}

}  // namespace remora::http::h2
