// The RBAC filter on a stream: the 403 local reply, the stats it counts (enforced and
// shadow), what it records in StreamInfo, and the factory's registration.
#include "filters/rbac/rbac_filter.h"

#include <gtest/gtest.h>

#include <optional>

#include "telemetry/stats/stats_store.h"
#include "tests/unit/filters/rbac/rbac_test_support.h"

namespace remora::filters::rbac {
namespace {

using testing::Request;

struct LocalReply {
  int status;
  std::string body;
  std::string details;
  stream::ResponseFlag flag;
};

// Records what the filter asks of its stream; everything else is unused.
class FakeCallbacks : public FilterCallbacks {
 public:
  explicit FakeCallbacks(Request& request) : request_(request) {}

  void sendLocalReply(int status, std::string_view body, std::string_view details,
                      stream::ResponseFlag flag) override {
    reply = LocalReply{status, std::string(body), std::string(details), flag};
  }
  http::RequestHead& requestHead() override { return request_.head; }
  stream::StreamInfo& streamInfo() override { return request_.info; }

  void continueRequest() override { ADD_FAILURE() << "continueRequest"; }
  void continueResponse() override { ADD_FAILURE() << "continueResponse"; }
  const router::RouteEntry* route() override { return nullptr; }
  void overrideStreamIdleTimeout(std::chrono::milliseconds) override {}
  void encodeHeaders(http::ResponseHead&&, bool) override { ADD_FAILURE() << "encodeHeaders"; }
  void encodeData(std::string_view, bool) override { ADD_FAILURE() << "encodeData"; }
  void encodeTrailers(http::HeaderMap&&) override { ADD_FAILURE() << "encodeTrailers"; }
  void resetStream() override { ADD_FAILURE() << "resetStream"; }
  void setDownstreamReadEnabled(bool) override {}
  bool downstreamAboveHighWatermark() const override { return false; }

  std::optional<LocalReply> reply;

 private:
  Request& request_;
};

const char* const kDenyAdminAllowGetConfig = R"(
rules:
  action: DENY
  policies:
    deny admin:
      permissions: [{url_path: {path: {prefix: /admin}}}]
      principals: [{any: true}]
shadow_rules:
  action: ALLOW
  policies:
    get-only:
      permissions: [{header: {name: ':method', string_match: {exact: GET}}}]
      principals: [{any: true}]
)";

class RbacFilterTest : public ::testing::Test {
 protected:
  // Runs one request through a fresh filter on worker shard 0.
  FilterStatus run(const std::string& config_yaml, Request& request) {
    config_ = std::make_shared<const RbacConfig>(testing::parse(config_yaml));
    RbacFilter filter(config_, store_.httpRbacScope("ingress").shard(0));
    callbacks_ = std::make_unique<FakeCallbacks>(request);
    filter.setCallbacks(*callbacks_);
    return filter.onRequestHeaders(request.head, true);
  }

  // %DYNAMIC_METADATA(envoy.filters.http.rbac:<key>)% as the access log prints it.
  static std::string metadata(const Request& request, std::string_view key) {
    const std::optional<std::string_view> value =
        request.info.rbac.lookup("envoy.filters.http.rbac", key);
    return value ? std::string(*value) : "-";
  }

  uint64_t counter(const std::string& name) {
    for (const stats::MergedStat& s : store_.snapshot()) {
      if (s.full_name == name) return s.counter;
    }
    ADD_FAILURE() << "no stat " << name;
    return 0;
  }

  // allowed, denied, shadow_allowed, shadow_denied
  std::vector<uint64_t> counters() {
    return {counter("http.ingress.rbac.allowed"), counter("http.ingress.rbac.denied"),
            counter("http.ingress.rbac.shadow_allowed"),
            counter("http.ingress.rbac.shadow_denied")};
  }

