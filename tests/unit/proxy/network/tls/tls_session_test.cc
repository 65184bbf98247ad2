#include "proxy/network/tls/tls_session.h"

#include <gtest/gtest.h>

#include "tests/unit/proxy/network/tls/tls_test_support.h"

namespace remora::network::tls {
namespace {

using testing::clientContext;
using testing::kClientSpiffe;
using testing::kServerSpiffe;
using testing::pump;
using testing::PumpResult;
using testing::serverContext;
using testing::TlsYaml;

constexpr char kUriMatchesClient[] =
    "[{san_type: URI, matcher: {exact: 'spiffe://cluster.local/ns/default/sa/client'}}]";

// A client and a server session over their own contexts, with the plaintext each
// side received.
struct Connection {
  Connection(std::shared_ptr<const TlsContext> client_context,
             std::shared_ptr<const TlsContext> server_context)
      : client(std::move(client_context)), server(std::move(server_context)) {}

  PumpResult run() { return pump(client, server, client_received, server_received); }

  TlsSession client;
  TlsSession server;
  std::string client_received;
  std::string server_received;
};

std::string pattern(std::size_t size, char seed) {
  std::string data(size, '\0');
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>(seed + i * 31 + i / 251);
  return data;
}

TEST(TlsSessionTest, HandshakeDefaultsToTls13) {
  Connection connection(clientContext({.cert = ""}), serverContext({}));
  const PumpResult result = connection.run();
  EXPECT_EQ(result.client, TlsStatus::WantMore);
  EXPECT_EQ(result.server, TlsStatus::WantMore);
  ASSERT_TRUE(connection.client.handshakeDone());
  ASSERT_TRUE(connection.server.handshakeDone());
  EXPECT_EQ(connection.client.version(), "TLSv1.3");
  EXPECT_EQ(connection.server.version(), "TLSv1.3");
  EXPECT_EQ(connection.server.cipher(), "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(connection.client.failure(), TlsFailure::None);
  EXPECT_EQ(connection.server.failure(), TlsFailure::None);
  EXPECT_TRUE(connection.server.isServer());
  EXPECT_FALSE(connection.client.isServer());
}

TEST(TlsSessionTest, HandshakeTls12WhenClientCapsIt) {
  Connection connection(clientContext({.cert = "", .max_version = "TLSv1_2"}), serverContext({}));
  connection.run();
  ASSERT_TRUE(connection.server.handshakeDone());
  EXPECT_EQ(connection.client.version(), "TLSv1.2");
  EXPECT_EQ(connection.server.version(), "TLSv1.2");
  EXPECT_EQ(connection.server.cipher(), "ECDHE-ECDSA-AES256-GCM-SHA384");
}

TEST(TlsSessionTest, HandshakeTls13WhenBothPinIt) {
  Connection connection(
      clientContext({.cert = "", .min_version = "TLSv1_3", .max_version = "TLSv1_3"}),
      serverContext({.min_version = "TLSv1_3", .max_version = "TLSv1_3"}));
  connection.run();
  ASSERT_TRUE(connection.server.handshakeDone());
  EXPECT_EQ(connection.server.version(), "TLSv1.3");
}

TEST(TlsSessionTest, VersionMismatchFailsBothSides) {
  Connection connection(clientContext({.cert = "", .max_version = "TLSv1_2"}),
                        serverContext({.min_version = "TLSv1_3"}));
  const PumpResult result = connection.run();
  EXPECT_EQ(result.server, TlsStatus::Error);
  EXPECT_EQ(result.client, TlsStatus::Error);
  EXPECT_EQ(connection.server.failure(), TlsFailure::ConnectionError);
  EXPECT_EQ(connection.client.failure(), TlsFailure::ConnectionError);
  EXPECT_NE(connection.server.errorDetails().find("unsupported protocol"), std::string::npos)
      << connection.server.errorDetails();
  EXPECT_FALSE(connection.server.handshakeDone());
}

TEST(TlsSessionTest, ServerPicksItsPreferredAlpn) {
  Connection connection(clientContext({.cert = "", .alpn = "[http/1.1, h2]"}),
                        serverContext({.alpn = "[h2, http/1.1]"}));
  connection.run();
  EXPECT_EQ(connection.server.negotiatedAlpn(), "h2");
  EXPECT_EQ(connection.client.negotiatedAlpn(), "h2");
}

TEST(TlsSessionTest, AlpnFallsBackToHttp11) {
  Connection connection(clientContext({.cert = "", .alpn = "[http/1.1]"}),
                        serverContext({.alpn = "[h2, http/1.1]"}));
  connection.run();
  EXPECT_EQ(connection.server.negotiatedAlpn(), "http/1.1");
  EXPECT_EQ(connection.client.negotiatedAlpn(), "http/1.1");
}

TEST(TlsSessionTest, NoAlpnOverlapStillHandshakes) {
  Connection connection(clientContext({.cert = "", .alpn = "[spdy/3]"}),
                        serverContext({.alpn = "[h2]"}));
  connection.run();
  ASSERT_TRUE(connection.server.handshakeDone());
  EXPECT_EQ(connection.server.negotiatedAlpn(), "");
  EXPECT_EQ(connection.client.negotiatedAlpn(), "");
}

TEST(TlsSessionTest, OneMebibyteEachWay) {
  Connection connection(clientContext({.cert = ""}), serverContext({}));
  connection.run();
  ASSERT_TRUE(connection.server.handshakeDone());
  const std::string upload = pattern(1 << 20, 'u');
  const std::string download = pattern(1 << 20, 'd');
  ASSERT_EQ(connection.client.writePlaintext(upload), TlsStatus::Ok);
  ASSERT_EQ(connection.server.writePlaintext(download), TlsStatus::Ok);
  connection.run();
  EXPECT_EQ(connection.server_received.size(), upload.size());
  EXPECT_EQ(connection.client_received.size(), download.size());
  EXPECT_TRUE(connection.server_received == upload);
  EXPECT_TRUE(connection.client_received == download);
}

// Socket reads split records anywhere; the session keeps the unread part of a
// partial record even though the caller reuses its read buffer after each read.
TEST(TlsSessionTest, RecordsFedOneByteAtATimeFromAReusedBuffer) {
  Connection connection(clientContext({.cert = ""}), serverContext({}));
  connection.run();
  ASSERT_TRUE(connection.server.handshakeDone());
  const std::string request = pattern(40000, 'r');  // three records
  ASSERT_EQ(connection.client.writePlaintext(request), TlsStatus::Ok);
  std::string records;
  connection.client.takeCiphertext(records);
  std::string read_buffer;
  for (const char byte : records) {
    read_buffer.assign(1, byte);
    connection.server.feedCiphertext(read_buffer);
    const TlsStatus status = connection.server.readPlaintext(connection.server_received);
    ASSERT_NE(status, TlsStatus::Error) << connection.server.errorDetails();
    read_buffer.assign(1, '\xff');
  }
  EXPECT_TRUE(connection.server_received == request);
}

// Several records and the close_notify in one socket read all come out of one call.
TEST(TlsSessionTest, OneReadDecryptsEveryRecordFedThenSeesCloseNotify) {
  Connection connection(clientContext({.cert = ""}), serverContext({}));
  connection.run();
  ASSERT_TRUE(connection.server.handshakeDone());
  ASSERT_EQ(connection.client.writePlaintext("first "), TlsStatus::Ok);
  std::string records;
  connection.client.takeCiphertext(records);
  ASSERT_EQ(connection.client.writePlaintext("second"), TlsStatus::Ok);
  connection.client.shutdown();
  connection.client.takeCiphertext(records);
  connection.server.feedCiphertext(records);
  EXPECT_EQ(connection.server.readPlaintext(connection.server_received), TlsStatus::Closed);
  EXPECT_EQ(connection.server_received, "first second");
}

TEST(TlsSessionTest, WritesBeforeTheHandshakeAreHeldThenSent) {
  Connection connection(clientContext({.cert = ""}), serverContext({}));
  ASSERT_EQ(connection.client.writePlaintext("GET / HTTP/1.1\r\n\r\n"), TlsStatus::Ok);
  ASSERT_EQ(connection.server.writePlaintext("early"), TlsStatus::Ok);
  connection.run();
  EXPECT_EQ(connection.server_received, "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(connection.client_received, "early");
}

TEST(TlsSessionTest, CloseNotifyReachesThePeer) {
  Connection connection(clientContext({.cert = ""}), serverContext({}));
  connection.run();
  ASSERT_TRUE(connection.server.handshakeDone());
  ASSERT_EQ(connection.client.writePlaintext("last words"), TlsStatus::Ok);
  connection.client.shutdown();
  EXPECT_TRUE(connection.client.hasCiphertext());
  PumpResult result = connection.run();
  EXPECT_EQ(result.server, TlsStatus::Closed);
  EXPECT_EQ(connection.server_received, "last words");
  EXPECT_EQ(connection.server.failure(), TlsFailure::None);
  EXPECT_EQ(connection.client.writePlaintext("more"), TlsStatus::Error);

  connection.server.shutdown();
  result = connection.run();
  EXPECT_EQ(result.client, TlsStatus::Closed);
  EXPECT_EQ(connection.client.failure(), TlsFailure::None);
}

void expectResumption(const std::string& max_version) {
  const auto client_context = clientContext({.cert = "", .max_version = max_version});
  const auto server_context = serverContext({});
  Connection first(client_context, server_context);
  first.run();
  ASSERT_TRUE(first.client.handshakeDone());
  EXPECT_FALSE(first.client.sessionReused());
  EXPECT_NE(client_context->lastSession(), nullptr);

  Connection second(client_context, server_context);
  second.run();
  ASSERT_TRUE(second.server.handshakeDone());
  EXPECT_TRUE(second.client.sessionReused());
  EXPECT_TRUE(second.server.sessionReused());

  // Sessions belong to their contexts: a rebuilt server context starts afresh.
  Connection rebuilt(client_context, serverContext({}));
  rebuilt.run();
  ASSERT_TRUE(rebuilt.server.handshakeDone());
  EXPECT_FALSE(rebuilt.server.sessionReused());
}

TEST(TlsSessionTest, SecondConnectionResumesTls13) { expectResumption("TLSv1_3"); }
TEST(TlsSessionTest, SecondConnectionResumesTls12) { expectResumption("TLSv1_2"); }

TEST(TlsSessionTest, MutualTlsExposesBothIdentities) {
  const auto client_context = clientContext({.cert = "client", .trusted_ca = "ca.crt"});
  Connection connection(client_context, serverContext({.trusted_ca = "ca.crt",
                                                       .san_matchers = kUriMatchesClient,
                                                       .require_client_certificate = true}));
  connection.run();
  ASSERT_TRUE(connection.server.handshakeDone()) << connection.server.errorDetails();
  ASSERT_TRUE(connection.client.handshakeDone());
  const PeerIdentity& client_identity = connection.server.peerIdentity();
  EXPECT_TRUE(client_identity.has_certificate);
  EXPECT_EQ(client_identity.uri_sans, std::vector<std::string>{std::string(kClientSpiffe)});
  EXPECT_TRUE(client_identity.dns_sans.empty());
  EXPECT_EQ(client_identity.subject, "CN=client,O=Remora Test");
  EXPECT_EQ(client_identity.serial, client_context->certificateDetails(0).at(0).serial_number);
  const PeerIdentity& server_identity = connection.client.peerIdentity();
  EXPECT_EQ(server_identity.uri_sans, std::vector<std::string>{std::string(kServerSpiffe)});
  EXPECT_EQ(server_identity.dns_sans, std::vector<std::string>{"server.local"});
}

TEST(TlsSessionTest, ResumedMutualTlsKeepsThePeerIdentity) {
  const auto client_context = clientContext({.cert = "client", .trusted_ca = "ca.crt"});
  const auto server_context = serverContext({.trusted_ca = "ca.crt",
                                             .san_matchers = kUriMatchesClient,
                                             .require_client_certificate = true});
  Connection first(client_context, server_context);
  first.run();
  ASSERT_TRUE(first.server.handshakeDone()) << first.server.errorDetails();
  Connection second(client_context, server_context);
  second.run();
  ASSERT_TRUE(second.server.handshakeDone()) << second.server.errorDetails();
  EXPECT_TRUE(second.server.sessionReused());
  EXPECT_EQ(second.server.peerIdentity().uri_sans,
            std::vector<std::string>{std::string(kClientSpiffe)});
}

TEST(TlsSessionTest, SessionIsNotOfferedToAnotherServerName) {
  const auto client_context = clientContext({.cert = "", .sni = "server.local"});
  const auto server_context = serverContext({});
  Connection first(client_context, server_context);
  first.run();
  ASSERT_NE(client_context->lastSession(), nullptr);
  TlsSession other_name(client_context, "api.local");
  TlsSession server(server_context);
  std::string ignored;
  pump(other_name, server, ignored, ignored);
  ASSERT_TRUE(server.handshakeDone());
  EXPECT_FALSE(server.sessionReused());
}

TEST(TlsSessionTest, RequiredClientCertificateMissing) {
  Connection connection(
      clientContext({.cert = ""}),
      serverContext({.trusted_ca = "ca.crt", .require_client_certificate = true}));
  const PumpResult result = connection.run();
  EXPECT_EQ(result.server, TlsStatus::Error);
  EXPECT_EQ(connection.server.failure(), TlsFailure::FailVerifyNoCert);
  EXPECT_EQ(statName(connection.server.failure()), "ssl.fail_verify_no_cert");
  EXPECT_EQ(connection.server.errorDetails(), "peer did not return a certificate");
  // The client learns from the server's alert.
  EXPECT_EQ(result.client, TlsStatus::Error);
  EXPECT_EQ(connection.client.failure(), TlsFailure::ConnectionError);
}

TEST(TlsSessionTest, OptionalClientCertificateMissingIsAllowed) {
  Connection connection(clientContext({.cert = ""}), serverContext({.trusted_ca = "ca.crt"}));
  connection.run();
  ASSERT_TRUE(connection.server.handshakeDone());
  EXPECT_EQ(connection.server.failure(), TlsFailure::None);
  EXPECT_FALSE(connection.server.peerIdentity().has_certificate);
}

// Runs a handshake of `client_cert` against a server that requires a client
// certificate from ca.crt, and returns the server's session.
std::unique_ptr<Connection> mutualTlsWith(const std::string& client_cert,
                                          const std::string& san_matchers = "") {
  auto connection = std::make_unique<Connection>(
      clientContext({.cert = client_cert}), serverContext({.trusted_ca = "ca.crt",
                                                           .san_matchers = san_matchers,
                                                           .require_client_certificate = true}));
  connection->run();
  return connection;
}

TEST(TlsSessionTest, ExpiredClientCertificateFailsVerification) {
  const auto connection = mutualTlsWith("expired_client");
  EXPECT_FALSE(connection->server.handshakeDone());
  EXPECT_EQ(connection->server.failure(), TlsFailure::FailVerifyError);
  EXPECT_EQ(statName(connection->server.failure()), "ssl.fail_verify_error");
  EXPECT_EQ(connection->server.errorDetails(),
            "peer certificate verification failed: certificate has expired");
}

TEST(TlsSessionTest, UnknownCaFailsVerification) {
  const auto connection = mutualTlsWith("other_ca_client");
  EXPECT_EQ(connection->server.failure(), TlsFailure::FailVerifyError);
  EXPECT_EQ(connection->server.errorDetails(),
            "peer certificate verification failed: unable to get local issuer certificate");
}

TEST(TlsSessionTest, SanMismatchIsItsOwnFailure) {
  const auto connection = mutualTlsWith("wrong_san", kUriMatchesClient);
  EXPECT_FALSE(connection->server.handshakeDone());
  EXPECT_EQ(connection->server.failure(), TlsFailure::FailVerifySan);
  EXPECT_EQ(statName(connection->server.failure()), "ssl.fail_verify_san");
  EXPECT_EQ(connection->server.errorDetails(),
            "peer certificate matches no subject alt name matcher");
}

TEST(TlsSessionTest, SanPrefixMatcherAcceptsTheNamespace) {
  const auto connection = mutualTlsWith(
      "client", "[{san_type: URI, matcher: {prefix: 'spiffe://cluster.local/ns/default/'}}]");
  EXPECT_TRUE(connection->server.handshakeDone()) << connection->server.errorDetails();
}

TEST(TlsSessionTest, SanMatcherOfAnotherTypeDoesNotMatch) {
  // The client has the URI, not a DNS SAN, so a DNS matcher on the same text fails.
  const auto connection = mutualTlsWith(
      "client",
      "[{san_type: DNS, matcher: {exact: 'spiffe://cluster.local/ns/default/sa/client'}}]");
  EXPECT_EQ(connection->server.failure(), TlsFailure::FailVerifySan);
}

TEST(TlsSessionTest, ClientVerifiesTheServer) {
  Connection accepted(
      clientContext({.cert = "",
                     .trusted_ca = "ca.crt",
                     .san_matchers = "[{san_type: DNS, matcher: {exact: server.local}}]"}),
      serverContext({}));
  accepted.run();
  EXPECT_TRUE(accepted.client.handshakeDone()) << accepted.client.errorDetails();

  Connection wrong_ca(clientContext({.cert = "", .trusted_ca = "other_ca.crt"}), serverContext({}));
  wrong_ca.run();
  EXPECT_EQ(wrong_ca.client.failure(), TlsFailure::FailVerifyError);
  EXPECT_EQ(wrong_ca.server.failure(), TlsFailure::ConnectionError);

  Connection wrong_name(
      clientContext({.cert = "",
                     .trusted_ca = "ca.crt",
                     .san_matchers = "[{san_type: DNS, matcher: {exact: other.local}}]"}),
      serverContext({}));
  wrong_name.run();
  EXPECT_EQ(wrong_name.client.failure(), TlsFailure::FailVerifySan);
}

TEST(TlsSessionTest, PlaintextHttpIsAConnectionError) {
  TlsSession server(serverContext({}));
  server.feedCiphertext("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string plaintext;
  EXPECT_EQ(server.readPlaintext(plaintext), TlsStatus::Error);
  EXPECT_EQ(server.failure(), TlsFailure::ConnectionError);
  EXPECT_EQ(statName(server.failure()), "ssl.connection_error");
  EXPECT_NE(server.errorDetails().find("http request"), std::string::npos) << server.errorDetails();
  EXPECT_TRUE(plaintext.empty());
  // Later calls keep failing without touching OpenSSL.
  server.feedCiphertext("more");
  EXPECT_EQ(server.readPlaintext(plaintext), TlsStatus::Error);
  EXPECT_EQ(server.writePlaintext("x"), TlsStatus::Error);
}

TEST(TlsSessionTest, CorruptRecordAfterHandshakeIsAConnectionError) {
  Connection connection(clientContext({.cert = ""}), serverContext({}));
  connection.run();
  ASSERT_TRUE(connection.server.handshakeDone());
  ASSERT_EQ(connection.client.writePlaintext("hello"), TlsStatus::Ok);
  std::string record;
  connection.client.takeCiphertext(record);
  record[record.size() - 1] ^= 0x01;  // breaks the AEAD tag
  connection.server.feedCiphertext(record);
  std::string plaintext;
  EXPECT_EQ(connection.server.readPlaintext(plaintext), TlsStatus::Error);
  EXPECT_EQ(connection.server.failure(), TlsFailure::ConnectionError);
  EXPECT_TRUE(plaintext.empty());
  // The alert for the peer is waiting.
  EXPECT_TRUE(connection.server.hasCiphertext());
}

TEST(TlsSessionTest, ServerSeesTheClientSni) {
  Connection connection(clientContext({.cert = "", .sni = "server.local"}), serverContext({}));
  connection.run();
  EXPECT_EQ(connection.server.serverName(), "server.local");

  TlsSession overridden(clientContext({.cert = "", .sni = "server.local"}), "api.local");
  TlsSession server(serverContext({}));
  std::string ignored;
  pump(overridden, server, ignored, ignored);
  EXPECT_EQ(server.serverName(), "api.local");
}

TEST(TlsSessionTest, StatNames) {
  EXPECT_EQ(statName(TlsFailure::None), "");
  EXPECT_EQ(statName(TlsFailure::ConnectionError), "ssl.connection_error");
  EXPECT_EQ(statName(TlsFailure::FailVerifyNoCert), "ssl.fail_verify_no_cert");
  EXPECT_EQ(statName(TlsFailure::FailVerifyError), "ssl.fail_verify_error");
  EXPECT_EQ(statName(TlsFailure::FailVerifySan), "ssl.fail_verify_san");
}

}  // namespace
}  // namespace remora::network::tls
