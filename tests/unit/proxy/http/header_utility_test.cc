#include "proxy/http/header_utility.h"

#include <gtest/gtest.h>

#include <ostream>
#include <regex>
#include <vector>

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

TEST(HeaderUtilityTest, InternalAddressesAreEnvoys) {
  for (const char* ip : {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "127.0.0.1",
                         "::1", "fd00::1", "fdff:ffff::1"}) {
    EXPECT_TRUE(isInternalAddress(ip)) << ip;
  }
  // Envoy counts only 127.0.0.1 of loopback, and neither link-local nor fc00::/8.
  for (const char* ip : {"172.32.0.1", "172.15.0.1", "8.8.8.8", "127.0.0.2", "169.254.1.1",
                         "fc00::1", "fe80::1", "2001:db8::1", "not-an-ip", ""}) {
    EXPECT_FALSE(isInternalAddress(ip)) << ip;
  }
}

TEST(HeaderUtilityTest, ParsedIpIsCanonicalAndRejectsWhatIsNoAddress) {
  EXPECT_EQ(ParsedIp::parse(" 2001:DB8:0::0001\t")->text(), "2001:db8::1");
  EXPECT_EQ(ParsedIp::parse("203.0.113.7")->text(), "203.0.113.7");
  for (const char* text :
       {"", " ", "unknown", "203.0.113.7:80", "[2001:db8::1]", "1.2.3", "fe80::1%eth0", "01.2.3.4",
        "1111:2222:3333:4444:5555:6666:7777:8888:9"}) {
    EXPECT_FALSE(ParsedIp::parse(text)) << text;
  }
}

const std::string kAbsent = "<absent>";

// One request through applyForwardingHeaders: the client it returned (kAbsent for the
// peer) and the forwarding headers afterwards (kAbsent when not there).
struct Forwarded {
  std::string client;
  std::string xff;
  std::string internal;
  std::string external_address;
  std::string proto;
  bool request_id_kept = false;

  bool operator==(const Forwarded&) const = default;
  friend std::ostream& operator<<(std::ostream& os, const Forwarded& f) {
    return os << "{client=" << f.client << " xff=" << f.xff << " internal=" << f.internal
              << " external=" << f.external_address << " proto=" << f.proto
              << " request_id_kept=" << f.request_id_kept << "}";
  }
};

Forwarded forward(std::initializer_list<std::pair<std::string, std::string>> headers,
                  std::string_view peer, bool use_remote_address, uint32_t trusted_hops) {
  RequestHead head = requestWith(headers);
  head.headers.add("x-request-id", "abc");
  ForwardingOptions options;
  options.use_remote_address = use_remote_address;
  options.xff_num_trusted_hops = trusted_hops;
  std::mt19937_64 random(1);
  const std::optional<ParsedIp> client =
      applyForwardingHeaders(head, peer, "http", options, random);
  auto header = [&](std::string_view name) {
    const std::string* value = head.headers.get(name);
    return value ? *value : kAbsent;
  };
  EXPECT_LE(head.headers.count("x-forwarded-for"), 1u);
  return Forwarded{client ? std::string(client->text()) : kAbsent,
                   header("x-forwarded-for"),
                   header("x-envoy-internal"),
                   header("x-envoy-external-address"),
                   header("x-forwarded-proto"),
                   header("x-request-id") == "abc"};
}

// use_remote_address false (Envoy's default): x-forwarded-for is left as it came and
// names the client, xff_num_trusted_hops + 1 entries from the right.
TEST(HeaderUtilityTest, WithoutUseRemoteAddressWithoutXffTheClientIsThePeerAndExternal) {
  // Even an internal peer: without x-forwarded-for Envoy calls the request external.
  EXPECT_EQ(forward({}, "10.0.0.7", false, 0),
            (Forwarded{kAbsent, kAbsent, kAbsent, kAbsent, "http", true}));
}

TEST(HeaderUtilityTest, WithoutUseRemoteAddressTheRightmostEntryIsTheClient) {
  EXPECT_EQ(forward({{"x-forwarded-for", "203.0.113.7"}}, "10.0.0.7", false, 0),
            (Forwarded{"203.0.113.7", "203.0.113.7", kAbsent, kAbsent, "http", true}));
  // Envoy's example 6: a single internal entry makes the request internal.
  EXPECT_EQ(forward({{"x-forwarded-for", "10.20.30.40"}}, "10.20.30.50", false, 0),
            (Forwarded{"10.20.30.40", "10.20.30.40", "true", kAbsent, "http", true}));
  // Example 2: several entries; internal needs a single one.
  EXPECT_EQ(forward({{"x-forwarded-for", "203.0.113.128, 203.0.113.10, 203.0.113.1, 192.0.2.5"}},
                    "10.11.12.13", false, 0),
            (Forwarded{"192.0.2.5", "203.0.113.128, 203.0.113.10, 203.0.113.1, 192.0.2.5", kAbsent,
                       kAbsent, "http", true}));
  EXPECT_EQ(forward({{"x-forwarded-for", "10.0.0.1,10.0.0.2"}}, "10.0.0.3", false, 0).internal,
            kAbsent);
}