  stats::Store store_{1};
  std::shared_ptr<const RbacConfig> config_;
  std::unique_ptr<FakeCallbacks> callbacks_;
};

TEST_F(RbacFilterTest, DeniedRequestGets403WithThePolicyInTheDetails) {
  Request request;
  request.head.path = "/admin/users";
  EXPECT_EQ(run(kDenyAdminAllowGetConfig, request), FilterStatus::Stop);
  ASSERT_TRUE(callbacks_->reply.has_value());
  EXPECT_EQ(callbacks_->reply->status, 403);
  EXPECT_EQ(callbacks_->reply->body, "RBAC: access denied");
  // The space in the policy name becomes '_' so the access log keeps its fields.
  EXPECT_EQ(callbacks_->reply->details, "rbac_access_denied_matched_policy[deny_admin]");
  // Remora's own flag (Envoy has none for RBAC): %RESPONSE_FLAGS% reads "RBAC".
  EXPECT_EQ(callbacks_->reply->flag, stream::ResponseFlag::RbacAccessDenied);
  EXPECT_EQ(metadata(request, "enforced_effective_policy_id"), "deny admin");
  EXPECT_EQ(metadata(request, "enforced_engine_result"), "denied");
  EXPECT_EQ(metadata(request, "shadow_effective_policy_id"), "get-only");
  EXPECT_EQ(metadata(request, "shadow_engine_result"), "allowed");
  EXPECT_EQ(counters(), (std::vector<uint64_t>{0, 1, 1, 0}));
}

TEST_F(RbacFilterTest, AllowedRequestContinuesAndIsCounted) {
  Request request;
  request.head.method = "POST";
  request.head.path = "/public";
  EXPECT_EQ(run(kDenyAdminAllowGetConfig, request), FilterStatus::Continue);
  EXPECT_FALSE(callbacks_->reply.has_value());
  // Under DENY, allowed means nothing matched: no policy id.
  EXPECT_EQ(metadata(request, "enforced_effective_policy_id"), "-");
  EXPECT_EQ(metadata(request, "enforced_engine_result"), "allowed");
  EXPECT_EQ(metadata(request, "shadow_effective_policy_id"), "-");
  EXPECT_EQ(metadata(request, "shadow_engine_result"), "denied");
  // The shadow rules (GET only) would have denied it: counted, not enforced.
  EXPECT_EQ(counters(), (std::vector<uint64_t>{1, 0, 0, 1}));
}

TEST_F(RbacFilterTest, AllowActionWithoutAMatchNamesNoPolicy) {
  Request request;
  request.head.path = "/private";
  EXPECT_EQ(run(R"(
rules:
  policies:
    public: {permissions: [{url_path: {path: {prefix: /public}}}], principals: [{any: true}]}
)",
                request),
            FilterStatus::Stop);
  ASSERT_TRUE(callbacks_->reply.has_value());
  EXPECT_EQ(callbacks_->reply->status, 403);
  EXPECT_EQ(callbacks_->reply->details, "rbac_access_denied_matched_policy[none]");
  EXPECT_EQ(metadata(request, "enforced_effective_policy_id"), "-");
  EXPECT_EQ(metadata(request, "enforced_engine_result"), "denied");
  EXPECT_EQ(metadata(request, "shadow_engine_result"), "-");  // no shadow rules
}

TEST_F(RbacFilterTest, AllowActionRecordsTheMatchedPolicy) {
  Request request;
  request.head.path = "/public/a";
  EXPECT_EQ(run(R"(
rules:
  policies:
    public: {permissions: [{url_path: {path: {prefix: /public}}}], principals: [{any: true}]}
)",
                request),
            FilterStatus::Continue);
  EXPECT_EQ(metadata(request, "enforced_effective_policy_id"), "public");
  EXPECT_EQ(counters(), (std::vector<uint64_t>{1, 0, 0, 0}));
}

TEST_F(RbacFilterTest, ShadowRulesAloneNeverDeny) {
  const std::string shadow_only = R"(
shadow_rules:
  action: DENY
  policies:
    no-delete:
      permissions: [{header: {name: ':method', string_match: {exact: DELETE}}}]
      principals: [{any: true}]
)";
  Request del;
  del.head.method = "DELETE";
  EXPECT_EQ(run(shadow_only, del), FilterStatus::Continue);
  EXPECT_FALSE(callbacks_->reply.has_value());
  EXPECT_EQ(del.info.response_code_details, "");
  EXPECT_EQ(del.info.response_flags, 0u);
  EXPECT_EQ(metadata(del, "shadow_effective_policy_id"), "no-delete");
  EXPECT_EQ(metadata(del, "shadow_engine_result"), "denied");
  EXPECT_EQ(metadata(del, "enforced_engine_result"), "-");
  Request get;
  EXPECT_EQ(run(shadow_only, get), FilterStatus::Continue);
  Request get_again;
  EXPECT_EQ(run(shadow_only, get_again), FilterStatus::Continue);
  EXPECT_EQ(counters(), (std::vector<uint64_t>{0, 0, 2, 1}));
}

