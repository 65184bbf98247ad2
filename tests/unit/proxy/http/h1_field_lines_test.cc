#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/http/h1/encoding.h"
#include "proxy/http/h1/field_lines.h"

namespace remora::http::h1 {
namespace {

size_t countOneByOne(std::string_view text) {
  size_t count = 0;
  for (const char c : text) count += c == '\r' || c == '\n' || c == '\0';
  return count;
}

// Appends `fields` with appendFieldLines, after `prefix`.
std::string fieldLines(const std::vector<HeaderEntry>& fields, std::string prefix = "") {
  size_t max_size = 0;
  for (const HeaderEntry& field : fields) max_size += fieldLineSize(field.name, field.value);
  appendFieldLines(prefix, max_size, [&](auto& lines) {
    for (const HeaderEntry& field : fields) lines.add(field.name, field.value);
  });
  return prefix;
}

TEST(H1FieldLinesTest, FieldKindTellsSpecialNamesApart) {
  EXPECT_EQ(fieldKind("host"), FieldKind::Host);
  EXPECT_EQ(fieldKind("upgrade"), FieldKind::Upgrade);
  EXPECT_EQ(fieldKind("connection"), FieldKind::Connection);
  EXPECT_EQ(fieldKind("content-length"), FieldKind::ContentLength);
  EXPECT_EQ(fieldKind("transfer-encoding"), FieldKind::TransferEncoding);
  // Same lengths, other names; names in a HeaderMap are lower-case.
  for (const char* name : {"hose", "upgrades", "connectiom", "content-lengtx", "transfer-encodinf",
                           "Host", "CONNECTION", "", "x-forwarded-for"}) {
    EXPECT_EQ(fieldKind(name), FieldKind::Other) << name;
  }
}

TEST(H1FieldLinesTest, CountsCrLfAndNulAtEveryLengthAndPosition) {
  // Lengths around the 16-byte chunks and the masked last chunk.
  for (size_t length = 0; length <= 70; ++length) {
    for (size_t at = 0; at < length; ++at) {
      for (const char special : {'\r', '\n', '\0'}) {
        std::string text(length, 'a');
        text[at] = special;
        text[length - 1 - (at * 7) % length] = '\t';  // a tab is allowed and not counted
        ASSERT_EQ(countLineBreakBytes(text), countOneByOne(text))
            << "length " << length << " at " << at;
      }
    }
    EXPECT_EQ(countLineBreakBytes(std::string(length, 'x')), 0u);
    EXPECT_EQ(countLineBreakBytes(std::string(length, '\n')), length);
  }
}

TEST(H1FieldLinesTest, CountsBeyondWhatOneByteLaneHolds) {
  // 255 chunks fill a lane; a head this long is summed in several blocks.
  for (const size_t length : {255u * 16, 255u * 16 + 1, 256u * 16, 600u * 16 + 9, 65536u}) {
    std::string text(length, '\r');
    EXPECT_EQ(countLineBreakBytes(text), length);
    for (size_t i = 0; i < length; i += 3) text[i] = 'v';
    EXPECT_EQ(countLineBreakBytes(text), countOneByOne(text)) << length;
  }
}

TEST(H1FieldLinesTest, CleanFieldsAreWrittenAsAppendFieldWrites) {
  const std::vector<HeaderEntry> fields = {
      {"server", "remora"}, {"x-empty", ""}, {"x-tab", "a\tb"}, {"x-long", std::string(300, 'v')}};
  std::string expected = "HTTP/1.1 200 OK\r\n";
  for (const HeaderEntry& field : fields) appendField(expected, field.name, field.value);
  EXPECT_EQ(fieldLines(fields, "HTTP/1.1 200 OK\r\n"), expected);
  EXPECT_EQ(fieldLines({}, "prefix"), "prefix");
}

TEST(H1FieldLinesTest, NamesAndValuesOfEveryShortLengthAreCopiedWhole) {
  std::vector<HeaderEntry> fields;
  std::string expected;
  for (size_t length = 1; length <= 40; ++length) {
    std::string text;
    for (size_t i = 0; i < length; ++i) text += static_cast<char>('a' + i % 26);
    fields.push_back({text, text.substr(1)});
    appendField(expected, text, text.substr(1));
  }
  EXPECT_EQ(fieldLines(fields), expected);
}

TEST(H1FieldLinesTest, FieldsThatWouldAddLinesAreLeftOut) {
  for (const std::string bad : {std::string("a\r\nset-cookie: evil"), std::string("a\rb"),
                                std::string("a\nb"), std::string("a\0b", 3)}) {
    EXPECT_EQ(fieldLines({{"x-a", "1"}, {"x-bad", bad}, {"x-b", "2"}}, "P\r\n"),
              "P\r\nx-a: 1\r\nx-b: 2\r\n");
    EXPECT_EQ(fieldLines({{"x-a", "1"}, {"x-" + bad, "v"}, {"x-b", "2"}}, "P\r\n"),
              "P\r\nx-a: 1\r\nx-b: 2\r\n");
  }
}

TEST(H1FieldLinesTest, FieldWithEmptyNameIsLeftOut) {
  EXPECT_EQ(fieldLines({{"", "v"}, {"x-a", "1"}}), "x-a: 1\r\n");
}

TEST(H1FieldLinesTest, StatusLinesForTabledAndOtherCodes) {
  const auto statusLine = [](int status) {
    std::string out = "before|";
    appendStatusLine(out, status);
    return out;
  };
  EXPECT_EQ(statusLine(200), "before|HTTP/1.1 200 OK\r\n");
  EXPECT_EQ(statusLine(100), "before|HTTP/1.1 100 Continue\r\n");
  EXPECT_EQ(statusLine(431), "before|HTTP/1.1 431 Request Header Fields Too Large\r\n");
  EXPECT_EQ(statusLine(599), "before|HTTP/1.1 599 Unknown\r\n");
  EXPECT_EQ(statusLine(600), "before|HTTP/1.1 600 Unknown\r\n");
  EXPECT_EQ(statusLine(99), "before|HTTP/1.1 99 Unknown\r\n");
}

}  // namespace
}  // namespace remora::http::h1