TEST(HeaderUtilityTest, WithoutUseRemoteAddressTrustedHopsSkipEntriesFromTheRight) {
  const std::string xff = "203.0.113.128, 203.0.113.10, 203.0.113.1, 192.0.2.5";
  const std::vector<std::string> expected = {"192.0.2.5",     "203.0.113.1", "203.0.113.10",
                                             "203.0.113.128", kAbsent,       kAbsent};
  for (uint32_t hops = 0; hops < expected.size(); ++hops) {
    const Forwarded f = forward({{"x-forwarded-for", xff}}, "10.11.12.13", false, hops);
    EXPECT_EQ(f.client, expected[hops]) << "hops " << hops;
    EXPECT_EQ(f.xff, xff);
    EXPECT_EQ(f.external_address, kAbsent);
  }
  // A lone internal entry behind trusted hops is no internal request.
  EXPECT_EQ(forward({{"x-forwarded-for", "10.0.0.1, 10.0.0.2"}}, "10.0.0.3", false, 1),
            (Forwarded{"10.0.0.1", "10.0.0.1, 10.0.0.2", kAbsent, kAbsent, "http", true}));
  // With one entry and one trusted hop there is no second entry: the peer.
  EXPECT_EQ(forward({{"x-forwarded-for", "203.0.113.7"}}, "10.0.0.7", false, 1).client, kAbsent);
}

TEST(HeaderUtilityTest, AnEntryThatIsNoAddressLeavesThePeerAsTheClient) {
  for (const char* xff : {"unknown", "203.0.113.7, unknown", "203.0.113.7,", "", ",",
                          "203.0.113.7:443", "[2001:db8::1]"}) {
    const Forwarded f = forward({{"x-forwarded-for", xff}}, "10.0.0.7", false, 0);
    EXPECT_EQ(f.client, kAbsent) << xff;
    EXPECT_EQ(f.internal, kAbsent) << xff;
    EXPECT_EQ(f.xff, xff);
  }
  // Only the chosen entry has to be an address.
  EXPECT_EQ(forward({{"x-forwarded-for", "unknown, 203.0.113.7"}}, "10.0.0.7", false, 0).client,
            "203.0.113.7");
  EXPECT_EQ(forward({{"x-forwarded-for", "unknown, 203.0.113.7"}}, "10.0.0.7", false, 1).client,
            kAbsent);
}

TEST(HeaderUtilityTest, XffEntriesAreTrimmedCanonicalAndJoinedAcrossFields) {
  EXPECT_EQ(
      forward({{"x-forwarded-for", "203.0.113.1,  2001:DB8::0001 "}}, "10.0.0.7", false, 0).client,
      "2001:db8::1");
  // Repeated fields are one list, joined by "," as Envoy folds them.
  const Forwarded f =
      forward({{"x-forwarded-for", "203.0.113.1"}, {"x-forwarded-for", "203.0.113.2"}}, "10.0.0.7",
              true, 2);
  EXPECT_EQ(f.client, "203.0.113.1");
  EXPECT_EQ(f.xff, "203.0.113.1,203.0.113.2,10.0.0.7");
}

TEST(HeaderUtilityTest, WithoutUseRemoteAddressTheReceivedProtoIsKept) {
  EXPECT_EQ(forward({{"x-forwarded-proto", "https"}}, "10.0.0.7", false, 0).proto, "https");
}

TEST(HeaderUtilityTest, IncomingXEnvoyInternalIsRemovedUnlessTheRequestIsInternal) {
  EXPECT_EQ(forward({{"x-envoy-internal", "true"}, {"x-forwarded-for", "203.0.113.7"}}, "10.0.0.7",
                    false, 0)
                .internal,
            kAbsent);
  EXPECT_EQ(forward({{"x-envoy-internal", "false"}}, "10.0.0.7", true, 0).internal, "true");
}

