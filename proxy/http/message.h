// Protocol-neutral HTTP message model shared by every codec (h1 today, h2 later):
// filters and the router only ever see these types, never protocol framing.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace remora::http {

// Header names are stored lower-case (HTTP/2 requires it and it makes lookups cheap);
// insertion order and repeated fields are preserved.
struct HeaderEntry {
  std::string name;
  std::string value;
};

class HeaderMap {
 public:
  void add(std::string_view name, std::string_view value);
  // Replaces every field of that name with one field.
  void set(std::string_view name, std::string_view value);
  // Returns how many fields were removed.
  size_t remove(std::string_view name);
  // One pass for several names at once.
  size_t removeIf(const std::function<bool(const HeaderEntry&)>& predicate);
  // First value of the field, or nullptr.
  const std::string* get(std::string_view name) const;
  // All values of the field joined with ", " (RFC 9110 5.3), empty if absent.
  std::string getJoined(std::string_view name) const;
  bool has(std::string_view name) const { return get(name) != nullptr; }
  size_t count(std::string_view name) const;

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear() { entries_.clear(); }
  // Bytes of names and values, as counted against max_request_headers_kb.
  size_t byteSize() const;

  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }

 private:
  std::vector<HeaderEntry> entries_;
};

// Lower-cases ASCII in place.
void toLowerAscii(std::string& s);
bool equalsIgnoreCase(std::string_view a, std::string_view b);

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
};

struct ResponseHead {
  int status = 200;
  HeaderMap headers;
};

std::string_view reasonPhrase(int status);

}  // namespace remora::http
