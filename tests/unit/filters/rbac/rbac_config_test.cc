// The RBAC config parser and policy engine: every permission and principal kind, their
// nesting, CIDR edge cases, ALLOW/DENY semantics, and the exact config errors.
#include "filters/rbac/rbac_config.h"

#include <gtest/gtest.h>

#include "tests/unit/filters/rbac/rbac_test_support.h"

namespace remora::filters::rbac {
namespace {

using testing::parse;
using testing::parseError;
using testing::Request;

// One ALLOW policy "p" with the given permission and principal (YAML flow maps).
RbacConfig allowPolicy(const std::string& permission, const std::string& principal) {
  return parse("rules:\n  action: ALLOW\n  policies:\n    p:\n      permissions: [" + permission +
               "]\n      principals: [" + principal + "]\n");
}

bool allowed(const RbacConfig& config, const Request& request) {
  return config.rules->evaluate(RequestView(request.head, request.info)).allowed;
}

constexpr const char* kAny = "{any: true}";

// ---- permissions ----

TEST(RbacPermissionTest, MethodHeaderMatchesTheRequestMethod) {
  const RbacConfig config =
      allowPolicy("{header: {name: ':method', string_match: {exact: GET}}}", kAny);
  Request get;
  Request post;
  post.head.method = "POST";
  EXPECT_TRUE(allowed(config, get));
  EXPECT_FALSE(allowed(config, post));
}

TEST(RbacPermissionTest, HeaderMatcherFormsAndInvert) {
  const RbacConfig exact = allowPolicy("{header: {name: x-role, exact_match: admin}}", kAny);
  const RbacConfig absent =
      allowPolicy("{header: {name: x-role, present_match: true, invert_match: true}}", kAny);
  Request admin;
  admin.head.headers.add("x-role", "admin");
  Request user;
  user.head.headers.add("x-role", "user");
  Request none;
  EXPECT_TRUE(allowed(exact, admin));
  EXPECT_FALSE(allowed(exact, user));
  EXPECT_FALSE(allowed(exact, none));
  EXPECT_FALSE(allowed(absent, admin));
  EXPECT_TRUE(allowed(absent, none));
}

TEST(RbacPermissionTest, UrlPathIgnoresQueryAndFragment) {
  const RbacConfig exact = allowPolicy("{url_path: {path: {exact: /api}}}", kAny);
  const RbacConfig prefix = allowPolicy("{url_path: {path: {prefix: /api/}}}", kAny);
  Request with_query;
  with_query.head.path = "/api?x=1";
  Request with_fragment;
  with_fragment.head.path = "/api#top";
  Request query_only;
  query_only.head.path = "/other?next=/api/";
  Request nested;
  nested.head.path = "/api/v1/users";
  EXPECT_TRUE(allowed(exact, with_query));
  EXPECT_TRUE(allowed(exact, with_fragment));
  EXPECT_FALSE(allowed(exact, nested));
  EXPECT_TRUE(allowed(prefix, nested));
  EXPECT_FALSE(allowed(prefix, query_only));
  EXPECT_FALSE(allowed(prefix, with_query));
}

TEST(RbacPermissionTest, UrlPathRegexAndIgnoreCase) {
  const RbacConfig regex =
      allowPolicy("{url_path: {path: {safe_regex: {regex: '/items/[0-9]+'}}}}", kAny);
  const RbacConfig caseless =
      allowPolicy("{url_path: {path: {prefix: /ADMIN, ignore_case: true}}}", kAny);
  Request item;
  item.head.path = "/items/42?full=1";
  Request items_text;
  items_text.head.path = "/items/abc";
  Request admin;
  admin.head.path = "/admin/x";
  EXPECT_TRUE(allowed(regex, item));
  EXPECT_FALSE(allowed(regex, items_text));
  EXPECT_TRUE(allowed(caseless, admin));
}

TEST(RbacPermissionTest, DestinationPortNeedsAKnownMatchingPort) {
  const RbacConfig config = allowPolicy("{destination_port: 8080}", kAny);
  Request on_8080;
  on_8080.info.downstream_local_port = 8080;
  Request on_9090;
  on_9090.info.downstream_local_port = 9090;
  Request unknown;
  EXPECT_TRUE(allowed(config, on_8080));
  EXPECT_FALSE(allowed(config, on_9090));
  EXPECT_FALSE(allowed(config, unknown));
}

TEST(RbacPermissionTest, AndOrNotNest) {
  // GET anywhere but /admin, or anything with x-debug: 1.
  const RbacConfig config = allowPolicy(
      "{or_rules: {rules: ["
      "  {and_rules: {rules: ["
      "    {header: {name: ':method', string_match: {exact: GET}}},"
      "    {not_rule: {url_path: {path: {prefix: /admin}}}}]}},"
      "  {header: {name: x-debug, string_match: {exact: '1'}}}]}}",
      kAny);
  Request get;
  get.head.path = "/public";
  Request get_admin;
  get_admin.head.path = "/admin/users";
  Request post;
  post.head.method = "POST";
  Request post_debug = post;
  post_debug.head.headers.add("x-debug", "1");
  Request get_admin_debug = get_admin;
  get_admin_debug.head.headers.add("x-debug", "1");
  EXPECT_TRUE(allowed(config, get));
  EXPECT_FALSE(allowed(config, get_admin));
  EXPECT_FALSE(allowed(config, post));
  EXPECT_TRUE(allowed(config, post_debug));
  EXPECT_TRUE(allowed(config, get_admin_debug));
}

TEST(RbacPermissionTest, DoubleNegationIsIdentity) {
  const RbacConfig config =
      allowPolicy("{not_rule: {not_rule: {url_path: {path: {exact: /ok}}}}}", kAny);
  Request ok;
  ok.head.path = "/ok";
  Request other;
  other.head.path = "/no";
  EXPECT_TRUE(allowed(config, ok));
  EXPECT_FALSE(allowed(config, other));
}

// ---- principals ----

bool remoteAllowed(const std::string& principal, const std::string& remote_address) {
  Request request;
  request.info.downstream_remote_address = remote_address;
  return allowed(allowPolicy(kAny, principal), request);
}

TEST(RbacPrincipalTest, DirectRemoteIpV4Cidr) {
  const std::string slash8 = "{direct_remote_ip: {address_prefix: 10.0.0.0, prefix_len: 8}}";
  EXPECT_TRUE(remoteAllowed(slash8, "10.255.1.2:1"));
  EXPECT_FALSE(remoteAllowed(slash8, "11.0.0.1:1"));
  // Host bits in the prefix are ignored, as Envoy truncates the range.
  EXPECT_TRUE(
      remoteAllowed("{remote_ip: {address_prefix: 10.1.2.3, prefix_len: 8}}", "10.200.0.1:1"));
  // A /31 splits inside the last byte.
  const std::string slash31 = "{remote_ip: {address_prefix: 192.168.1.0, prefix_len: 31}}";
  EXPECT_TRUE(remoteAllowed(slash31, "192.168.1.1:80"));
  EXPECT_FALSE(remoteAllowed(slash31, "192.168.1.2:80"));
  // /32 is the host itself; a longer prefix means the same.
  EXPECT_TRUE(
      remoteAllowed("{remote_ip: {address_prefix: 10.0.0.1, prefix_len: 32}}", "10.0.0.1:5"));
  EXPECT_FALSE(
      remoteAllowed("{remote_ip: {address_prefix: 10.0.0.1, prefix_len: 32}}", "10.0.0.2:5"));
  EXPECT_TRUE(
      remoteAllowed("{remote_ip: {address_prefix: 10.0.0.1, prefix_len: 100}}", "10.0.0.1:5"));
  EXPECT_FALSE(
      remoteAllowed("{remote_ip: {address_prefix: 10.0.0.1, prefix_len: 100}}", "10.0.0.3:5"));
}

TEST(RbacPrincipalTest, ZeroPrefixMatchesTheWholeFamilyOnly) {
  const std::string all_v4 = "{direct_remote_ip: {address_prefix: 0.0.0.0}}";  // prefix_len 0
  const std::string all_v6 = "{direct_remote_ip: {address_prefix: '::', prefix_len: 0}}";
  EXPECT_TRUE(remoteAllowed(all_v4, "203.0.113.9:1"));
  EXPECT_FALSE(remoteAllowed(all_v4, "[2001:db8::1]:1"));
  EXPECT_TRUE(remoteAllowed(all_v6, "[2001:db8::1]:1"));
  EXPECT_FALSE(remoteAllowed(all_v6, "203.0.113.9:1"));
}

TEST(RbacPrincipalTest, RemoteIpV6Cidr) {
  const std::string slash32 = "{remote_ip: {address_prefix: '2001:db8::', prefix_len: 32}}";
  EXPECT_TRUE(remoteAllowed(slash32, "[2001:db8:ffff::1]:443"));
  EXPECT_FALSE(remoteAllowed(slash32, "[2001:db9::1]:443"));
  // /65 splits the ninth byte: 0x80 is outside, 0x7f inside.
  const std::string slash65 = "{remote_ip: {address_prefix: 'fd00::', prefix_len: 65}}";
  EXPECT_TRUE(remoteAllowed(slash65, "[fd00::7fff:ffff:ffff:ffff]:1"));
  EXPECT_FALSE(remoteAllowed(slash65, "[fd00::8000:0:0:0]:1"));
  const std::string host = "{remote_ip: {address_prefix: '::1', prefix_len: 128}}";
  EXPECT_TRUE(remoteAllowed(host, "[::1]:8080"));
  EXPECT_FALSE(remoteAllowed(host, "[::2]:8080"));
}

TEST(RbacPrincipalTest, Ipv4RangeDoesNotMatchIpv4MappedIpv6) {
  const std::string range = "{remote_ip: {address_prefix: 127.0.0.0, prefix_len: 8}}";
  EXPECT_FALSE(remoteAllowed(range, "[::ffff:127.0.0.1]:1"));
}

TEST(RbacPrincipalTest, UnknownRemoteAddressMatchesNoRange) {
  const std::string all_v4 = "{remote_ip: {address_prefix: 0.0.0.0, prefix_len: 0}}";
  EXPECT_FALSE(remoteAllowed(all_v4, ""));
  EXPECT_FALSE(remoteAllowed(all_v4, "not-an-ip:1"));
  EXPECT_TRUE(remoteAllowed("{not_id: " + all_v4 + "}", ""));
}

TEST(RbacPrincipalTest, AuthenticatedNeedsAPeerIdentity) {
  const RbacConfig any_peer = allowPolicy(kAny, "{authenticated: {}}");
  const RbacConfig named = allowPolicy(
      kAny, "{authenticated: {principal_name: {exact: 'spiffe://cluster.local/ns/a/sa/web'}}}");
  Request plaintext;
  EXPECT_FALSE(allowed(any_peer, plaintext));
  EXPECT_FALSE(allowed(named, plaintext));

  Request uri_peer;
  uri_peer.info.peer_uri_sans = {"spiffe://other", "spiffe://cluster.local/ns/a/sa/web"};
  EXPECT_TRUE(allowed(any_peer, uri_peer));
  EXPECT_TRUE(allowed(named, uri_peer));

  Request wrong_peer;
  wrong_peer.info.peer_uri_sans = {"spiffe://cluster.local/ns/b/sa/web"};
  wrong_peer.info.peer_subject = "CN=web";
  EXPECT_TRUE(allowed(any_peer, wrong_peer));
  EXPECT_FALSE(allowed(named, wrong_peer));
}

TEST(RbacPrincipalTest, AuthenticatedTriesUriSansThenDnsSansThenSubject) {
  const RbacConfig dns =
      allowPolicy(kAny, "{authenticated: {principal_name: {suffix: .example.com}}}");
  const RbacConfig subject =
      allowPolicy(kAny, "{authenticated: {principal_name: {prefix: 'CN=api'}}}");
  Request peer;
  peer.info.peer_uri_sans = {"spiffe://x"};
  peer.info.peer_dns_sans = {"api.example.com"};
  peer.info.peer_subject = "CN=api,O=Example";
  EXPECT_TRUE(allowed(dns, peer));
  EXPECT_TRUE(allowed(subject, peer));
  peer.info.peer_dns_sans.clear();
  EXPECT_FALSE(allowed(dns, peer));
}

TEST(RbacPrincipalTest, HeaderAndPathPrincipals) {
  const RbacConfig header =
      allowPolicy(kAny, "{header: {name: x-forwarded-client-cert, present_match: true}}");
  const RbacConfig path = allowPolicy(kAny, "{url_path: {path: {prefix: /open}}}");
  Request with_header;
  with_header.head.headers.add("x-forwarded-client-cert", "By=x");
  Request open;
  open.head.path = "/open/doc";
  EXPECT_TRUE(allowed(header, with_header));
  EXPECT_FALSE(allowed(header, open));
  EXPECT_TRUE(allowed(path, open));
}

TEST(RbacPrincipalTest, AndOrNotIdsNest) {
  // From 10/8 but not 10.0.0.0/24, or with x-admin present.
  const RbacConfig config =
      allowPolicy(kAny,
                  "{or_ids: {ids: ["
                  "  {and_ids: {ids: ["
                  "    {direct_remote_ip: {address_prefix: 10.0.0.0, prefix_len: 8}},"
                  "    {not_id: {direct_remote_ip: {address_prefix: 10.0.0.0, prefix_len: 24}}}]}},"
                  "  {header: {name: x-admin, present_match: true}}]}}");
  Request inner;  // 10.0.0.1
  Request outer;
  outer.info.downstream_remote_address = "10.9.0.1:1";
  Request foreign;
  foreign.info.downstream_remote_address = "192.0.2.1:1";
  Request foreign_admin = foreign;
  foreign_admin.head.headers.add("x-admin", "");
  EXPECT_FALSE(allowed(config, inner));
  EXPECT_TRUE(allowed(config, outer));
  EXPECT_FALSE(allowed(config, foreign));
  EXPECT_TRUE(allowed(config, foreign_admin));
}

// ---- policies and actions ----

TEST(RbacEngineTest, PolicyNeedsAPermissionAndAPrincipal) {
  // Permissions and principals are each any-of; the policy is their conjunction.
  const RbacConfig config = parse(R"(
rules:
  policies:
    p:
      permissions:
      - url_path: {path: {exact: /a}}
      - url_path: {path: {exact: /b}}
      principals:
      - direct_remote_ip: {address_prefix: 10.0.0.1, prefix_len: 32}
      - header: {name: x-token, present_match: true}
)");
  Request a;
  a.head.path = "/a";
  Request b_with_token;
  b_with_token.head.path = "/b";
  b_with_token.info.downstream_remote_address = "192.0.2.1:1";
  b_with_token.head.headers.add("x-token", "t");
  Request b_stranger = b_with_token;
  b_stranger.head.headers = {};
  Request c;
  c.head.path = "/c";
  EXPECT_TRUE(allowed(config, a));  // action defaults to ALLOW
  EXPECT_TRUE(allowed(config, b_with_token));
  EXPECT_FALSE(allowed(config, b_stranger));
  EXPECT_FALSE(allowed(config, c));
}

TEST(RbacEngineTest, AllowAndDenyReportTheFirstMatchingPolicyByName) {
  const std::string policies = R"(
  policies:
    zeta:
      permissions: [{any: true}]
      principals: [{any: true}]
    alpha:
      permissions: [{url_path: {path: {prefix: /admin}}}]
      principals: [{any: true}]
)";
  const RbacConfig allow = parse("rules:\n  action: ALLOW" + policies);
  const RbacConfig deny = parse("rules:\n  action: DENY" + policies);
  Request admin;
  admin.head.path = "/admin";
  Request other;
  other.head.path = "/x";
  const RequestView admin_view(admin.head, admin.info);
  const RequestView other_view(other.head, other.info);

