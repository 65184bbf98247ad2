#include "filters/rbac/rbac_engine.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace remora::filters::rbac {

std::optional<IpAddress> parseIpAddress(std::string_view text) {
  // inet_pton needs a terminated string; the longest IPv6 literal has 45 characters.
  char buffer[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof(buffer)) return std::nullopt;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  IpAddress ip;
  if (inet_pton(AF_INET, buffer, ip.bytes.data()) == 1) {
    ip.family = IpAddress::Family::V4;
    return ip;
  }
  if (inet_pton(AF_INET6, buffer, ip.bytes.data()) == 1) {
    ip.family = IpAddress::Family::V6;
    return ip;
  }
  return std::nullopt;
}

std::optional<IpAddress> parseSocketAddressIp(std::string_view address) {
  if (address.starts_with('[')) {
    const size_t close = address.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return parseIpAddress(address.substr(1, close - 1));
  }
  const size_t colon = address.rfind(':');
  return parseIpAddress(colon == std::string_view::npos ? address : address.substr(0, colon));
}

namespace {
uint32_t familyBits(IpAddress::Family family) { return family == IpAddress::Family::V4 ? 32 : 128; }

// Whether `a` and `b` agree on their first `bits` bits.
bool samePrefix(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, uint32_t bits) {
  const uint32_t full_bytes = bits / 8;
  if (std::memcmp(a.data(), b.data(), full_bytes) != 0) return false;
  const uint32_t rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full_bytes] & mask) == (b[full_bytes] & mask);
}
}  // namespace

