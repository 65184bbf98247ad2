// TlsReloader: which file changes rebuild a context, what a failed rebuild keeps,
// and what the workers are given; TlsContextOverrides: what a worker hands out.
#include "proxy/server/tls_reloader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "proxy/network/tls/tls_context_overrides.h"
#include "tests/unit/proxy/network/tls/tls_test_support.h"

namespace remora::server {
namespace {

namespace fs = std::filesystem;
using network::tls::TlsContext;
using network::tls::testing::certPath;
using network::tls::testing::parseYaml;

std::string serialOf(const std::string& pem_file) {
  std::ifstream file(pem_file);
  std::stringstream pem;
  pem << file.rdbuf();
  auto certs = network::tls::parseCertificates(pem.str());
  return network::tls::serialNumber(certs.at(0).get());
}

std::string leafSerial(const TlsContext& context) {
  return context.certificateDetails(std::time(nullptr)).at(0).serial_number;
}

// A listener's certificate, key and CA copied into a directory of the test's own,
// so files can be swapped as a Secret update would.
class TlsReloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    char pattern[] = "/tmp/remora-reloader-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    install("server.crt", "tls.crt");
    install("server.key", "tls.key");
    install("ca.crt", "ca.crt");
    reloader_ = std::make_unique<TlsReloader>(
        &loop_,
        [this](const TlsContext& configured, std::shared_ptr<const TlsContext> current) {
          published_.push_back({&configured, std::move(current)});
        },
        reloads_);
  }

  void TearDown() override {
    reloader_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);  // the timer's close callback
    uv_loop_close(&loop_);
    fs::remove_all(dir_);
  }

  // Copies a generated file to `name` through a rename, as kubelet's symlink swap
  // gives the path a new inode.
  void install(const std::string& generated, const std::string& name) {
    fs::copy_file(certPath(generated), dir_ + "/" + name + ".tmp",
                  fs::copy_options::overwrite_existing);
    fs::rename(dir_ + "/" + name + ".tmp", dir_ + "/" + name);
  }

  config::ConfigNode listenerTls(bool inline_pem = false) {
    if (inline_pem) {
      auto pem = [](const std::string& name) {
        std::ifstream file(certPath(name));
        std::stringstream text;
        text << file.rdbuf();
        std::string indented;
        for (std::string line; std::getline(text, line);) indented += "        " + line + "\n";
        return indented;
      };
      return parseYaml("'@type': " + std::string(network::tls::kDownstreamTlsContextType) +
                       "\ncommon_tls_context:\n  tls_certificates:\n"
                       "  - certificate_chain:\n      inline_string: |\n" +
                       pem("server.crt") + "    private_key:\n      inline_string: |\n" +
                       pem("server.key"));
    }
    return parseYaml("'@type': " + std::string(network::tls::kDownstreamTlsContextType) +
                     "\ncommon_tls_context:\n  tls_certificates:\n"
                     "  - certificate_chain: {filename: " +
                     dir_ + "/tls.crt}\n    private_key: {filename: " + dir_ +
                     "/tls.key}\n  validation_context:\n    trusted_ca: {filename: " + dir_ +
                     "/ca.crt}\n");
  }

  std::shared_ptr<const TlsContext> watchListener(bool inline_pem = false) {
    const config::ConfigNode node = listenerTls(inline_pem);
    auto configured = TlsContext::create(network::tls::parseDownstreamTlsContext(node));
    reloader_->watchDownstream("listener 'ingress'", configured, node);
    return configured;
  }

  struct Published {
    const TlsContext* configured;
    std::shared_ptr<const TlsContext> current;
  };
  uv_loop_t loop_{};
  std::string dir_;
  stats::Counter reloads_;
  std::vector<Published> published_;
  std::unique_ptr<TlsReloader> reloader_;
};

TEST_F(TlsReloaderTest, NothingChangedNothingRebuilt) {
  const auto configured = watchListener();
  EXPECT_EQ(reloader_->poll(), 0u);
  EXPECT_TRUE(published_.empty());
  EXPECT_EQ(reloader_->currentContexts(),
            std::vector<std::shared_ptr<const TlsContext>>{configured});
}