TEST_F(RbacFilterTest, NoRulesPassesEverythingUncounted) {
  Request request;
  EXPECT_EQ(run("{}", request), FilterStatus::Continue);
  EXPECT_FALSE(callbacks_->reply.has_value());
  EXPECT_EQ(counters(), (std::vector<uint64_t>{0, 0, 0, 0}));
  EXPECT_EQ(request.info.rbac.filter, stream::RbacMetadata::Filter::None);
}

// remote_ip is the client the connection manager trusts after x-forwarded-for;
// direct_remote_ip (and the deprecated source_ip) the socket peer.
TEST_F(RbacFilterTest, RemoteIpMatchesTheTrustedClientAndDirectRemoteIpThePeer) {
  const std::string config = R"(
rules:
  action: ALLOW
  policies:
    via-xff: {permissions: [{any: true}], principals: [{remote_ip: {address_prefix: 203.0.113.0, prefix_len: 24}}]}
    peer: {permissions: [{any: true}], principals: [{direct_remote_ip: {address_prefix: 10.0.0.1, prefix_len: 32}}]}
)";
  Request forwarded;  // peer 10.0.0.1, client 203.0.113.7 by x-forwarded-for
  forwarded.info.downstream_trusted_client_ip = "203.0.113.7";
  EXPECT_EQ(run(config, forwarded), FilterStatus::Continue);
  EXPECT_EQ(metadata(forwarded, "enforced_effective_policy_id"), "peer");  // first by name

  const std::string remote_only = R"(
rules:
  policies:
    via-xff: {permissions: [{any: true}], principals: [{remote_ip: {address_prefix: 203.0.113.0, prefix_len: 24}}]}
)";
  Request from_xff;
  from_xff.info.downstream_trusted_client_ip = "203.0.113.7";
  EXPECT_EQ(run(remote_only, from_xff), FilterStatus::Continue);
  Request direct;  // no x-forwarded-for: the client is the peer, 10.0.0.1
  EXPECT_EQ(run(remote_only, direct), FilterStatus::Stop);

  const std::string direct_only = R"(
rules:
  policies:
    direct: {permissions: [{any: true}], principals: [{direct_remote_ip: {address_prefix: 203.0.113.0, prefix_len: 24}}]}
    source: {permissions: [{any: true}], principals: [{source_ip: {address_prefix: 203.0.113.0, prefix_len: 24}}]}
)";
  Request spoofed;
  spoofed.info.downstream_trusted_client_ip = "203.0.113.7";
  EXPECT_EQ(run(direct_only, spoofed), FilterStatus::Stop);

  // An x-forwarded-for entry that is no IP leaves the peer as the client, as in Envoy.
  Request garbage;
  garbage.info.downstream_trusted_client_ip = "unknown";
  EXPECT_EQ(run(R"(
rules:
  policies:
    peer: {permissions: [{any: true}], principals: [{remote_ip: {address_prefix: 10.0.0.1, prefix_len: 32}}]}
)",
                garbage),
            FilterStatus::Continue);
}