CidrRange::CidrRange(const IpAddress& address, uint32_t prefix_len)
    : address_(address), prefix_len_(std::min(prefix_len, familyBits(address.family))) {
  for (uint32_t bit = prefix_len_; bit < 128; ++bit) {
    address_.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
}

bool CidrRange::contains(const IpAddress& ip) const {
  return ip.family == address_.family && samePrefix(ip.bytes, address_.bytes, prefix_len_);
}

const IpAddress* RequestView::directRemoteIp() const {
  if (!direct_remote_ip_.parsed) {
    direct_remote_ip_.ip = parseSocketAddressIp(info_.downstream_remote_address);
    direct_remote_ip_.parsed = true;
  }
  return direct_remote_ip_.ip ? &*direct_remote_ip_.ip : nullptr;
}

const IpAddress* RequestView::remoteIp() const {
  if (info_.downstream_trusted_client_ip.empty()) return directRemoteIp();
  if (!remote_ip_.parsed) {
    remote_ip_.ip = parseIpAddress(info_.downstream_trusted_client_ip);
    remote_ip_.parsed = true;
  }
  // An x-forwarded-for entry that is no IP leaves the peer as the client, as in Envoy.
  return remote_ip_.ip ? &*remote_ip_.ip : directRemoteIp();
}

namespace {

class AnyMatcher : public Matcher {
 public:
  bool matches(const RequestView&) const override { return true; }
};

class AllOfMatcher : public Matcher {
 public:
  explicit AllOfMatcher(std::vector<MatcherPtr> matchers) : matchers_(std::move(matchers)) {}
  bool matches(const RequestView& request) const override {
    return std::all_of(matchers_.begin(), matchers_.end(),
                       [&](const MatcherPtr& m) { return m->matches(request); });
  }

 private:
  std::vector<MatcherPtr> matchers_;
};

class AnyOfMatcher : public Matcher {
 public:
  explicit AnyOfMatcher(std::vector<MatcherPtr> matchers) : matchers_(std::move(matchers)) {}
  bool matches(const RequestView& request) const override {
    return std::any_of(matchers_.begin(), matchers_.end(),
                       [&](const MatcherPtr& m) { return m->matches(request); });
  }

 private:
  std::vector<MatcherPtr> matchers_;
};

class NegatedMatcher : public Matcher {
 public:
  explicit NegatedMatcher(MatcherPtr matcher) : matcher_(std::move(matcher)) {}
  bool matches(const RequestView& request) const override { return !matcher_->matches(request); }

 private:
  MatcherPtr matcher_;
};

class HeaderMatcher : public Matcher {
 public:
  explicit HeaderMatcher(router::HeaderMatcher matcher) : matcher_(std::move(matcher)) {}
  bool matches(const RequestView& request) const override {
    return matcher_.matches(request.request());
  }

 private:
  router::HeaderMatcher matcher_;
};

class UrlPathMatcher : public Matcher {
 public:
  explicit UrlPathMatcher(router::StringMatcher path) : path_(std::move(path)) {}
  bool matches(const RequestView& request) const override {
    return path_.matches(request.request().pathWithoutQuery());
  }

 private:
  router::StringMatcher path_;
};

class DestinationPortMatcher : public Matcher {
 public:
  explicit DestinationPortMatcher(uint32_t port) : port_(port) {}
  bool matches(const RequestView& request) const override {
    const uint32_t local_port = request.info().downstream_local_port;
    return local_port != 0 && local_port == port_;
  }

 private:
  uint32_t port_;
};

class RemoteIpMatcher : public Matcher {
 public:
  RemoteIpMatcher(CidrRange range, IpSource source) : range_(range), source_(source) {}
  bool matches(const RequestView& request) const override {
    const IpAddress* ip =
        source_ == IpSource::Remote ? request.remoteIp() : request.directRemoteIp();
    return ip && range_.contains(*ip);
  }

 private:
  CidrRange range_;
  IpSource source_;
};

class AuthenticatedMatcher : public Matcher {
 public:
  explicit AuthenticatedMatcher(std::optional<router::StringMatcher> principal_name)
      : principal_name_(std::move(principal_name)) {}
  bool matches(const RequestView& request) const override {
    const stream::StreamInfo& info = request.info();
    if (info.peer_uri_sans.empty() && info.peer_dns_sans.empty() && info.peer_subject.empty()) {
      return false;  // no peer certificate
    }
    if (!principal_name_) return true;
    const auto matches_name = [&](const std::string& name) {
      return principal_name_->matches(name);
    };
    return std::any_of(info.peer_uri_sans.begin(), info.peer_uri_sans.end(), matches_name) ||
           std::any_of(info.peer_dns_sans.begin(), info.peer_dns_sans.end(), matches_name) ||
           principal_name_->matches(info.peer_subject);
  }

 private:
  std::optional<router::StringMatcher> principal_name_;
};

}  // namespace

MatcherPtr anyMatcher() { return std::make_unique<AnyMatcher>(); }
MatcherPtr allOf(std::vector<MatcherPtr> matchers) {
  return std::make_unique<AllOfMatcher>(std::move(matchers));
}
MatcherPtr anyOf(std::vector<MatcherPtr> matchers) {
  return std::make_unique<AnyOfMatcher>(std::move(matchers));
}
MatcherPtr negated(MatcherPtr matcher) {
  return std::make_unique<NegatedMatcher>(std::move(matcher));
}
MatcherPtr headerMatcher(router::HeaderMatcher matcher) {
  return std::make_unique<HeaderMatcher>(std::move(matcher));
}
MatcherPtr urlPathMatcher(router::StringMatcher path) {
  return std::make_unique<UrlPathMatcher>(std::move(path));
}
MatcherPtr destinationPortMatcher(uint32_t port) {
  return std::make_unique<DestinationPortMatcher>(port);
}
MatcherPtr remoteIpMatcher(CidrRange range, IpSource source) {
  return std::make_unique<RemoteIpMatcher>(range, source);
}
MatcherPtr authenticatedMatcher(std::optional<router::StringMatcher> principal_name) {
  return std::make_unique<AuthenticatedMatcher>(std::move(principal_name));
}

Engine::Engine(Action action, std::vector<Policy> policies)
    : action_(action), policies_(std::move(policies)) {
  std::sort(policies_.begin(), policies_.end(),
            [](const Policy& a, const Policy& b) { return a.name < b.name; });
}

Engine::Decision Engine::evaluate(const RequestView& request) const {
  const std::string* matched = nullptr;
  for (const Policy& policy : policies_) {
    if (policy.permissions->matches(request) && policy.principals->matches(request)) {
      matched = &policy.name;
      break;
    }
  }
  const bool allowed = action_ == Action::Allow ? matched != nullptr : matched == nullptr;
  return Decision{allowed, matched};
}

}  // namespace remora::filters::rbac
