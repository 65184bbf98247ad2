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
  // Envoy sets no response flag for RBAC: %RESPONSE_FLAGS% stays "-".
  EXPECT_EQ(callbacks_->reply->flag, stream::ResponseFlag::None);
  EXPECT_EQ(request.info.rbac_policy, "deny admin");
  EXPECT_EQ(counters(), (std::vector<uint64_t>{0, 1, 1, 0}));
}

TEST_F(RbacFilterTest, AllowedRequestContinuesAndIsCounted) {
  Request request;
  request.head.method = "POST";
  request.head.path = "/public";
  EXPECT_EQ(run(kDenyAdminAllowGetConfig, request), FilterStatus::Continue);
  EXPECT_FALSE(callbacks_->reply.has_value());
  EXPECT_EQ(request.info.rbac_policy, "");  // under DENY, allowed means nothing matched
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
  EXPECT_EQ(request.info.rbac_policy, "");
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
  EXPECT_EQ(request.info.rbac_policy, "public");
  EXPECT_EQ(counters(), (std::vector<uint64_t>{1, 0, 0, 0}));
}

TEST_F(RbacFilterTest, ShadowRulesAloneNeverDenyNorTouchStreamInfo) {
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
  EXPECT_EQ(del.info.rbac_policy, "");
  EXPECT_EQ(del.info.response_code_details, "");
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