  Engine::Decision d = allow.rules->evaluate(admin_view);
  EXPECT_TRUE(d.allowed);
  ASSERT_NE(d.policy, nullptr);
  EXPECT_EQ(*d.policy, "alpha");
  d = allow.rules->evaluate(other_view);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(*d.policy, "zeta");
  d = deny.rules->evaluate(admin_view);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(*d.policy, "alpha");
}

TEST(RbacEngineTest, NoMatchAllowsUnderDenyAndDeniesUnderAllow) {
  const std::string policy = R"(
  policies:
    admin-only:
      permissions: [{url_path: {path: {prefix: /admin}}}]
      principals: [{any: true}]
)";
  Request other;
  other.head.path = "/public";
  const RequestView view(other.head, other.info);
  const Engine::Decision under_allow =
      parse("rules:\n  action: ALLOW" + policy).rules->evaluate(view);
  const Engine::Decision under_deny =
      parse("rules:\n  action: DENY" + policy).rules->evaluate(view);
  EXPECT_FALSE(under_allow.allowed);
  EXPECT_EQ(under_allow.policy, nullptr);
  EXPECT_TRUE(under_deny.allowed);
  EXPECT_EQ(under_deny.policy, nullptr);
}

TEST(RbacEngineTest, AbsentRulesMeanNoEngineAndEmptyRulesFollowTheAction) {
  const RbacConfig none = parse("{}");
  EXPECT_FALSE(none.rules.has_value());
  EXPECT_FALSE(none.shadow_rules.has_value());
  EXPECT_FALSE(parseRbacConfig(config::ConfigNode()).rules.has_value());

  Request request;
  EXPECT_FALSE(allowed(parse("rules: {}"), request));  // ALLOW with no policy
  EXPECT_FALSE(allowed(parse("rules: {action: ALLOW, policies: {}}"), request));
  EXPECT_TRUE(allowed(parse("rules: {action: DENY}"), request));
}

