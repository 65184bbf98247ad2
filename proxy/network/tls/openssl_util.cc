#include "proxy/network/tls/openssl_util.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

namespace remora::network::tls {
namespace {

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

BioPtr memoryBio(std::string_view bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

// Refuses encrypted PEM: without it OpenSSL's default callback prompts on the terminal
// and config loading would hang.
int noPassword(char*, int, int, void*) { return 0; }

std::string asn1String(const ASN1_STRING* value) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<std::size_t>(ASN1_STRING_length(value)));
}

std::string ipText(const ASN1_OCTET_STRING* value) {
  const unsigned char* bytes = ASN1_STRING_get0_data(value);
  char text[INET6_ADDRSTRLEN] = {};
  const int length = ASN1_STRING_length(value);
  if (length == 4) {
    inet_ntop(AF_INET, bytes, text, sizeof(text));
  } else if (length == 16) {
    inet_ntop(AF_INET6, bytes, text, sizeof(text));
  }
  return text;
}

std::string rfc3339(const ASN1_TIME* time) {
  std::tm parts{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) return {};
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

}  // namespace

std::vector<X509Ptr> parseCertificates(std::string_view pem) {
  std::vector<X509Ptr> certificates;
  BioPtr bio = memoryBio(pem);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, noPassword, nullptr)) {
    certificates.emplace_back(cert);
  }
  // The loop ends on "no start line"; anything else means a damaged PEM block.
  const unsigned long last = ERR_peek_last_error();
  const bool clean_end =
      ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  if (!clean_end && last != 0) certificates.clear();
  return certificates;
}

EvpPkeyPtr parsePrivateKey(std::string_view pem) {
  BioPtr bio = memoryBio(pem);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassword, nullptr));
  ERR_clear_error();
  return key;
}

SubjectAltNames subjectAltNames(X509* cert) {
  SubjectAltNames names;
  auto* general_names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (general_names == nullptr) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(general_names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(general_names, i);
    switch (name->type) {
      case GEN_DNS:
        names.dns.push_back(asn1String(name->d.dNSName));
        break;
      case GEN_URI:
        names.uri.push_back(asn1String(name->d.uniformResourceIdentifier));
        break;
      case GEN_EMAIL:
        names.email.push_back(asn1String(name->d.rfc822Name));
        break;
      case GEN_IPADD:
        names.ip.push_back(ipText(name->d.iPAddress));
        break;
      default:
        break;
    }
  }
  GENERAL_NAMES_free(general_names);
  return names;
}

std::string subjectName(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(std::max(length, 0L)));
}

std::string serialNumber(X509* cert) {
  BIGNUM* number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  if (number == nullptr) return {};
  char* hex = BN_bn2hex(number);
  std::string serial = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(number);
  std::transform(serial.begin(), serial.end(), serial.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return serial;
}

uint32_t daysUntilExpiration(X509* cert, std::time_t now) {
  ASN1_TIME* current = ASN1_TIME_set(nullptr, now);
  int days = 0;
  int seconds = 0;
  const bool ok =
      current != nullptr && ASN1_TIME_diff(&days, &seconds, current, X509_get0_notAfter(cert)) == 1;
  ASN1_TIME_free(current);
  if (!ok || days < 0 || (days == 0 && seconds <= 0)) return 0;
  return static_cast<uint32_t>(days);
}

std::string notBefore(X509* cert) { return rfc3339(X509_get0_notBefore(cert)); }
std::string notAfter(X509* cert) { return rfc3339(X509_get0_notAfter(cert)); }

std::string drainErrorQueue(std::string_view fallback) {
  const unsigned long first = ERR_get_error();
  ERR_clear_error();
  if (first == 0) return std::string(fallback);
  char text[256];
  ERR_error_string_n(first, text, sizeof(text));
  return text;
}

}  // namespace remora::network::tls
