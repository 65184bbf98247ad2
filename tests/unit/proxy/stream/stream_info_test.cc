// StreamInfo::reset makes a used StreamInfo equal to a fresh one.
#include "proxy/stream/stream_info.h"

#include <gtest/gtest.h>

namespace remora::stream {
namespace {

// Every field away from its default.
StreamInfo usedStreamInfo() {
  StreamInfo info;
  info.start -= std::chrono::seconds(5);
  info.start_wall -= std::chrono::seconds(5);
  info.last_downstream_rx_byte = info.start + std::chrono::milliseconds(1);
  info.first_upstream_byte = info.start + std::chrono::milliseconds(2);
  info.end = info.start + std::chrono::milliseconds(3);
  info.protocol = http::Protocol::Http2;
  info.response_code = 503;
  info.setFlag(ResponseFlag::UpstreamConnectionFailure);
  info.response_code_details = "upstream_reset_before_response_started{connection_failure}";
  info.route_name = "route";
  info.grpc_status = 14;
  info.cluster_name = "a_cluster_name_longer_than_the_small_string_buffer";
  info.upstream_host = "127.0.0.1:8080";
  info.downstream_remote_address = "10.0.0.1:40000";
  info.downstream_trusted_client_ip = "203.0.113.7";
  info.downstream_local_port = 10000;
  info.peer_uri_sans = {"spiffe://cluster.local/ns/a/sa/b"};
  info.peer_dns_sans = {"client.example.com"};
  info.peer_subject = "CN=client";
  info.tls_version = "TLSv1.3";
  info.tls_cipher = "TLS_AES_128_GCM_SHA256";
  info.requested_server_name = "example.com";
  info.rbac.filter = RbacMetadata::Filter::Http;
  info.rbac.enforced = RbacMetadata::Result::Denied;
  info.rbac.shadow = RbacMetadata::Result::Allowed;
  info.rbac.enforced_policy = "deny-all";
  info.rbac.shadow_policy = "allow-some";
  info.rbac.enforced_key_prefix = "e.";
  info.rbac.shadow_key_prefix = "s.";
  info.connection_termination_details = "rbac_access_denied_matched_policy[deny-all]";
  info.bytes_received = 10;
  info.bytes_sent = 20;
  return info;
}

TEST(StreamInfoTest, ResetGivesAFreshStreamInfoThatStartsNow) {
  StreamInfo info = usedStreamInfo();
  const auto before = StreamInfo::Clock::now();
  info.reset();
  const auto after = StreamInfo::Clock::now();
  EXPECT_GE(info.start, before);
  EXPECT_LE(info.start, after);

  StreamInfo fresh;
  fresh.start = info.start;
  fresh.start_wall = info.start_wall;
  EXPECT_EQ(info, fresh);
}

TEST(StreamInfoTest, ResetKeepsTheStorageOfLongStrings) {
  StreamInfo info = usedStreamInfo();
  const size_t capacity = info.cluster_name.capacity();
  info.reset();
  EXPECT_TRUE(info.cluster_name.empty());
  EXPECT_EQ(info.cluster_name.capacity(), capacity);
}

}  // namespace
}  // namespace remora::stream