TEST_F(TlsReloaderTest, ChangedCertificateAndKeyArePublishedOnce) {
  const auto configured = watchListener();
  install("client.crt", "tls.crt");
  install("client.key", "tls.key");
  EXPECT_EQ(reloader_->poll(), 1u);
  ASSERT_EQ(published_.size(), 1u);
  EXPECT_EQ(published_[0].configured, configured.get());
  EXPECT_NE(published_[0].current, configured);
  EXPECT_EQ(leafSerial(*published_[0].current), serialOf(certPath("client.crt")));
  EXPECT_EQ(reloader_->currentContexts().at(0), published_[0].current);
  EXPECT_EQ(reloads_.value(), 1u);
  // The old context is untouched: sessions made from it carry on.
  EXPECT_EQ(leafSerial(*configured), serialOf(certPath("server.crt")));

  EXPECT_EQ(reloader_->poll(), 0u);
  EXPECT_EQ(published_.size(), 1u);
}

TEST_F(TlsReloaderTest, ChangedCaAloneRebuilds) {
  watchListener();
  install("other_ca.crt", "ca.crt");
  EXPECT_EQ(reloader_->poll(), 1u);
  ASSERT_EQ(published_.size(), 1u);
  EXPECT_EQ(published_[0].current->caCertificateDetails(std::time(nullptr)).at(0).serial_number,
            serialOf(certPath("other_ca.crt")));
}

TEST_F(TlsReloaderTest, FailedRebuildKeepsThePreviousContextUntilFilesChangeAgain) {
  const auto configured = watchListener();
  install("client.crt", "tls.crt");  // its key is not there yet
  EXPECT_EQ(reloader_->poll(), 0u);
  EXPECT_TRUE(published_.empty());
  EXPECT_EQ(reloader_->currentContexts().at(0), configured);
  EXPECT_EQ(reloads_.value(), 0u);
  EXPECT_EQ(reloader_->poll(), 0u);  // no change since the failure: not retried

  install("client.key", "tls.key");
  EXPECT_EQ(reloader_->poll(), 1u);
  ASSERT_EQ(published_.size(), 1u);
  EXPECT_EQ(leafSerial(*published_[0].current), serialOf(certPath("client.crt")));
}

TEST_F(TlsReloaderTest, MissingFileKeepsThePreviousContext) {
  const auto configured = watchListener();
  fs::remove(dir_ + "/tls.key");
  EXPECT_EQ(reloader_->poll(), 0u);
  EXPECT_EQ(reloader_->currentContexts().at(0), configured);
  install("server.key", "tls.key");
  EXPECT_EQ(reloader_->poll(), 1u);  // back: a change like any other
}

TEST_F(TlsReloaderTest, InlinePemIsListedButNeverRebuilt) {
  const auto configured = watchListener(true);
  install("client.crt", "tls.crt");
  EXPECT_EQ(reloader_->poll(), 0u);
  EXPECT_EQ(reloader_->currentContexts(),
            std::vector<std::shared_ptr<const TlsContext>>{configured});
}

TEST_F(TlsReloaderTest, WatchRefusesAConfigThatNoLongerLoads) {
  fs::remove(dir_ + "/tls.crt");
  const config::ConfigNode node = listenerTls();
  EXPECT_THROW(reloader_->watchDownstream("listener 'ingress'", nullptr, node),
               config::ConfigError);
}

TEST(TlsContextOverridesTest, ConfiguredUntilReplaced) {
  using network::tls::testing::serverContext;
  const auto configured = serverContext({});
  const auto other = serverContext({});
  const auto replacement = serverContext({.cert = "client"});
  network::tls::TlsContextOverrides overrides;
  EXPECT_EQ(overrides.current(configured), configured);
  EXPECT_EQ(overrides.current(nullptr), nullptr);

  overrides.replace(*configured, replacement);
  EXPECT_EQ(overrides.current(configured), replacement);
  EXPECT_EQ(overrides.current(other), other);
  EXPECT_EQ(overrides.current(nullptr), nullptr);
}

}  // namespace
}  // namespace remora::server