TEST(RbacEngineTest, ShadowRulesAreParsedSeparately) {
  const RbacConfig config = parse(R"(
shadow_rules:
  action: DENY
  policies:
    everything: {permissions: [{any: true}], principals: [{any: true}]}
)");
  EXPECT_FALSE(config.rules.has_value());
  ASSERT_TRUE(config.shadow_rules.has_value());
  Request request;
  EXPECT_FALSE(config.shadow_rules->evaluate(RequestView(request.head, request.info)).allowed);
}

TEST(RbacConfigTest, StatPrefixesAreKeptAsWritten) {
  const RbacConfig config = testing::parse("rules_stat_prefix: a_\nshadow_rules_stat_prefix: b.\n");
  EXPECT_EQ(config.rules_stat_prefix, "a_");
  EXPECT_EQ(config.shadow_rules_stat_prefix, "b.");
  EXPECT_EQ(testing::parse("{}").rules_stat_prefix, "");
}

// ---- config errors ----

TEST(RbacConfigErrorTest, UnknownAndUnsupportedTopLevelFields) {
  EXPECT_EQ(parseError("rules: {}\nbogus: 1\n"),
            "rbac.yaml:2:1: typed_config.bogus: unknown field 'bogus'");
  EXPECT_EQ(parseError("track_per_rule_stats: true\n"),
            "rbac.yaml:1:23: typed_config.track_per_rule_stats: unsupported field "
            "'track_per_rule_stats'");
  EXPECT_EQ(parseError("matcher: {}\n"),
            "rbac.yaml:1:10: typed_config.matcher: unsupported field 'matcher'");
}

