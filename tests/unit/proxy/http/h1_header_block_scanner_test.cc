// A block handed over whole may take the scanner's one-pass shortcut; a block fed one
// byte at a time never can. Both must give the same verdict for every block and limit.
#include "proxy/http/h1/header_block_scanner.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "proxy/http/h1/details.h"

namespace remora::http::h1 {
namespace {

using Kind = HeaderBlockScanner::Kind;
using Status = HeaderBlockScanner::Status;

std::string verdict(HeaderBlockScanner& scanner, Status status) {
  if (status != Status::Error) return status == Status::Done ? "done" : "need more";
  return std::to_string(scanner.errorStatus()) + " " + std::string(scanner.errorDetails());
}

std::string scanWhole(Kind kind, std::string_view block, size_t max_bytes) {
  HeaderBlockScanner scanner;
  scanner.start(kind, max_bytes);
  return verdict(scanner, scanner.scan(block));
}

std::string scanByteByByte(Kind kind, std::string_view block, size_t max_bytes) {
  HeaderBlockScanner scanner;
  scanner.start(kind, max_bytes);
  Status status = Status::NeedMore;
  for (size_t i = 0; i < block.size() && status == Status::NeedMore; ++i) {
    status = scanner.scan(block.substr(i, 1));
  }
  return verdict(scanner, status);
}

struct Block {
  Kind kind;
  std::string text;
};

std::vector<Block> blocks() {
  return {
      {Kind::RequestHead, "GET /a HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\nbody"},
      {Kind::RequestHead, "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"},
      {Kind::RequestHead, "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"},
      {Kind::RequestHead, "GET / HTTP/1.1 \r\nHost: a\r\n\r\n"},
      {Kind::RequestHead, "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"},
      {Kind::RequestHead, "GET /\r\nHost: a\r\n\r\n"},
      {Kind::RequestHead, " GET / HTTP/1.1\r\n\r\n"},
      {Kind::RequestHead, "GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n"},
      {Kind::RequestHead, "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"},
      {Kind::RequestHead, "GET / HTTP/1.1\r\nHost: a\r\n\n"},
      {Kind::RequestHead, "GET / HTTP/1.1\r\nHost: a\r\n"},
      {Kind::ResponseHead, "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 2\r\n\r\n ok"},
      {Kind::ResponseHead, "HTTP/1.1  200  OK\r\n\r\n"},
      {Kind::ResponseHead, "HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\n\r\n"},
      {Kind::Trailers, "\r\n"},
      {Kind::Trailers, "X-Trailer: done\r\n\r\n"},
      {Kind::Trailers, " X: a\r\n\r\n"},
      {Kind::Trailers, "X: a\r\n\n"},
  };
}

// From a limit above the start line on: with a smaller one, a start line that is both
// malformed and too long is judged by whichever check sees its bytes first.
TEST(HeaderBlockScannerTest, WholeBlockAndByteByByteAgreeForEveryLimit) {
  for (const Block& block : blocks()) {
    for (size_t max_bytes = 20; max_bytes <= block.text.size() + 2; ++max_bytes) {
      EXPECT_EQ(scanWhole(block.kind, block.text, max_bytes),
                scanByteByByte(block.kind, block.text, max_bytes))
          << block.text << " max " << max_bytes;
    }
  }
}

TEST(HeaderBlockScannerTest, VerdictsOfWholeBlocks) {
  const std::string head = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
  EXPECT_EQ(scanWhole(Kind::RequestHead, head, 100), "done");
  // The limit counts the lines with their CRLFs, not the final empty line.
  EXPECT_EQ(scanWhole(Kind::RequestHead, head, head.size() - 2), "done");
  EXPECT_EQ(scanWhole(Kind::RequestHead, head, head.size() - 3),
            "431 " + std::string(details::kHeadersTooLarge));
  EXPECT_EQ(scanWhole(Kind::RequestHead, "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 100),
            "400 " + std::string(details::kObsFold));
  EXPECT_EQ(scanWhole(Kind::RequestHead, "GET / HTTP/1.1\r\nX: a\n\r\n", 100),
            "400 " + std::string(details::kBareLineFeed));
  EXPECT_EQ(scanWhole(Kind::RequestHead, "GET  / HTTP/1.1\r\n\r\n", 100),
            "400 " + std::string(details::kCodecError));
  EXPECT_EQ(scanWhole(Kind::Trailers, "\r\n", 100), "done");
  EXPECT_EQ(scanWhole(Kind::ResponseHead, "HTTP/1.1 200 OK\r\n", 100), "need more");
}

}  // namespace
}  // namespace remora::http::h1
