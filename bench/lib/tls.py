"""The TLS material of one run: one certificate and key every TLS server uses, and the
OpenSSL configuration that pins the load generator to one protocol and cipher suite.

Every server keeps its own TLS 1.3 cipher preference, so the suite is chosen by
what the client offers: wrk (which has no cipher option) reads OPENSSL_CONF, and
offering only TLS_AES_128_GCM_SHA256 makes every server negotiate it.
"""

import os
import subprocess

PROTOCOL = "TLSv1.3"
CIPHER_SUITE = "TLS_AES_128_GCM_SHA256"
KEY_TYPE = "ECDSA P-256"

_CLIENT_OPENSSL_CONF = f"""\
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_section
[ssl_section]
system_default = system_default_section
[system_default_section]
MinProtocol = {PROTOCOL}
MaxProtocol = {PROTOCOL}
Ciphersuites = {CIPHER_SUITE}
"""


class Material:
    """Paths of the run's certificate (cert), key (key), both in one PEM (HAProxy's
    `crt`) and the client OpenSSL configuration."""

    def __init__(self, run_dir):
        directory = os.path.join(run_dir, "tls")
        os.makedirs(directory, exist_ok=True)
        os.chmod(directory, 0o755)  # nginx workers run as "nobody" under root
        self.cert = os.path.join(directory, "server.crt")
        self.key = os.path.join(directory, "server.key")
        self.combined = os.path.join(directory, "server.pem")
        self.client_conf = os.path.join(directory, "client-openssl.cnf")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "30",
             "-subj", "/CN=bench.local", "-addext", "subjectAltName=DNS:bench.local"],
            check=True, capture_output=True, timeout=30)
        with open(self.combined, "w") as out:
            for path in (self.cert, self.key):
                with open(path) as f:
                    out.write(f.read())
        with open(self.client_conf, "w") as f:
            f.write(_CLIENT_OPENSSL_CONF)
        for path in (self.cert, self.key, self.combined, self.client_conf):
            os.chmod(path, 0o644)

    def template_values(self):
        return {"TLS_CERT": self.cert, "TLS_KEY": self.key, "TLS_PEM": self.combined}

    def client_env(self):
        return dict(os.environ, OPENSSL_CONF=self.client_conf)