// rules_stat_prefix and shadow_rules_stat_prefix go into the stat names (joined with a
// dot, as Envoy's statPrefixJoin) and in front of the metadata keys (as they are).
TEST(RbacStatPrefixTest, PrefixesNameTheStatsAndTheMetadataKeys) {
  const std::string config_yaml = R"(
rules_stat_prefix: enforced_
shadow_rules_stat_prefix: canary.
rules: {action: DENY, policies: {all: {permissions: [{any: true}], principals: [{any: true}]}}}
shadow_rules: {action: ALLOW}
)";
  stats::Store store(1);
  const std::string prefix = "ingress";
  findHttpFilterFactory("envoy.filters.http.rbac")
      ->createFilterFactory(testing::typedConfig(config_yaml),
                            FilterFactoryContext{.store = store, .stat_prefix = prefix});
  std::vector<std::string> names;
  for (const stats::MergedStat& s : store.snapshot()) {
    if (s.full_name.find(".rbac.") != std::string::npos) names.push_back(s.full_name);
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{
                "http.ingress.rbac.canary.shadow_allowed", "http.ingress.rbac.canary.shadow_denied",
                "http.ingress.rbac.enforced_.allowed", "http.ingress.rbac.enforced_.denied"}));

  const auto config = std::make_shared<const RbacConfig>(testing::parse(config_yaml));
  RbacFilter filter(config, store.httpRbacScope("ingress", "enforced_", "canary.").shard(0));
  Request request;
  FakeCallbacks callbacks(request);
  filter.setCallbacks(callbacks);
  EXPECT_EQ(filter.onRequestHeaders(request.head, true), FilterStatus::Stop);
  for (const stats::MergedStat& s : store.snapshot()) {
    if (s.full_name == "http.ingress.rbac.enforced_.denied" ||
        s.full_name == "http.ingress.rbac.canary.shadow_denied") {
      EXPECT_EQ(s.counter, 1u) << s.full_name;
    }
  }
  const stream::RbacMetadata& rbac = request.info.rbac;
  EXPECT_EQ(rbac.lookup("envoy.filters.http.rbac", "enforced_enforced_engine_result"), "denied");
  EXPECT_EQ(rbac.lookup("envoy.filters.http.rbac", "enforced_enforced_effective_policy_id"), "all");
  EXPECT_EQ(rbac.lookup("envoy.filters.http.rbac", "canary.shadow_engine_result"), "denied");
  EXPECT_EQ(rbac.lookup("envoy.filters.http.rbac", "enforced_engine_result"), std::nullopt);
  EXPECT_EQ(rbac.lookup("envoy.filters.network.rbac", "canary.shadow_engine_result"), std::nullopt);
}

TEST(RbacDetailsTest, WhitespaceInPolicyNamesBecomesUnderscores) {
  const std::string name = "a \t\f\v\n\ry";
  EXPECT_EQ(deniedResponseDetails(&name), "rbac_access_denied_matched_policy[a______y]");
  EXPECT_EQ(deniedResponseDetails(nullptr), "rbac_access_denied_matched_policy[none]");
}

TEST(RbacFactoryTest, IsRegisteredAndRegistersStatsUnderTheStatPrefix) {
  const HttpFilterFactory* factory = findHttpFilterFactory("envoy.filters.http.rbac");
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->typeUrl(), "envoy.extensions.filters.http.rbac.v3.RBAC");
  EXPECT_FALSE(factory->terminal());

  stats::Store store(1);
  const std::string prefix = "ingress_http";
  factory->createFilterFactory(testing::typedConfig("rules: {action: DENY}"),
                               FilterFactoryContext{.store = store, .stat_prefix = prefix});
  std::vector<std::string> names;
  for (const stats::MergedStat& s : store.snapshot()) {
    if (s.full_name.find(".rbac.") != std::string::npos) names.push_back(s.full_name);
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{
                "http.ingress_http.rbac.allowed", "http.ingress_http.rbac.denied",
                "http.ingress_http.rbac.shadow_allowed", "http.ingress_http.rbac.shadow_denied"}));
}

TEST(RbacFactoryTest, ConfigErrorsPropagate) {
  stats::Store store(1);
  const std::string prefix = "p";
  try {
    findHttpFilterFactory("envoy.filters.http.rbac")
        ->createFilterFactory(testing::typedConfig("rules: {action: LOG}"),
                              FilterFactoryContext{.store = store, .stat_prefix = prefix});
    ADD_FAILURE() << "no error";
  } catch (const config::ConfigError& error) {
    EXPECT_STREQ(error.what(),
                 "rbac.yaml:1:17: typed_config.rules.action: action LOG is not supported");
  }
}

}  // namespace
}  // namespace remora::filters::rbac