TEST(RbacConfigErrorTest, Actions) {
  EXPECT_EQ(parseError("rules:\n  action: LOG\n"),
            "rbac.yaml:2:11: typed_config.rules.action: action LOG is not supported");
  EXPECT_EQ(parseError("rules:\n  action: PERMIT\n"),
            "rbac.yaml:2:11: typed_config.rules.action: invalid value \"PERMIT\" (expected one "
            "of: ALLOW, DENY)");
  EXPECT_EQ(parseError("rules:\n  audit_logging_options: {}\n"),
            "rbac.yaml:2:26: typed_config.rules.audit_logging_options: unsupported field "
            "'audit_logging_options'");
}

TEST(RbacConfigErrorTest, Policies) {
  EXPECT_EQ(parseError("rules:\n  policies: [a]\n"),
            "rbac.yaml:2:13: typed_config.rules.policies: expected a mapping of policy names to "
            "policies");
  EXPECT_EQ(parseError("rules:\n  policies:\n    p:\n      principals: [{any: true}]\n"),
            "rbac.yaml:4:7: typed_config.rules.policies.p.permissions: missing required field "
            "'permissions'");
  EXPECT_EQ(parseError("rules:\n  policies:\n    p:\n      permissions: []\n"
                       "      principals: [{any: true}]\n"),
            "rbac.yaml:4:20: typed_config.rules.policies.p.permissions: must contain at least "
            "one entry");
  EXPECT_EQ(parseError("rules:\n  policies:\n    p:\n      permissions: [{any: true}]\n"
                       "      principals: [{any: true}]\n      condition: {}\n"),
            "rbac.yaml:6:18: typed_config.rules.policies.p.condition: unsupported field "
            "'condition'");
  EXPECT_EQ(parseError("rules:\n  policies:\n    p: ~\n"),
            "rbac.yaml:3:5: typed_config.rules.policies: policy 'p' must be a mapping");
}

