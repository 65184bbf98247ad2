// ThreadLocalCluster::poolFor: one pool per upstream address, kept across host set
// updates (a host object is new after each update, its pool is not).
#include "proxy/upstream/cluster_manager.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "proxy/network/tcp_connection.h"

namespace remora::upstream {
namespace {

std::shared_ptr<const Host> makeHost(const std::string& ip, uint16_t port) {
  auto host = std::make_shared<Host>(1);
  host->hostname = ip;
  host->address = ip + ":" + std::to_string(port);
  network::parseIpAddress(ip, port, host->sockaddr);
  return host;
}

std::shared_ptr<const HostSet> makeHostSet(std::vector<std::shared_ptr<const Host>> hosts) {
  auto set = std::make_shared<HostSet>();
  set->hosts = std::move(hosts);
  return set;
}

class ThreadLocalClusterTest : public ::testing::Test {
 protected:
  ThreadLocalClusterTest() : store_(1) { uv_loop_init(&loop_); }
  ~ThreadLocalClusterTest() override {
    cluster_.reset();
    resources_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);  // close callbacks
    uv_loop_close(&loop_);
  }

  void makeCluster(std::shared_ptr<const HostSet> hosts) {
    config::Cluster config;
    config.name = "backend";
    resources_ = std::make_unique<WorkerResources>(&loop_, 0);
    cluster_ = std::make_unique<ThreadLocalCluster>(
        *resources_, std::make_shared<ClusterInfo>(config, store_), std::move(hosts));
  }

  uv_loop_t loop_;
  stats::Store store_;
  std::unique_ptr<WorkerResources> resources_;
  std::unique_ptr<ThreadLocalCluster> cluster_;
};

TEST_F(ThreadLocalClusterTest, EachAddressHasItsOwnPool) {
  const auto a = makeHost("127.0.0.1", 8001);
  const auto b = makeHost("127.0.0.1", 8002);
  makeCluster(makeHostSet({a, b}));
  ConnPool& pool_a = cluster_->poolFor(a, http::Protocol::Http11);
  ConnPool& pool_b = cluster_->poolFor(b, http::Protocol::Http11);
  EXPECT_NE(&pool_a, &pool_b);
  EXPECT_EQ(&cluster_->poolFor(a, http::Protocol::Http11), &pool_a);
  EXPECT_EQ(&cluster_->poolFor(b, http::Protocol::Http11), &pool_b);
}

TEST_F(ThreadLocalClusterTest, AHostOfANewSetKeepsThePoolOfItsAddress) {
  const auto before = makeHost("127.0.0.1", 8001);
  makeCluster(makeHostSet({before}));
  ConnPool& pool = cluster_->poolFor(before, http::Protocol::Http11);

  const auto after = makeHost("127.0.0.1", 8001);
  const auto added = makeHost("127.0.0.1", 8003);
  cluster_->updateHosts(makeHostSet({after, added}));
  EXPECT_EQ(&cluster_->poolFor(after, http::Protocol::Http11), &pool);
  EXPECT_NE(&cluster_->poolFor(added, http::Protocol::Http11), &pool);
}

}  // namespace
}  // namespace remora::upstream
