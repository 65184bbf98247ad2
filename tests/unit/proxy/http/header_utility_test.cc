#include "proxy/http/header_utility.h"

#include <gtest/gtest.h>

#include <regex>

namespace remora::http {
namespace {

RequestHead requestWith(std::initializer_list<std::pair<std::string, std::string>> headers) {
  RequestHead head;
  head.method = "GET";
  head.path = "/";
  head.authority = "example.com";
  for (const auto& [name, value] : headers) head.headers.add(name, value);
  return head;
}

TEST(HeaderUtilityTest, HasTokenIsCaseInsensitiveAndSplitsOnCommas) {
  EXPECT_TRUE(hasToken("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(hasToken("close", "close"));
  EXPECT_FALSE(hasToken("closed", "close"));
  EXPECT_FALSE(hasToken("", "close"));
}

TEST(HeaderUtilityTest, UpgradeNeedsBothHeaders) {
  EXPECT_EQ(upgradeType(requestWith({{"upgrade", "WebSocket"}, {"connection", "Upgrade"}})),
            "websocket");
  EXPECT_EQ(upgradeType(requestWith({{"upgrade", "websocket"}})), "");
  EXPECT_EQ(upgradeType(requestWith({{"connection", "upgrade"}})), "");
}

TEST(HeaderUtilityTest, RequestWantsClose) {
  EXPECT_TRUE(requestWantsClose(requestWith({{"connection", "close"}})));
  EXPECT_FALSE(requestWantsClose(requestWith({})));
  RequestHead http10 = requestWith({});
  http10.protocol = Protocol::Http10;
  EXPECT_TRUE(requestWantsClose(http10));
  http10.headers.add("connection", "keep-alive");
  EXPECT_FALSE(requestWantsClose(http10));
}

TEST(HeaderUtilityTest, RemovesHopByHopHeaders) {
  RequestHead head = requestWith({{"connection", "keep-alive"},
                                  {"keep-alive", "timeout=5"},
                                  {"proxy-connection", "keep-alive"},
                                  {"transfer-encoding", "chunked"},
                                  {"te", "gzip"},
                                  {"upgrade", "h2c"},
                                  {"x-kept", "1"}});
  removeHopByHopHeaders(head.headers, false);
  ASSERT_EQ(head.headers.size(), 1u);
  EXPECT_EQ(*head.headers.get("x-kept"), "1");
}

TEST(HeaderUtilityTest, KeepsTeTrailersAndUpgradeWhenAsked) {
  RequestHead head = requestWith(
      {{"te", "trailers"}, {"upgrade", "websocket"}, {"connection", "Upgrade, keep-alive"}});
  removeHopByHopHeaders(head.headers, true);
  EXPECT_EQ(*head.headers.get("te"), "trailers");
  EXPECT_EQ(*head.headers.get("upgrade"), "websocket");
  EXPECT_EQ(*head.headers.get("connection"), "upgrade");
}

TEST(HeaderUtilityTest, InternalAddresses) {
  for (const char* ip :
       {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "127.0.0.1", "::1", "fd00::1"}) {
    EXPECT_TRUE(isInternalAddress(ip)) << ip;
  }
  for (const char* ip : {"172.32.0.1", "8.8.8.8", "2001:db8::1", "not-an-ip"}) {
    EXPECT_FALSE(isInternalAddress(ip)) << ip;
  }
}

TEST(HeaderUtilityTest, UseRemoteAddressAppendsXffAndOverwritesProto) {
  std::mt19937_64 random(1);
  RequestHead head = requestWith(
      {{"x-forwarded-for", "1.1.1.1"}, {"x-forwarded-proto", "https"}, {"x-request-id", "abc"}});
  ForwardingOptions options;
  options.use_remote_address = true;
  const std::string client = applyForwardingHeaders(head, "10.0.0.7", "http", options, random);
  EXPECT_EQ(client, "10.0.0.7");
  EXPECT_EQ(*head.headers.get("x-forwarded-for"), "1.1.1.1,10.0.0.7");
  EXPECT_EQ(*head.headers.get("x-forwarded-proto"), "http");
  EXPECT_EQ(*head.headers.get("x-request-id"), "abc");  // internal client: kept
  EXPECT_FALSE(head.headers.has("x-envoy-external-address"));
}

TEST(HeaderUtilityTest, WithoutUseRemoteAddressXffIsUntouched) {
  std::mt19937_64 random(1);
  RequestHead head = requestWith({{"x-forwarded-for", "1.1.1.1"}});
  applyForwardingHeaders(head, "10.0.0.7", "http", ForwardingOptions{}, random);
  EXPECT_EQ(*head.headers.get("x-forwarded-for"), "1.1.1.1");
  EXPECT_EQ(*head.headers.get("x-forwarded-proto"), "http");
}

TEST(HeaderUtilityTest, TrustedHopsPickTheClientFromXff) {
  std::mt19937_64 random(1);
  RequestHead head =
      requestWith({{"x-forwarded-for", "203.0.113.9, 10.0.0.1"}, {"x-request-id", "ext"}});
  ForwardingOptions options;
  options.use_remote_address = true;
  options.xff_num_trusted_hops = 2;
  const std::string client = applyForwardingHeaders(head, "10.0.0.2", "http", options, random);
  EXPECT_EQ(client, "203.0.113.9");
  EXPECT_EQ(*head.headers.get("x-envoy-external-address"), "203.0.113.9");
  // An external request's id is replaced unless preserve_external_request_id.
  EXPECT_NE(*head.headers.get("x-request-id"), "ext");
}

TEST(HeaderUtilityTest, GeneratesRequestIdWhenAbsent) {
  std::mt19937_64 random(42);
  RequestHead head = requestWith({});
  applyForwardingHeaders(head, "127.0.0.1", "http", ForwardingOptions{}, random);
  const std::regex uuid_v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  ASSERT_TRUE(head.headers.has("x-request-id"));
  EXPECT_TRUE(std::regex_match(*head.headers.get("x-request-id"), uuid_v4))
      << *head.headers.get("x-request-id");
}

TEST(HeaderUtilityTest, NoRequestIdWhenGenerationIsOff) {
  std::mt19937_64 random(42);
  RequestHead head = requestWith({});
  ForwardingOptions options;
  options.generate_request_id = false;
  applyForwardingHeaders(head, "127.0.0.1", "http", options, random);
  EXPECT_FALSE(head.headers.has("x-request-id"));
}

}  // namespace
}  // namespace remora::http

namespace remora::http {
namespace {

TEST(TraceContextTest, ValidTraceparentGetsANewParentId) {
  std::mt19937_64 random(7);
  HeaderMap headers;
  headers.add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  headers.add("tracestate", "congo=t61rcWkgMzE");
  ASSERT_TRUE(writeChildSpan(headers, random));
  const std::string& tp = *headers.get("traceparent");
  EXPECT_EQ(tp.substr(0, 36), "00-4bf92f3577b34da6a3ce929d0e0e4736-");
  EXPECT_EQ(tp.substr(52), "-01");
  EXPECT_NE(tp.substr(36, 16), "00f067aa0ba902b7");
  EXPECT_TRUE(std::regex_match(tp.substr(36, 16), std::regex("[0-9a-f]{16}")));
  EXPECT_EQ(*headers.get("tracestate"), "congo=t61rcWkgMzE");
}

TEST(TraceContextTest, MalformedTraceparentIsLeftAlone) {
  std::mt19937_64 random(7);
  for (const char* bad : {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                          "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"}) {
    HeaderMap headers;
    headers.add("traceparent", bad);
    EXPECT_FALSE(writeChildSpan(headers, random)) << bad;
    EXPECT_EQ(*headers.get("traceparent"), bad);
  }
  HeaderMap none;
  EXPECT_FALSE(writeChildSpan(none, random));
  EXPECT_FALSE(none.has("traceparent"));
}

}  // namespace
}  // namespace remora::http
