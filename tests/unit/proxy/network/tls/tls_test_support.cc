#include "tests/unit/proxy/network/tls/tls_test_support.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace remora::network::tls::testing {
namespace {

// The PKI is generated on first use (the inspector tests never need it) into a fresh
// temporary directory per test process, and removed when the process's tests end.
std::string& generatedDir() {
  static std::string path;
  return path;
}

std::string generateCerts() {
  char pattern[] = "/tmp/remora-tls-test-XXXXXX";
  if (mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  generatedDir() = pattern;
  const std::string command = std::string(REMORA_MAKE_TEST_CERTS) + " " + pattern;
  if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
  return pattern;
}

class CertCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    if (!generatedDir().empty()) std::filesystem::remove_all(generatedDir());
  }
};

::testing::Environment* const kCertCleanup = ::testing::AddGlobalTestEnvironment(new CertCleanup);

std::string contextYaml(std::string_view type, const TlsYaml& options) {
  std::string yaml = "'@type': " + std::string(type) + "\ncommon_tls_context:\n";
  if (!options.cert.empty()) {
    yaml += "  tls_certificates:\n";
    yaml += "  - certificate_chain: {filename: " + certPath(options.cert + ".crt") + "}\n";
    yaml += "    private_key: {filename: " + certPath(options.cert + ".key") + "}\n";
  }
  if (!options.alpn.empty()) yaml += "  alpn_protocols: " + options.alpn + "\n";
  if (!options.min_version.empty() || !options.max_version.empty()) {
    yaml += "  tls_params:\n";
    if (!options.min_version.empty()) {
      yaml += "    tls_minimum_protocol_version: " + options.min_version + "\n";
    }
    if (!options.max_version.empty()) {
      yaml += "    tls_maximum_protocol_version: " + options.max_version + "\n";
    }
  }
  if (!options.trusted_ca.empty()) {
    yaml += "  validation_context:\n";
    yaml += "    trusted_ca: {filename: " + certPath(options.trusted_ca) + "}\n";
    if (!options.san_matchers.empty()) {
      yaml += "    match_typed_subject_alt_names: " + options.san_matchers + "\n";
    }
  }
  return yaml;
}

}  // namespace

const std::string& certDir() {
  static const std::string dir = generateCerts();
  return dir;
}

std::string certPath(std::string_view name) { return certDir() + "/" + std::string(name); }

config::ConfigNode parseYaml(const std::string& yaml) {
  return config::ConfigNode(YAML::Load(yaml), "", std::make_shared<const std::string>("tls.yaml"));
}

std::string downstreamYaml(const TlsYaml& options) {
  std::string yaml = contextYaml(kDownstreamTlsContextType, options);
  if (options.require_client_certificate) yaml += "require_client_certificate: true\n";
  return yaml;
}

std::string upstreamYaml(const TlsYaml& options) {
  std::string yaml = contextYaml(kUpstreamTlsContextType, options);
  if (!options.sni.empty()) yaml += "sni: " + options.sni + "\n";
  return yaml;
}

std::shared_ptr<const TlsContext> serverContext(const TlsYaml& options) {
  return TlsContext::create(parseDownstreamTlsContext(parseYaml(downstreamYaml(options))));
}

std::shared_ptr<const TlsContext> clientContext(const TlsYaml& options) {
  return TlsContext::create(parseUpstreamTlsContext(parseYaml(upstreamYaml(options))));
}

PumpResult pump(TlsSession& client, TlsSession& server, std::string& client_received,
                std::string& server_received) {
  PumpResult result;
  // Fed bytes are read in place by the next readPlaintext(): they outlive the round.
  std::string to_server;
  std::string to_client;
  // Every round trip moves at least one flight; a handshake needs a handful.
  for (int round = 0; round < 1000; ++round) {
    result.client = client.readPlaintext(client_received);
    to_server.clear();
    client.takeCiphertext(to_server);
    server.feedCiphertext(to_server);
    result.server = server.readPlaintext(server_received);
    to_client.clear();
    server.takeCiphertext(to_client);
    client.feedCiphertext(to_client);
    if (to_server.empty() && to_client.empty()) break;
  }
  return result;
}

}  // namespace remora::network::tls::testing
