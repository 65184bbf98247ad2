// Protocol-neutral HTTP message model shared by every codec (h1 today, h2 later):
// filters and the router only ever see these types, never protocol framing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace remora::http {

// Header names are stored lower-case (HTTP/2 requires it and it makes lookups cheap);
// insertion order and repeated fields are preserved.
struct HeaderEntry {
  std::string name;
  std::string value;
};

// Member-wise: std::swap's three moves copy short strings three times over.
inline void swap(HeaderEntry& a, HeaderEntry& b) noexcept {
  a.name.swap(b.name);
  a.value.swap(b.value);
}

// Removed fields keep their strings as spare slots that later add()s refill, and a move
// assignment swaps the two maps: a map that is cleared and refilled for every request
// (codecs, recycled streams) stops allocating once its slots are large enough.
class HeaderMap {
 public:
  HeaderMap() = default;
  HeaderMap(const HeaderMap& other);
  HeaderMap& operator=(const HeaderMap& other);
  HeaderMap(HeaderMap&& other) noexcept
      : entries_(std::move(other.entries_)), size_(std::exchange(other.size_, 0)) {}
  // Swaps: `other` is left empty but keeps this map's slots for its next use.
  HeaderMap& operator=(HeaderMap&& other) noexcept;

  void add(std::string_view name, std::string_view value);
  // Replaces every field of that name with one field.
  void set(std::string_view name, std::string_view value);
  // Returns how many fields were removed.
  size_t remove(std::string_view name);
  // One pass for several names at once; `predicate` takes a const HeaderEntry&.
  template <typename Predicate>
  size_t removeIf(Predicate&& predicate) {
    return removeMatching(0, predicate);
  }
  // First value of the field, or nullptr.
  const std::string* get(std::string_view name) const;
  // All values of the field joined with ", " (RFC 9110 5.3), empty if absent.
  std::string getJoined(std::string_view name) const;
  bool has(std::string_view name) const { return get(name) != nullptr; }
  size_t count(std::string_view name) const;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }
  // Clears the map and hands its slots to a per-thread spare list that the next map to
  // need slots takes them from: an idle keep-alive connection then holds none, and a
  // busy one still allocates nothing per request.
  void releaseSlots();
  // Bytes of names and values, as counted against max_request_headers_kb.
  size_t byteSize() const;

  auto begin() const { return entries_.cbegin(); }
  auto end() const { return entries_.cbegin() + static_cast<std::ptrdiff_t>(size_); }

 private:
  // Moves the live fields matching `predicate` behind the live range, keeping the order
  // of the others (swaps, so the removed strings stay as spare slots).
  template <typename Predicate>
  size_t removeMatching(size_t from, Predicate& predicate) {
    size_t kept = from;
    for (size_t i = from; i < size_; ++i) {
      if (predicate(std::as_const(entries_[i]))) continue;
      if (i != kept) swap(entries_[kept], entries_[i]);
      ++kept;
    }
    const size_t removed = size_ - kept;
    size_ = kept;
    return removed;
  }
  // Out of line: add() needs it only when every slot is live.
  [[gnu::noinline]] void makeRoomForOneMore();
  // Index of the first live field named `name` (any case) at or after `from`, or size_.
  size_t find(std::string_view name, size_t from = 0) const;

  // Fields [0, size_) are live; the rest are spare slots.
  std::vector<HeaderEntry> entries_;
  size_t size_ = 0;
};

// Lower-cases ASCII in place.
void toLowerAscii(std::string& s);
// ASCII case-insensitive; other bytes must match exactly.
bool equalsIgnoreCase(std::string_view a, std::string_view b);

// Without leading and trailing spaces and tabs (RFC 9110 OWS). Inline: the h1 parser
// trims every field value.
inline std::string_view trimOws(std::string_view s) {
  const auto ows = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && ows(s.back())) s.remove_suffix(1);
  return s;
}

// Calls `visit` with each non-empty, OWS-trimmed element of a comma-separated field
// value (RFC 9110 5.6.1), in order, without allocating.
template <typename Visit>
void forEachListElement(std::string_view list, Visit visit) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view element = trimOws(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (!element.empty()) visit(element);
  }
}

// True when the header value (a comma-separated token list) contains `token`,
// case-insensitively ("Connection: keep-alive, Upgrade" contains "upgrade").
bool hasToken(std::string_view list, std::string_view token);

enum class Protocol : uint8_t { Http10, Http11, Http2 };
std::string_view protocolString(Protocol p);

struct RequestHead {
  std::string method;
  // Origin-form path including the query string, as received ("/a/b?c=d").
  std::string path;
  // Host header (h1) or :authority (h2).
  std::string authority;
  std::string scheme = "http";
  Protocol protocol = Protocol::Http11;
  HeaderMap headers;

  std::string_view pathWithoutQuery() const;
  std::string_view query() const;
  // Empties it for the next request, keeping the strings' and fields' capacity.
  void clear();
};

struct ResponseHead {
  int status = 200;
  HeaderMap headers;

  void clear() {
    status = 200;
    headers.clear();
  }
};

std::string_view reasonPhrase(int status);

}  // namespace remora::http