// A policy whose only permission (or principal) is `entry`; the entry is on line 4.
std::string permissionError(const std::string& entry) {
  return parseError("rules:\n  policies:\n    p:\n      permissions: [" + entry +
                    "]\n      principals: [{any: true}]\n");
}
std::string principalError(const std::string& entry) {
  return parseError("rules:\n  policies:\n    p:\n      principals: [" + entry +
                    "]\n      permissions: [{any: true}]\n");
}

TEST(RbacConfigErrorTest, Permissions) {
  EXPECT_EQ(permissionError("{any: false}"),
            "rbac.yaml:4:27: typed_config.rules.policies.p.permissions[0].any: must be true");
  EXPECT_EQ(permissionError("{}"),
            "rbac.yaml:4:21: typed_config.rules.policies.p.permissions[0]: exactly one of "
            "'and_rules', 'or_rules', 'any', 'header', 'url_path', 'destination_port', "
            "'not_rule' must be set");
  EXPECT_EQ(permissionError("{any: true, destination_port: 80}"),
            "rbac.yaml:4:21: typed_config.rules.policies.p.permissions[0]: only one of "
            "'and_rules', 'or_rules', 'any', 'header', 'url_path', 'destination_port', "
            "'not_rule' may be set, found 'any' and 'destination_port'");
  EXPECT_EQ(permissionError("{method: GET}"),
            "rbac.yaml:4:22: typed_config.rules.policies.p.permissions[0].method: unknown field "
            "'method'");
  EXPECT_EQ(permissionError("{metadata: {}}"),
            "rbac.yaml:4:32: typed_config.rules.policies.p.permissions[0].metadata: unsupported "
            "field 'metadata'");
  EXPECT_EQ(permissionError("{destination_port: 70000}"),
            "rbac.yaml:4:40: typed_config.rules.policies.p.permissions[0].destination_port: "
            "port must be at most 65535");
  EXPECT_EQ(permissionError("{and_rules: {rules: []}}"),
            "rbac.yaml:4:41: typed_config.rules.policies.p.permissions[0].and_rules.rules: must "
            "contain at least one entry");
  EXPECT_EQ(permissionError("{not_rule: {any: true, rules: []}}"),
            "rbac.yaml:4:44: typed_config.rules.policies.p.permissions[0].not_rule.rules: "
            "unknown field 'rules'");
  EXPECT_EQ(permissionError("{url_path: {path: {regex: x}}}"),
            "rbac.yaml:4:40: typed_config.rules.policies.p.permissions[0].url_path.path.regex: "
            "unknown field 'regex'");
  EXPECT_EQ(permissionError("{url_path: {path: {safe_regex: {regex: '('}}}}"),
            "rbac.yaml:4:60: typed_config.rules.policies.p.permissions[0].url_path.path."
            "safe_regex.regex: invalid regex \"(\": missing ): (");
  EXPECT_EQ(permissionError("{header: {string_match: {exact: x}}}"),
            "rbac.yaml:4:30: typed_config.rules.policies.p.permissions[0].header.name: missing "
            "required field 'name'");
}

