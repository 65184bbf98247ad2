// HeaderMap keeps removed and cleared fields as spare slots and swaps on move
// assignment; these tests pin down that the visible behaviour stays that of a plain
// ordered multimap.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "proxy/http/message.h"

namespace remora::http {
namespace {

std::vector<std::string> fields(const HeaderMap& map) {
  std::vector<std::string> out;
  for (const HeaderEntry& e : map) out.push_back(e.name + "=" + e.value);
  return out;
}

TEST(HeaderMapTest, RemoveKeepsTheOrderOfTheOtherFields) {
  HeaderMap map;
  map.add("a", "1");
  map.add("x", "2");
  map.add("b", "3");
  map.add("X", "4");
  map.add("c", "5");
  EXPECT_EQ(map.remove("x"), 2u);
  EXPECT_EQ(fields(map), (std::vector<std::string>{"a=1", "b=3", "c=5"}));
  EXPECT_EQ(map.size(), 3u);
  EXPECT_FALSE(map.has("x"));
}

TEST(HeaderMapTest, SetKeepsTheFirstPositionAndDropsRepeats) {
  HeaderMap map;
  map.add("a", "1");
  map.add("via", "p");
  map.add("b", "2");
  map.add("via", "q");
  map.set("Via", "r");
  EXPECT_EQ(fields(map), (std::vector<std::string>{"a=1", "via=r", "b=2"}));
  map.set("new", "n");
  EXPECT_EQ(fields(map), (std::vector<std::string>{"a=1", "via=r", "b=2", "new=n"}));
}

TEST(HeaderMapTest, FieldsAddedAfterClearOrRemoveAreExactlyTheNewOnes) {
  HeaderMap map;
  map.add("user-agent", "a long user agent value that is not inline");
  map.add("accept", "*/*");
  map.remove("user-agent");
  map.add("z", "");
  EXPECT_EQ(fields(map), (std::vector<std::string>{"accept=*/*", "z="}));
  map.clear();
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.get("accept"), nullptr);
  EXPECT_EQ(map.byteSize(), 0u);
  map.add("Host", "example.com");
  EXPECT_EQ(fields(map), (std::vector<std::string>{"host=example.com"}));
  EXPECT_EQ(map.count("host"), 1u);
  EXPECT_EQ(map.getJoined("host"), "example.com");
}

TEST(HeaderMapTest, RemoveIfCountsAndRemovesMatches) {
  HeaderMap map;
  map.add("keep", "1");
  map.add("drop", "2");
  map.add("drop", "3");
  EXPECT_EQ(map.removeIf([](const HeaderEntry& e) { return e.name == "drop"; }), 2u);
  EXPECT_EQ(fields(map), (std::vector<std::string>{"keep=1"}));
}

TEST(HeaderMapTest, RemoveIfTakesANamedPredicate) {
  HeaderMap map;
  map.add("keep", "1");
  map.add("drop", "2");
  const auto drop = [](const HeaderEntry& e) { return e.name == "drop"; };
  EXPECT_EQ(map.removeIf(drop), 1u);
  EXPECT_EQ(map.removeIf(drop), 0u);
  EXPECT_EQ(fields(map), (std::vector<std::string>{"keep=1"}));
}

// Names of 1 to 20 bytes take every path of the word-at-a-time comparison and
// lower-casing (byte by byte, 4-byte and 8-byte words, overlapping last word).
TEST(HeaderMapTest, NamesOfEveryLengthAreStoredLowerCaseAndFoundInAnyCase) {
  const std::string upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (size_t length = 1; length <= 20; ++length) {
    const std::string name = upper.substr(length % 7, length);
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(c + 32);
    std::string mixed = lower;
    for (size_t i = 0; i < mixed.size(); i += 2) mixed[i] = name[i];
    HeaderMap map;
    map.add("x", "0");
    map.add(name, "1");
    EXPECT_EQ(map.begin()[1].name, lower) << length;
    ASSERT_NE(map.get(mixed), nullptr) << length;
    EXPECT_EQ(*map.get(mixed), "1") << length;
    EXPECT_EQ(map.count(name), 1u) << length;
    // The same name with its last byte changed is another field.
    std::string other = lower;
    other.back() = '0';
    EXPECT_EQ(map.get(other), nullptr) << length;
    map.set(mixed, "2");
    EXPECT_EQ(fields(map), (std::vector<std::string>{"x=0", lower + "=2"})) << length;
  }
}

TEST(HeaderMapTest, OnlyAsciiLettersFoldCase) {
  HeaderMap map;
  // '@' and '[' border 'A'..'Z', '`' and '{' border 'a'..'z'; 0xC1 is 'A' | 0x80.
  map.add("@[`{\xC1x-name", "v");
  EXPECT_EQ(map.begin()->name, "@[`{\xC1x-name");
  EXPECT_NE(map.get("@[`{\xC1X-NAME"), nullptr);
  EXPECT_EQ(map.get("`{@[\xC1x-name"), nullptr);
  EXPECT_EQ(map.get("@[`{\xE1x-name"), nullptr);
  EXPECT_FALSE(equalsIgnoreCase("a\xC1", "A\xE1"));
  EXPECT_TRUE(equalsIgnoreCase("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(equalsIgnoreCase("content-length", "content-lengt"));
  std::string s = "X-Forwarded-FOR@[\xC1";
  toLowerAscii(s);
  EXPECT_EQ(s, "x-forwarded-for@[\xC1");
}

TEST(HeaderMapTest, GetJoinedJoinsEveryValueOfTheName) {
  HeaderMap map;
  map.add("Via", "a");
  map.add("x", "b");
  map.add("via", "c");
  EXPECT_EQ(map.getJoined("VIA"), "a, c");
  EXPECT_EQ(map.getJoined("none"), "");
  EXPECT_EQ(map.count("via"), 2u);
}

TEST(HeaderEntryTest, SwapExchangesNamesAndValuesShortOrLong) {
  const std::string long_value(40, 'v');
  HeaderEntry a{"a", long_value};
  HeaderEntry b{"b-longer-than-the-inline-buffer", "1"};
  swap(a, b);
  EXPECT_EQ(a.name, "b-longer-than-the-inline-buffer");
  EXPECT_EQ(a.value, "1");
  EXPECT_EQ(b.name, "a");
  EXPECT_EQ(b.value, long_value);
}

TEST(HeaderMapTest, MoveAssignmentLeavesTheSourceEmptyAndUsable) {
  HeaderMap target;
  target.add("old", "value");
  HeaderMap source;
  source.add("new", "value");
  target = std::move(source);
  EXPECT_EQ(fields(target), (std::vector<std::string>{"new=value"}));
  EXPECT_TRUE(source.empty());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_EQ(source.get("old"), nullptr);
  source.add("again", "1");
  EXPECT_EQ(fields(source), (std::vector<std::string>{"again=1"}));

  HeaderMap constructed(std::move(target));
  EXPECT_EQ(fields(constructed), (std::vector<std::string>{"new=value"}));
  EXPECT_TRUE(target.empty());  // NOLINT(bugprone-use-after-move)
}

TEST(HeaderMapTest, CopiesHoldOnlyTheLiveFields) {
  HeaderMap map;
  map.add("a", "1");
  map.add("b", "2");
  map.remove("a");
  const HeaderMap copy(map);
  EXPECT_EQ(fields(copy), (std::vector<std::string>{"b=2"}));
  HeaderMap assigned;
  assigned.add("x", "1");
  assigned.add("y", "2");
  assigned = map;
  EXPECT_EQ(fields(assigned), (std::vector<std::string>{"b=2"}));
}

TEST(RequestHeadTest, ClearResetsEveryField) {
  RequestHead head;
  head.method = "POST";
  head.path = "/a/very/long/path/that/is/not/inline?x=1";
  head.authority = "example.com";
  head.scheme = "https";
  head.protocol = Protocol::Http10;
  head.headers.add("a", "1");
  head.clear();
  const RequestHead fresh;
  EXPECT_EQ(head.method, fresh.method);
  EXPECT_EQ(head.path, fresh.path);
  EXPECT_EQ(head.authority, fresh.authority);
  EXPECT_EQ(head.scheme, fresh.scheme);
  EXPECT_EQ(head.protocol, fresh.protocol);
  EXPECT_TRUE(head.headers.empty());
}

TEST(HeaderMapTest, ReleasedSlotsGoToTheNextMapOnTheSameThread) {
  const std::string long_value(64, 'v');  // beyond the small-string buffer: heap storage
  HeaderMap idle;
  idle.add("x-long", long_value);
  const char* storage = idle.begin()->value.data();
  idle.releaseSlots();
  EXPECT_TRUE(idle.empty());
  EXPECT_EQ(idle.begin(), idle.end());

  HeaderMap next;
  next.add("x-other", long_value);
  EXPECT_EQ(next.begin()->value.data(), storage);
  EXPECT_EQ(fields(next), (std::vector<std::string>{"x-other=" + long_value}));

  idle.add("a", "1");  // a released map still works, with fresh slots
  EXPECT_EQ(fields(idle), (std::vector<std::string>{"a=1"}));
}

TEST(FieldListTest, HasTokenIsCaseInsensitiveAndSplitsOnCommas) {
  EXPECT_TRUE(hasToken("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(hasToken("close", "close"));
  EXPECT_TRUE(hasToken(" ,\tclose\t, ", "close"));
  EXPECT_FALSE(hasToken("closed", "close"));
  EXPECT_FALSE(hasToken("", "close"));
}

TEST(FieldListTest, ElementsAreTrimmedAndEmptyOnesSkipped) {
  std::vector<std::string> elements;
  forEachListElement(" gzip ,, \tchunked\t,",
                     [&](std::string_view e) { elements.emplace_back(e); });
  EXPECT_EQ(elements, (std::vector<std::string>{"gzip", "chunked"}));
  EXPECT_EQ(trimOws(" \t a b \t "), "a b");
  EXPECT_EQ(trimOws(" \t "), "");
}

}  // namespace
}  // namespace remora::http
