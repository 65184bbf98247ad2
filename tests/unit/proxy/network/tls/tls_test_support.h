// Shared by the TLS tests: the generated test PKI, configs built from YAML, and a
// loop that pumps ciphertext between two in-memory sessions.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "config/config_node.h"
#include "proxy/network/tls/tls_config.h"
#include "proxy/network/tls/tls_context.h"
#include "proxy/network/tls/tls_session.h"

namespace remora::network::tls::testing {

inline constexpr std::string_view kServerSpiffe = "spiffe://cluster.local/ns/default/sa/server";
inline constexpr std::string_view kClientSpiffe = "spiffe://cluster.local/ns/default/sa/client";

// Directory holding make_test_certs.sh's output for this test process, generated on
// first use.
const std::string& certDir();
// certDir() + "/" + name, e.g. certPath("server.crt").
std::string certPath(std::string_view name);

// A root ConfigNode of `yaml` in a file named "tls.yaml".
config::ConfigNode parseYaml(const std::string& yaml);

// Options for the canned YAML configs below; empty strings leave a field out.
struct TlsYaml {
  std::string cert = "server";  // file stem of the certificate and key ("" = none)
  std::string trusted_ca;       // file name of the trusted CA ("" = no validation_context)
  std::string san_matchers;     // YAML list items under match_typed_subject_alt_names
  std::string alpn;             // flow list, e.g. "[h2, http/1.1]"
  std::string min_version;
  std::string max_version;
  bool require_client_certificate = false;
  std::string sni;
};
std::string downstreamYaml(const TlsYaml& options);
std::string upstreamYaml(const TlsYaml& options);
std::shared_ptr<const TlsContext> serverContext(const TlsYaml& options);
std::shared_ptr<const TlsContext> clientContext(const TlsYaml& options);

// Moves ciphertext both ways and reads plaintext until neither side makes progress
// or one fails. Plaintext each side receives is appended to its string. Returns the
// last status of each side.
struct PumpResult {
  TlsStatus client = TlsStatus::WantMore;
  TlsStatus server = TlsStatus::WantMore;
};
PumpResult pump(TlsSession& client, TlsSession& server, std::string& client_received,
                std::string& server_received);

}  // namespace remora::network::tls::testing