TEST(RbacConfigErrorTest, Principals) {
  EXPECT_EQ(principalError("{direct_remote_ip: {address_prefix: 10.0.0.300, prefix_len: 8}}"),
            "rbac.yaml:4:56: typed_config.rules.policies.p.principals[0].direct_remote_ip."
            "address_prefix: invalid IP address \"10.0.0.300\"");
  EXPECT_EQ(principalError("{remote_ip: {address_prefix: '::', prefix_len: 129}}"),
            "rbac.yaml:4:67: typed_config.rules.policies.p.principals[0].remote_ip.prefix_len: "
            "prefix_len must be at most 128");
  EXPECT_EQ(principalError("{remote_ip: {address_prefix: 10.0.0.0, mask: 8}}"),
            "rbac.yaml:4:59: typed_config.rules.policies.p.principals[0].remote_ip.mask: unknown "
            "field 'mask'");
  EXPECT_EQ(principalError("{authenticated: {principal_name: {exact: a}, peer: b}}"),
            "rbac.yaml:4:65: typed_config.rules.policies.p.principals[0].authenticated.peer: "
            "unknown field 'peer'");
  EXPECT_EQ(principalError("{filter_state: {}}"),
            "rbac.yaml:4:35: typed_config.rules.policies.p.principals[0].filter_state: "
            "unsupported field 'filter_state'");
  EXPECT_EQ(principalError("{or_ids: {ids: []}}"),
            "rbac.yaml:4:35: typed_config.rules.policies.p.principals[0].or_ids.ids: must "
            "contain at least one entry");
  EXPECT_EQ(principalError("{not_id: {}}"),
            "rbac.yaml:4:29: typed_config.rules.policies.p.principals[0].not_id: exactly one of "
            "'and_ids', 'or_ids', 'any', 'authenticated', 'source_ip', 'direct_remote_ip', "
            "'remote_ip', 'header', 'url_path', 'not_id' must be set");
}

}  // namespace
}  // namespace remora::filters::rbac
