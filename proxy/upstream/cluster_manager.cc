#include "proxy/upstream/cluster_manager.h"

namespace remora::upstream {

ThreadLocalCluster::ThreadLocalCluster(WorkerResources& resources,
                                       std::shared_ptr<const ClusterInfo> info,
                                       std::shared_ptr<const HostSet> hosts)
    : resources_(resources), info_(std::move(info)) {
  updateHosts(std::move(hosts));
}

void ThreadLocalCluster::updateHosts(std::shared_ptr<const HostSet> hosts) {
  hosts_ = std::move(hosts);
  current_weight_.assign(hosts_ ? hosts_->hosts.size() : 0, 0);
}

const std::shared_ptr<const Host>& ThreadLocalCluster::chooseHost() {
  static const std::shared_ptr<const Host> kNone;
  if (!hosts_ || hosts_->hosts.empty()) return kNone;
  return info_->config.lb_policy == config::Cluster::LbPolicy::Random ? chooseRandom()
                                                                      : chooseRoundRobin();
}

const std::shared_ptr<const Host>& ThreadLocalCluster::chooseRoundRobin() {
  const auto& hosts = hosts_->hosts;
  int64_t total = 0;
  size_t best = 0;
  for (size_t i = 0; i < hosts.size(); ++i) {
    current_weight_[i] += hosts[i]->weight;
    total += hosts[i]->weight;
    if (current_weight_[i] > current_weight_[best]) best = i;
  }
  current_weight_[best] -= total;
  return hosts[best];
}

const std::shared_ptr<const Host>& ThreadLocalCluster::chooseRandom() {
  const auto& hosts = hosts_->hosts;
  uint64_t total = 0;
  for (const auto& h : hosts) total += h->weight;
  uint64_t pick = resources_.random() % total;
  for (const auto& h : hosts) {
    if (pick < h->weight) return h;
    pick -= h->weight;
  }
  return hosts.back();
}

ConnPool& ThreadLocalCluster::poolFor(const std::shared_ptr<const Host>& host,
                                      http::Protocol downstream) {
  const config::Cluster& config = info_->config;
  const bool http2 =
      config.use_downstream_protocol ? downstream == http::Protocol::Http2 : config.http2;
  auto& pools = config.use_downstream_protocol && http2 ? downstream_h2_pools_ : pools_;
  auto& pool = pools[host->address];
  if (!pool) pool = std::make_unique<ConnPool>(resources_, host, info_, http2);
  return *pool;
}

void ClusterManager::addCluster(std::shared_ptr<const ClusterInfo> info,
                                std::shared_ptr<const HostSet> hosts) {
  const std::string name = info->name();
  clusters_[name] =
      std::make_unique<ThreadLocalCluster>(resources_, std::move(info), std::move(hosts));
}

void ClusterManager::updateHosts(const std::string& cluster, std::shared_ptr<const HostSet> hosts) {
  if (ThreadLocalCluster* c = get(cluster)) c->updateHosts(std::move(hosts));
}

ThreadLocalCluster* ClusterManager::get(const std::string& name) {
  auto it = clusters_.find(name);
  return it == clusters_.end() ? nullptr : it->second.get();
}

}  // namespace remora::upstream
