#include "proxy/upstream/host_set_builder.h"

#include <netdb.h>

#include <algorithm>
#include <cstring>

#include "proxy/common/logger.h"
#include "proxy/network/tcp_connection.h"

namespace remora::upstream {

std::shared_ptr<const HostSet> staticHostSet(const ClusterInfo& cluster) {
  auto set = std::make_shared<HostSet>();
  for (const config::LbEndpoint& e : cluster.config.endpoints) {
    auto host = std::make_shared<Host>(cluster.threads);
    host->hostname = e.address.address;
    host->weight = e.load_balancing_weight;
    network::parseIpAddress(e.address.address, static_cast<uint16_t>(e.address.port_value),
                            host->sockaddr);
    host->address = network::formatAddress(reinterpret_cast<const sockaddr*>(&host->sockaddr));
    set->hosts.push_back(std::move(host));
  }
  return set;
}

struct DnsRefresher::Lookup {
  uv_getaddrinfo_t req;
  DnsRefresher* owner;
  const config::LbEndpoint* endpoint;
};

DnsRefresher::DnsRefresher(uv_loop_t* loop, std::shared_ptr<const ClusterInfo> cluster,
                           std::function<void(std::shared_ptr<const HostSet>)> on_update,
                           std::function<void(bool)> on_round)
    : loop_(loop),
      cluster_(std::move(cluster)),
      on_update_(std::move(on_update)),
      on_round_(std::move(on_round)),
      stats_(cluster_->stats.shard(cluster_->threads - 1)),
      refresh_timer_(loop, [this] { resolveAll(); }) {}

DnsRefresher::~DnsRefresher() {
  // Lookups on the thread pool finish later; they find no owner and free themselves.
  for (Lookup* l : in_flight_) {
    l->owner = nullptr;
    uv_cancel(reinterpret_cast<uv_req_t*>(&l->req));
  }
}

void DnsRefresher::start() { resolveAll(); }

void DnsRefresher::resolveAll() {
  stats_.update_attempt.inc();
  round_hosts_.clear();
  round_failed_ = false;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  using Family = config::Cluster::DnsLookupFamily;
  switch (cluster_->config.dns_lookup_family) {
    case Family::V4Only:
      hints.ai_family = AF_INET;
      break;
    case Family::V6Only:
      hints.ai_family = AF_INET6;
      break;
    default:
      hints.ai_family = AF_UNSPEC;
      break;
  }
  for (const config::LbEndpoint& e : cluster_->config.endpoints) {
    auto* lookup = new Lookup{{}, this, &e};
    lookup->req.data = lookup;
    const int rc = uv_getaddrinfo(loop_, &lookup->req, &DnsRefresher::onResolved,
                                  e.address.address.c_str(), nullptr, &hints);
    if (rc != 0) {
      delete lookup;  // the callback will not run
      round_failed_ = true;
      continue;
    }
    in_flight_.push_back(lookup);
  }
  if (in_flight_.empty()) finishRound();
}

void DnsRefresher::onResolved(uv_getaddrinfo_t* req, int status, addrinfo* result) {
  std::unique_ptr<Lookup> lookup(static_cast<Lookup*>(req->data));
  DnsRefresher* self = lookup->owner;
  if (!self) {
    uv_freeaddrinfo(result);
    return;
  }
  std::erase(self->in_flight_, lookup.get());
  if (status != 0) {
    self->round_failed_ = true;
    REMORA_LOG(Warn, "cluster " + self->cluster_->name() + ": cannot resolve " +
                         lookup->endpoint->address.address + ": " + uv_strerror(status));
  } else {
    using Family = config::Cluster::DnsLookupFamily;
    const Family family = self->cluster_->config.dns_lookup_family;
    std::vector<const addrinfo*> chosen;
    for (const addrinfo* ai = result; ai; ai = ai->ai_next) {
      if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6) chosen.push_back(ai);
    }
    // AUTO and V6_PREFERRED-like orders prefer v6 when present; V4_PREFERRED v4.
    const int preferred = family == Family::V4Preferred ? AF_INET : AF_INET6;
    if (family == Family::V4Preferred || family == Family::Auto) {
      const bool has_preferred = std::any_of(chosen.begin(), chosen.end(), [&](const addrinfo* ai) {
        return ai->ai_family == preferred;
      });
      if (has_preferred) {
        std::erase_if(chosen, [&](const addrinfo* ai) { return ai->ai_family != preferred; });
      }
    }
    const bool logical = self->cluster_->config.type == config::Cluster::DiscoveryType::LogicalDns;
    for (const addrinfo* ai : chosen) {
      auto host = std::make_shared<Host>(self->cluster_->threads);
      host->hostname = lookup->endpoint->address.address;
      host->weight = lookup->endpoint->load_balancing_weight;
      std::memcpy(&host->sockaddr, ai->ai_addr, ai->ai_addrlen);
      const uint16_t port = htons(static_cast<uint16_t>(lookup->endpoint->address.port_value));
      if (ai->ai_family == AF_INET) {
        reinterpret_cast<sockaddr_in*>(&host->sockaddr)->sin_port = port;
      } else {
        reinterpret_cast<sockaddr_in6*>(&host->sockaddr)->sin6_port = port;
      }
      host->address = network::formatAddress(reinterpret_cast<const sockaddr*>(&host->sockaddr));
      const bool duplicate =
          std::any_of(self->round_hosts_.begin(), self->round_hosts_.end(),
                      [&](const auto& h) { return h->address == host->address; });
      if (!duplicate) self->round_hosts_.push_back(std::move(host));
      if (logical) break;
    }
  }
  uv_freeaddrinfo(result);
  if (self->in_flight_.empty()) self->finishRound();
}

void DnsRefresher::finishRound() {
  const bool success = !round_failed_;
  (success ? stats_.update_success : stats_.update_failure).inc();
  std::vector<std::string> addresses;
  for (const auto& h : round_hosts_) addresses.push_back(h->address);
  // A failed round keeps the last good membership rather than emptying it.
  if (success && addresses == last_addresses_) stats_.update_no_rebuild.inc();
  if (success && addresses != last_addresses_) {
    last_addresses_ = addresses;
    auto set = std::make_shared<HostSet>();
    set->hosts = round_hosts_;
    on_update_(std::move(set));
  }
  round_hosts_.clear();
  if (on_round_) on_round_(success);
  refresh_timer_.arm(cluster_->config.dns_refresh_rate);
}

}  // namespace remora::upstream
