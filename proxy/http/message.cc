#include "proxy/http/message.h"

#include <algorithm>

namespace remora::http {

namespace {
char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Slots of maps whose connection went idle, for the next map on this thread (each
// worker is one thread). Bounded: past it, released slots are freed.
constexpr size_t kSpareSlotSetsPerThread = 256;
thread_local std::vector<std::vector<HeaderEntry>> spare_slot_sets;
}  // namespace

void toLowerAscii(std::string& s) {
  for (char& c : s) c = lowerAscii(c);
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
}

HeaderMap::HeaderMap(const HeaderMap& other)
    : entries_(other.begin(), other.end()), size_(other.size_) {}

HeaderMap& HeaderMap::operator=(const HeaderMap& other) {
  if (this == &other) return *this;
  clear();
  for (const HeaderEntry& e : other) add(e.name, e.value);
  return *this;
}

HeaderMap& HeaderMap::operator=(HeaderMap&& other) noexcept {
  if (this == &other) return *this;
  entries_.swap(other.entries_);
  size_ = std::exchange(other.size_, 0);
  return *this;
}

void HeaderMap::add(std::string_view name, std::string_view value) {
  if (size_ == entries_.size()) {
    if (entries_.capacity() == 0 && !spare_slot_sets.empty()) {
      entries_.swap(spare_slot_sets.back());
      spare_slot_sets.pop_back();
      if (size_ < entries_.size()) return add(name, value);
    }
    // Most heads have under 16 fields: one allocation instead of five regrowths.
    if (entries_.capacity() == 0) entries_.reserve(16);
    entries_.emplace_back();
  }
  HeaderEntry& e = entries_[size_++];
  e.name.assign(name);
  toLowerAscii(e.name);
  e.value.assign(value);
}

void HeaderMap::releaseSlots() {
  size_ = 0;
  if (entries_.capacity() == 0) return;
  if (spare_slot_sets.size() < kSpareSlotSetsPerThread) {
    if (spare_slot_sets.capacity() == 0) spare_slot_sets.reserve(kSpareSlotSetsPerThread);
    spare_slot_sets.push_back(std::move(entries_));
  }
  entries_ = {};
}

// Moves the live fields matching `predicate` behind the live range, keeping the order
// of the others (swaps, so the removed strings stay as spare slots).
template <typename Predicate>
size_t HeaderMap::removeMatching(size_t from, Predicate predicate) {
  size_t kept = from;
  for (size_t i = from; i < size_; ++i) {
    if (predicate(entries_[i])) continue;
    if (i != kept) std::swap(entries_[kept], entries_[i]);
    ++kept;
  }
  const size_t removed = size_ - kept;
  size_ = kept;
  return removed;
}

void HeaderMap::set(std::string_view name, std::string_view value) {
  // One pass: overwrite the first field of that name, drop any others.
  const auto same_name = [&](const HeaderEntry& e) { return equalsIgnoreCase(e.name, name); };
  const auto first = std::find_if(begin(), end(), same_name);
  if (first == end()) {
    add(name, value);
    return;
  }
  const size_t index = static_cast<size_t>(first - begin());
  entries_[index].value.assign(value);
  removeMatching(index + 1, same_name);
}

size_t HeaderMap::removeIf(const std::function<bool(const HeaderEntry&)>& predicate) {
  return removeMatching(0, predicate);
}

size_t HeaderMap::remove(std::string_view name) {
  return removeMatching(0, [&](const HeaderEntry& e) { return equalsIgnoreCase(e.name, name); });
}

const std::string* HeaderMap::get(std::string_view name) const {
  for (const HeaderEntry& e : *this) {
    if (equalsIgnoreCase(e.name, name)) return &e.value;
  }
  return nullptr;
}

std::string HeaderMap::getJoined(std::string_view name) const {
  std::string out;
  for (const HeaderEntry& e : *this) {
    if (!equalsIgnoreCase(e.name, name)) continue;
    if (!out.empty()) out += ", ";
    out += e.value;
  }
  return out;
}

size_t HeaderMap::count(std::string_view name) const {
  return std::count_if(begin(), end(),
                       [&](const HeaderEntry& e) { return equalsIgnoreCase(e.name, name); });
}

size_t HeaderMap::byteSize() const {
  size_t n = 0;
  for (const HeaderEntry& e : *this) n += e.name.size() + e.value.size();
  return n;
}

std::string_view protocolString(Protocol p) {
  switch (p) {
    case Protocol::Http10:
      return "HTTP/1.0";
    case Protocol::Http11:
      return "HTTP/1.1";
    case Protocol::Http2:
      return "HTTP/2";
  }
  return "HTTP/1.1";
}

void RequestHead::clear() {
  method.clear();
  path.clear();
  authority.clear();
  scheme.assign("http");
  protocol = Protocol::Http11;
  headers.clear();
}

std::string_view RequestHead::pathWithoutQuery() const {
  const std::string_view p = path;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '?' || p[i] == '#') return p.substr(0, i);
  }
  return p;
}

std::string_view RequestHead::query() const {
  std::string_view p = path;
  const size_t q = p.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = p.substr(q + 1);
  const size_t hash = rest.find('#');
  return hash == std::string_view::npos ? rest : rest.substr(0, hash);
}

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 417:
      return "Expectation Failed";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

}  // namespace remora::http
