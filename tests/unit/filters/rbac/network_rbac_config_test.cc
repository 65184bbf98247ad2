// envoy.filters.network.rbac's config: its own fields, the rules it shares with the
// HTTP filter, the matchers a TCP stream can use, and the exact config errors.
#include <gtest/gtest.h>

#include "filters/rbac/rbac_config.h"
#include "tests/unit/filters/rbac/rbac_test_support.h"

namespace remora::filters::rbac {
namespace {

using testing::Request;
using testing::typedConfig;

NetworkRbacConfig parseNetwork(const std::string& yaml) {
  return parseNetworkRbacConfig(typedConfig(yaml));
}

std::string networkError(const std::string& yaml) {
  try {
    parseNetworkRbacConfig(typedConfig(yaml));
  } catch (const config::ConfigError& error) {
    return error.what();
  }
  return "no error";
}

bool allowed(const Engine& engine, const Request& request) {
  return engine.evaluate(RequestView(http::RequestHead{}, request.info)).allowed;
}

TEST(NetworkRbacConfigTest, ParsesStatPrefixRulesAndShadowRules) {
  const NetworkRbacConfig config = parseNetwork(
      "stat_prefix: tcp_rbac.\n"
      "enforcement_type: ONE_TIME_ON_FIRST_BYTE\n"
      "rules:\n"
      "  action: DENY\n"
      "  policies:\n"
      "    loopback:\n"
      "      permissions: [{any: true}]\n"
      "      principals: [{remote_ip: {address_prefix: 127.0.0.0, prefix_len: 8}}]\n"
      "shadow_rules:\n"
      "  policies:\n"
      "    port-8443:\n"
      "      permissions: [{destination_port: 8443}]\n"
      "      principals: [{any: true}]\n");
  EXPECT_EQ(config.stat_prefix, "tcp_rbac.");
  ASSERT_TRUE(config.rules.rules.has_value());
  ASSERT_TRUE(config.rules.shadow_rules.has_value());
  Request loopback;
  loopback.info.downstream_remote_address = "127.0.0.1:5000";
  loopback.info.downstream_local_port = 8443;
  Request remote;
  remote.info.downstream_local_port = 9000;
  EXPECT_FALSE(allowed(*config.rules.rules, loopback));
  EXPECT_TRUE(allowed(*config.rules.rules, remote));
  EXPECT_TRUE(allowed(*config.rules.shadow_rules, loopback));
  EXPECT_FALSE(allowed(*config.rules.shadow_rules, remote));
}

TEST(NetworkRbacConfigTest, StatPrefixAloneMeansNoRules) {
  const NetworkRbacConfig config = parseNetwork("stat_prefix: x.\n");
  EXPECT_FALSE(config.rules.rules.has_value());
  EXPECT_FALSE(config.rules.shadow_rules.has_value());
}

TEST(NetworkRbacConfigTest, AuthenticatedAndNestedPrincipalsWork) {
  const NetworkRbacConfig config = parseNetwork(
      "stat_prefix: x.\n"
      "rules:\n"
      "  policies:\n"
      "    spiffe-not-local:\n"
      "      permissions: [{not_rule: {destination_port: 1}}]\n"
      "      principals:\n"
      "        - and_ids:\n"
      "            ids:\n"
      "              - authenticated: {principal_name: {exact: 'spiffe://td/ns/a'}}\n"
      "              - not_id: {direct_remote_ip: {address_prefix: 10.0.0.0, prefix_len: 8}}\n");
  Request from_a;
  from_a.info.downstream_remote_address = "192.168.1.1:1";
  from_a.info.downstream_local_port = 443;
  from_a.info.peer_uri_sans = {"spiffe://td/ns/a"};
  Request from_a_inside = from_a;
  from_a_inside.info.downstream_remote_address = "10.1.1.1:1";
  Request anonymous = from_a;
  anonymous.info.peer_uri_sans.clear();
  EXPECT_TRUE(allowed(*config.rules.rules, from_a));
  EXPECT_FALSE(allowed(*config.rules.rules, from_a_inside));
  EXPECT_FALSE(allowed(*config.rules.rules, anonymous));
}

TEST(NetworkRbacConfigErrorTest, StatPrefixIsRequiredAndNonEmpty) {
  EXPECT_EQ(networkError("rules: {}\n"),
            "rbac.yaml:1:1: typed_config.stat_prefix: missing required field 'stat_prefix'");
  EXPECT_EQ(networkError("stat_prefix: ''\n"),
            "rbac.yaml:1:14: typed_config.stat_prefix: stat_prefix must not be empty");
}

TEST(NetworkRbacConfigTest, ShadowRulesStatPrefixIsKept) {
  const NetworkRbacConfig config = parseNetworkRbacConfig(
      testing::typedConfig("stat_prefix: tcp_rbac\nshadow_rules_stat_prefix: canary_\n"));
  EXPECT_EQ(config.stat_prefix, "tcp_rbac");
  EXPECT_EQ(config.rules.shadow_rules_stat_prefix, "canary_");
}

TEST(NetworkRbacConfigErrorTest, OnlyOneTimeEnforcementIsSupported) {
  EXPECT_EQ(networkError("stat_prefix: x.\nenforcement_type: CONTINUOUS\n"),
            "rbac.yaml:2:19: typed_config.enforcement_type: enforcement_type CONTINUOUS is not "
            "supported");
  EXPECT_EQ(networkError("stat_prefix: x.\nenforcement_type: SOMETIMES\n"),
            "rbac.yaml:2:19: typed_config.enforcement_type: invalid value \"SOMETIMES\" "
            "(expected one of: ONE_TIME_ON_FIRST_BYTE)");
}

TEST(NetworkRbacConfigErrorTest, UnknownAndUnsupportedFields) {
  EXPECT_EQ(networkError("stat_prefix: x.\nbogus: 1\n"),
            "rbac.yaml:2:1: typed_config.bogus: unknown field 'bogus'");
  EXPECT_EQ(networkError("stat_prefix: x.\ndelay_deny: 1s\n"),
            "rbac.yaml:2:13: typed_config.delay_deny: unsupported field 'delay_deny'");
  EXPECT_EQ(networkError("stat_prefix: x.\nmatcher: {}\n"),
            "rbac.yaml:2:10: typed_config.matcher: unsupported field 'matcher'");
}

TEST(NetworkRbacConfigErrorTest, HttpOnlyMatchersAreRefused) {
  EXPECT_EQ(networkError("stat_prefix: x.\n"
                         "rules:\n"
                         "  policies:\n"
                         "    p:\n"
                         "      permissions: [{header: {name: x, present_match: true}}]\n"
                         "      principals: [{any: true}]\n"),
            "rbac.yaml:5:30: typed_config.rules.policies.p.permissions[0].header: 'header' is "
            "not supported by envoy.filters.network.rbac");
  EXPECT_EQ(networkError("stat_prefix: x.\n"
                         "shadow_rules:\n"
                         "  policies:\n"
                         "    p:\n"
                         "      permissions: [{any: true}]\n"
                         "      principals: [{or_ids: {ids: [{url_path: {path: {exact: /}}}]}}]\n"),
            "rbac.yaml:6:47: typed_config.shadow_rules.policies.p.principals[0].or_ids.ids[0]."
            "url_path: 'url_path' is not supported by envoy.filters.network.rbac");
}

TEST(NetworkRbacConfigErrorTest, SharedRuleErrorsAreTheHttpFiltersOnes) {
  EXPECT_EQ(networkError("stat_prefix: x.\nrules:\n  action: LOG\n"),
            "rbac.yaml:3:11: typed_config.rules.action: action LOG is not supported");
}

}  // namespace
}  // namespace remora::filters::rbac
