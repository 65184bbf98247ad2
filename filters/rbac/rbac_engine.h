// The compiled RBAC policy engine (config.rbac.v3.RBAC): a tree of matchers built once
// at config load, immutable afterwards and shared by every worker. Evaluating a request
// allocates nothing.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http/message.h"
#include "proxy/router/route_table.h"
#include "proxy/router/string_matcher.h"
#include "proxy/stream/stream_info.h"

namespace remora::filters::rbac {

struct IpAddress {
  enum class Family : uint8_t { V4, V6 };
  Family family = Family::V4;
  std::array<uint8_t, 16> bytes{};  // network order; V4 uses the first 4
};

// An IP literal ("10.0.0.1", "::1"), or nullopt.
std::optional<IpAddress> parseIpAddress(std::string_view text);
// The IP of a StreamInfo address, "ip:port" or "[v6]:port", or nullopt.
std::optional<IpAddress> parseSocketAddressIp(std::string_view address);

class CidrRange {
 public:
  // A prefix longer than the family's width means the whole address, as in Envoy.
  CidrRange(const IpAddress& address, uint32_t prefix_len);
  // An IPv4 range never contains an IPv6 address (IPv4-mapped ones included), nor the
  // reverse.
  bool contains(const IpAddress& ip) const;

 private:
  IpAddress address_;  // bits past the prefix cleared
  uint32_t prefix_len_;
};

// One request as the matchers see it.
class RequestView {
 public:
  RequestView(const http::RequestHead& request, const stream::StreamInfo& info)
      : request_(request), info_(info) {}
  const http::RequestHead& request() const { return request_; }
  const stream::StreamInfo& info() const { return info_; }
  // The downstream peer's IP, parsed on first use; nullptr if unknown.
  const IpAddress* directRemoteIp() const;
  // The client IP the connection manager trusts (x-forwarded-for with
  // xff_num_trusted_hops) if it is one, else the peer's; parsed on first use, nullptr
  // if unknown.
  const IpAddress* remoteIp() const;

 private:
  // A lazily parsed IP.
  struct ParsedIp {
    bool parsed = false;
    std::optional<IpAddress> ip;
  };

  const http::RequestHead& request_;
  const stream::StreamInfo& info_;
  mutable ParsedIp direct_remote_ip_;
  mutable ParsedIp remote_ip_;
};

// A permission or a principal.
class Matcher {
 public:
  virtual ~Matcher() = default;
  virtual bool matches(const RequestView& request) const = 0;
};
using MatcherPtr = std::unique_ptr<const Matcher>;

MatcherPtr anyMatcher();
MatcherPtr allOf(std::vector<MatcherPtr> matchers);
MatcherPtr anyOf(std::vector<MatcherPtr> matchers);
MatcherPtr negated(MatcherPtr matcher);
MatcherPtr headerMatcher(router::HeaderMatcher matcher);
// The request path without query and fragment.
MatcherPtr urlPathMatcher(router::StringMatcher path);
// The listener port the request arrived on (StreamInfo::downstream_local_port); an
// unknown port (0) matches nothing.
MatcherPtr destinationPortMatcher(uint32_t port);
// Which address an IP principal reads. Remora has no PROXY protocol, so source_ip
// and direct_remote_ip both read the peer.
enum class IpSource { DirectRemote, Remote };
// direct_remote_ip (and source_ip): the downstream peer. remote_ip: the client the
// connection manager trusts after x-forwarded-for processing (the peer for TCP).
MatcherPtr remoteIpMatcher(CidrRange range, IpSource source);
// With a name: the first peer URI SAN, else DNS SAN, else the subject that matches
// (Envoy's order). Without: any peer that presented an identity.
MatcherPtr authenticatedMatcher(std::optional<router::StringMatcher> principal_name);

struct Policy {
  std::string name;
  MatcherPtr permissions;  // any of the policy's permissions
  MatcherPtr principals;   // any of its principals
};

class Engine {
 public:
  enum class Action { Allow, Deny };
  struct Decision {
    bool allowed;
    const std::string* policy;  // the first matching policy by name, or nullptr
  };

  // Policies are tried in name order, as Envoy's sorted policy map is.
  Engine(Action action, std::vector<Policy> policies);

  // ALLOW: allowed iff a policy matches. DENY: denied iff a policy matches.
  Decision evaluate(const RequestView& request) const;

 private:
  Action action_;
  std::vector<Policy> policies_;
};

}  // namespace remora::filters::rbac