// use_remote_address true: the peer is appended to x-forwarded-for; the client is the
// peer, or with N trusted hops the N-th entry from the right of the received header.
TEST(HeaderUtilityTest, UseRemoteAddressWithoutXffTheClientIsThePeer) {
  EXPECT_EQ(forward({}, "10.0.0.7", true, 0),
            (Forwarded{kAbsent, "10.0.0.7", "true", kAbsent, "http", true}));
  // An external peer is recorded in x-envoy-external-address and its id replaced.
  EXPECT_EQ(forward({}, "192.0.2.5", true, 0),
            (Forwarded{kAbsent, "192.0.2.5", kAbsent, "192.0.2.5", "http", false}));
  EXPECT_EQ(forward({}, "2001:db8::5", true, 0),
            (Forwarded{kAbsent, "2001:db8::5", kAbsent, "2001:db8::5", "http", false}));
  // Trusted hops with no header to read fall back to the peer.
  EXPECT_EQ(forward({}, "10.0.0.7", true, 1),
            (Forwarded{kAbsent, "10.0.0.7", "true", kAbsent, "http", true}));
}

TEST(HeaderUtilityTest, UseRemoteAddressWithXffAndNoTrustedHopsIgnoresXff) {
  // Envoy's example 1.
  EXPECT_EQ(forward({{"x-forwarded-for", "203.0.113.128, 203.0.113.10, 203.0.113.1"},
                     {"x-forwarded-proto", "https"}},
                    "192.0.2.5", true, 0),
            (Forwarded{kAbsent, "203.0.113.128, 203.0.113.10, 203.0.113.1,192.0.2.5", kAbsent,
                       "192.0.2.5", "http", false}));
  // Any x-forwarded-for makes the request external, even from an internal peer.
  EXPECT_EQ(forward({{"x-forwarded-for", "10.0.0.1"}}, "10.0.0.7", true, 0),
            (Forwarded{kAbsent, "10.0.0.1,10.0.0.7", kAbsent, "10.0.0.7", "http", false}));
}

TEST(HeaderUtilityTest, UseRemoteAddressTrustedHopsReadTheReceivedXff) {
  const std::string xff = "203.0.113.128, 203.0.113.10, 203.0.113.1";
  // Hop N is the N-th entry from the right, before the peer is appended.
  const std::vector<std::string> expected = {kAbsent, "203.0.113.1", "203.0.113.10",
                                             "203.0.113.128", kAbsent};
  for (uint32_t hops = 0; hops < expected.size(); ++hops) {
    const Forwarded f = forward({{"x-forwarded-for", xff}}, "192.0.2.5", true, hops);
    EXPECT_EQ(f.client, expected[hops]) << "hops " << hops;
    EXPECT_EQ(f.xff, xff + ",192.0.2.5");
    // Envoy's example 3: the external address is the trusted client.
    EXPECT_EQ(f.external_address, hops >= 1 && hops <= 3 ? expected[hops] : "192.0.2.5");
    EXPECT_EQ(f.internal, kAbsent);
    EXPECT_FALSE(f.request_id_kept);
  }
  EXPECT_EQ(forward({{"x-forwarded-for", "203.0.113.9, not-an-ip"}}, "192.0.2.5", true, 1),
            (Forwarded{kAbsent, "203.0.113.9, not-an-ip,192.0.2.5", kAbsent, "192.0.2.5", "http",
                       false}));
}

TEST(HeaderUtilityTest, UseRemoteAddressOverwritesProtoAndHonoursSkipXffAppend) {
  RequestHead head =
      requestWith({{"x-forwarded-for", "203.0.113.9"}, {"x-forwarded-proto", "http"}});
  ForwardingOptions options;
  options.use_remote_address = true;
  options.xff_num_trusted_hops = 1;
  options.skip_xff_append = true;
  std::mt19937_64 random(1);
  const std::optional<ParsedIp> client =
      applyForwardingHeaders(head, "192.0.2.5", "https", options, random);
  ASSERT_TRUE(client);
  EXPECT_EQ(client->text(), "203.0.113.9");
  EXPECT_EQ(*head.headers.get("x-forwarded-for"), "203.0.113.9");
  EXPECT_EQ(*head.headers.get("x-forwarded-proto"), "https");
  EXPECT_EQ(*head.headers.get("x-envoy-external-address"), "203.0.113.9");
}

TEST(HeaderUtilityTest, PreserveExternalRequestIdKeepsAnEdgeRequestsId) {
  RequestHead head = requestWith({{"x-request-id", "ext"}});
  ForwardingOptions options;
  options.use_remote_address = true;
  options.preserve_external_request_id = true;
  std::mt19937_64 random(1);
  applyForwardingHeaders(head, "192.0.2.5", "http", options, random);
  EXPECT_EQ(*head.headers.get("x-request-id"), "ext");
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
