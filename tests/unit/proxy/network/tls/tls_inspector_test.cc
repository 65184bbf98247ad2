#include "proxy/network/tls/tls_inspector.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/unit/proxy/network/tls/tls_test_support.h"

namespace remora::network::tls {
namespace {

using testing::clientContext;

// The ClientHello a real client session sends first.
std::string clientHello(const testing::TlsYaml& options) {
  TlsSession client(clientContext(options));
  std::string ignored;
  EXPECT_EQ(client.readPlaintext(ignored), TlsStatus::WantMore);
  std::string hello;
  client.takeCiphertext(hello);
  return hello;
}

TEST(TlsInspectorTest, ParsesSniAndAlpnOfARealClientHello) {
  const std::string hello =
      clientHello({.cert = "", .alpn = "[h2, http/1.1]", .sni = "server.local"});
  EXPECT_TRUE(looksLikeTlsClientHello(hello));
  EXPECT_EQ(sniFromClientHello(hello), "server.local");
  ClientHelloInfo info;
  ASSERT_EQ(parseClientHello(hello, info), ClientHelloParse::Complete);
  EXPECT_EQ(info.server_name, "server.local");
  EXPECT_EQ(info.alpn_protocols, (std::vector<std::string>{"h2", "http/1.1"}));
}

TEST(TlsInspectorTest, ClientHelloWithoutSni) {
  const std::string hello = clientHello({.cert = ""});
  ClientHelloInfo info;
  ASSERT_EQ(parseClientHello(hello, info), ClientHelloParse::Complete);
  EXPECT_EQ(info.server_name, "");
  EXPECT_TRUE(info.alpn_protocols.empty());
  EXPECT_EQ(sniFromClientHello(hello), std::nullopt);
}

TEST(TlsInspectorTest, EveryPrefixNeedsMoreBytes) {
  const std::string hello = clientHello({.cert = "", .sni = "server.local"});
  for (std::size_t length = 0; length < hello.size(); ++length) {
    ClientHelloInfo info;
    ASSERT_EQ(parseClientHello(std::string_view(hello).substr(0, length), info),
              ClientHelloParse::NeedMoreBytes)
        << length;
    if (length > 0) {
      EXPECT_TRUE(looksLikeTlsClientHello(hello.substr(0, length))) << length;
    }
  }
}

TEST(TlsInspectorTest, ClientHelloSplitAcrossRecords) {
  const std::string hello = clientHello({.cert = "", .sni = "split.local"});
  // Re-frame the handshake message as two records.
  const std::string message = hello.substr(5);
  const std::size_t half = message.size() / 2;
  const auto record = [](std::string_view payload) {
    std::string framed = {'\x16', '\x03', '\x01', static_cast<char>(payload.size() >> 8),
                          static_cast<char>(payload.size() & 0xff)};
    framed += payload;
    return framed;
  };
  const std::string split = record(message.substr(0, half)) + record(message.substr(half));
  EXPECT_EQ(sniFromClientHello(split), "split.local");
  ClientHelloInfo info;
  EXPECT_EQ(parseClientHello(split.substr(0, split.size() - 1), info),
            ClientHelloParse::NeedMoreBytes);
}

TEST(TlsInspectorTest, PlaintextIsNotTls) {
  EXPECT_FALSE(looksLikeTlsClientHello(""));
  EXPECT_FALSE(looksLikeTlsClientHello("G"));
  EXPECT_FALSE(looksLikeTlsClientHello("GET / HTTP/1.1\r\n"));
  EXPECT_FALSE(looksLikeTlsClientHello("PRI * HTTP/2.0\r\n"));
  ClientHelloInfo info;
  EXPECT_EQ(parseClientHello("GET / HTTP/1.1\r\n\r\n", info), ClientHelloParse::NotClientHello);
  EXPECT_EQ(sniFromClientHello("GET / HTTP/1.1\r\n\r\n"), std::nullopt);
}

TEST(TlsInspectorTest, RecordHeaderChecks) {
  using namespace std::string_literals;
  EXPECT_TRUE(looksLikeTlsClientHello("\x16"s));
  EXPECT_TRUE(looksLikeTlsClientHello("\x16\x03\x01\x02\x00\x01"s));
  EXPECT_FALSE(looksLikeTlsClientHello("\x16\x02"s));                  // SSLv2-ish version
  EXPECT_FALSE(looksLikeTlsClientHello("\x16\x03\x05"s));              // unknown minor
  EXPECT_FALSE(looksLikeTlsClientHello("\x16\x03\x01\x00\x00"s));      // empty record
  EXPECT_FALSE(looksLikeTlsClientHello("\x16\x03\x01\x40\x01"s));      // over 16 KiB
  EXPECT_FALSE(looksLikeTlsClientHello("\x16\x03\x01\x00\x10\x02"s));  // ServerHello
  EXPECT_FALSE(looksLikeTlsClientHello("\x17\x03\x03\x00\x10"s));      // application data
}

TEST(TlsInspectorTest, OversizedClientHelloIsRefused) {
  using namespace std::string_literals;
  // A handshake header announcing 16 MiB.
  const std::string huge = "\x16\x03\x01\x00\x04\x01\xff\xff\xff"s;
  ClientHelloInfo info;
  EXPECT_EQ(parseClientHello(huge, info), ClientHelloParse::NotClientHello);
}

TEST(TlsInspectorTest, MutatedClientHellosNeverCrash) {
  const std::string hello = clientHello({.cert = "", .alpn = "[h2]", .sni = "server.local"});
  std::mt19937 random(42);
  std::size_t complete = 0;
  for (std::size_t i = 0; i < hello.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string mutated = hello;
      mutated[i] = static_cast<char>(mutated[i] ^ (1 << bit));
      ClientHelloInfo info;
      if (parseClientHello(mutated, info) == ClientHelloParse::Complete) ++complete;
      sniFromClientHello(mutated.substr(0, random() % (mutated.size() + 1)));
    }
  }
  // Flips inside the random or the key share still parse; length flips do not.
  EXPECT_GT(complete, 0u);
  EXPECT_LT(complete, hello.size() * 8);
}

TEST(TlsInspectorTest, RandomGarbageNeverCrashes) {
  std::mt19937 random(7);
  for (int round = 0; round < 2000; ++round) {
    std::string garbage(random() % 600, '\0');
    for (char& c : garbage) c = static_cast<char>(random());
    // Half the inputs get a plausible record header so the body parser runs.
    if (round % 2 == 0 && garbage.size() >= 9) {
      const std::size_t length = garbage.size() - 5;
      garbage[0] = '\x16';
      garbage[1] = '\x03';
      garbage[2] = '\x01';
      garbage[3] = static_cast<char>(length >> 8);
      garbage[4] = static_cast<char>(length & 0xff);
      garbage[5] = '\x01';
    }
    ClientHelloInfo info;
    parseClientHello(garbage, info);
    looksLikeTlsClientHello(garbage);
    EXPECT_EQ(
        sniFromClientHello(garbage).has_value(),
        parseClientHello(garbage, info) == ClientHelloParse::Complete && !info.server_name.empty());
  }
}

}  // namespace
}  // namespace remora::network::tls
