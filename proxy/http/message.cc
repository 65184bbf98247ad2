#include "proxy/http/message.h"

#include <cstring>

namespace remora::http {

namespace {
char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Header names are short: lower-casing and comparing them a word at a time (SWAR)
// costs a few instructions per 8 bytes instead of a few per byte.
template <typename Word>
Word loadWord(const char* p) {
  Word w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

template <typename Word>
Word lowerWord(Word w) {
  constexpr Word kOnes = static_cast<Word>(~Word{0}) / 0xff;  // 0x0101...
  const Word seven_bits = w & (kOnes * 0x7f);
  // Bit 7 of each byte of these sums says ">= 'A'" and "> 'Z'" for its low 7 bits; no
  // sum carries into the next byte.
  const Word at_least_a = seven_bits + kOnes * (0x80 - 'A');
  const Word above_z = seven_bits + kOnes * (0x7f - 'Z');
  const Word upper = (at_least_a ^ above_z) & ~w & (kOnes * 0x80);
  return w | (upper >> 2);  // 0x80 >> 2 is the case bit 0x20
}

template <typename Word>
bool wordsEqualIgnoringCase(const char* a, const char* b) {
  const Word wa = loadWord<Word>(a);
  const Word wb = loadWord<Word>(b);
  return wa == wb || lowerWord(wa) == lowerWord(wb);
}

template <typename Word>
void copyLowerWord(char* to, const char* from) {
  const Word w = lowerWord(loadWord<Word>(from));
  std::memcpy(to, &w, sizeof w);
}

// Calls visit(offset) for Word-sized windows covering [0, n), n >= sizeof(Word); the
// last window may overlap the one before (both operations tolerate seeing bytes twice).
template <typename Word, typename Visit>
bool allWindows(size_t n, Visit visit) {
  size_t i = 0;
  for (; i + sizeof(Word) < n; i += sizeof(Word)) {
    if (!visit(i)) return false;
  }
  return visit(n - sizeof(Word));
}

bool sameSizeEqualIgnoringCase(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    return allWindows<uint64_t>(
        n, [&](size_t i) { return wordsEqualIgnoringCase<uint64_t>(a + i, b + i); });
  }
  if (n >= 4) {
    return wordsEqualIgnoringCase<uint32_t>(a, b) &&
           wordsEqualIgnoringCase<uint32_t>(a + n - 4, b + n - 4);
  }
  for (size_t i = 0; i < n; ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
}

// Reads every word from `from`, so copying a name in from the read buffer never loads
// a word that was just stored (lower-casing in place after a copy stalled on store
// forwarding: 1.4% of a proxy worker's CPU). `to` may equal `from`.
void copyLowered(char* to, const char* from, size_t n) {
  if (n >= 8) {
    allWindows<uint64_t>(n, [&](size_t i) {
      copyLowerWord<uint64_t>(to + i, from + i);
      return true;
    });
  } else if (n >= 4) {
    copyLowerWord<uint32_t>(to, from);
    copyLowerWord<uint32_t>(to + n - 4, from + n - 4);
  } else {
    for (size_t i = 0; i < n; ++i) to[i] = lowerAscii(from[i]);
  }
}

// Slots of maps whose connection went idle, for the next map on this thread (each
// worker is one thread). Bounded: past it, released slots are freed.
constexpr size_t kSpareSlotSetsPerThread = 256;
thread_local std::vector<std::vector<HeaderEntry>> spare_slot_sets;
}  // namespace

void toLowerAscii(std::string& s) { copyLowered(s.data(), s.data(), s.size()); }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sameSizeEqualIgnoringCase(a.data(), b.data(), a.size());
}

bool hasToken(std::string_view list, std::string_view token) {
  bool found = false;
  forEachListElement(
      list, [&](std::string_view element) { found = found || equalsIgnoreCase(element, token); });
  return found;
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

void HeaderMap::makeRoomForOneMore() {
  if (entries_.capacity() == 0 && !spare_slot_sets.empty()) {
    entries_.swap(spare_slot_sets.back());
    spare_slot_sets.pop_back();
    if (size_ < entries_.size()) return;
  }
  // Most heads have under 16 fields: one allocation instead of five regrowths.
  if (entries_.capacity() == 0) entries_.reserve(16);
  entries_.emplace_back();
}

void HeaderMap::add(std::string_view name, std::string_view value) {
  if (size_ == entries_.size()) makeRoomForOneMore();
  HeaderEntry& e = entries_[size_++];
  e.name.resize(name.size());
  copyLowered(e.name.data(), name.data(), name.size());
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

size_t HeaderMap::find(std::string_view name, size_t from) const {
  for (size_t i = from; i < size_; ++i) {
    if (equalsIgnoreCase(entries_[i].name, name)) return i;
  }
  return size_;
}

void HeaderMap::set(std::string_view name, std::string_view value) {
  // One pass: overwrite the first field of that name, drop any others.
  const size_t first = find(name);
  if (first == size_) {
    add(name, value);
    return;
  }
  entries_[first].value.assign(value);
  auto same_name = [&](const HeaderEntry& e) { return equalsIgnoreCase(e.name, name); };
  removeMatching(first + 1, same_name);
}

size_t HeaderMap::remove(std::string_view name) {
  const size_t first = find(name);
  if (first == size_) return 0;
  auto same_name = [&](const HeaderEntry& e) { return equalsIgnoreCase(e.name, name); };
  return removeMatching(first, same_name);
}

const std::string* HeaderMap::get(std::string_view name) const {
  const size_t index = find(name);
  return index == size_ ? nullptr : &entries_[index].value;
}

std::string HeaderMap::getJoined(std::string_view name) const {
  size_t index = find(name);
  if (index == size_) return {};
  std::string out = entries_[index].value;
  while ((index = find(name, index + 1)) != size_) {
    out += ", ";
    out += entries_[index].value;
  }
  return out;
}

size_t HeaderMap::count(std::string_view name) const {
  size_t n = 0;
  for (size_t i = find(name); i < size_; i = find(name, i + 1)) ++n;
  return n;
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
