"""What TLS shows to operators, with real clients (curl, Python ssl, openssl x509):
access log operators, ssl.versions / ssl.ciphers stats (also in Prometheus form), the
admin /certs endpoint and server.days_until_first_cert_expiring, and certificate
rotation on disk (a Kubernetes Secret update) without dropping open connections."""

import json
import os
import re
import socket
import ssl
import subprocess
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from harness import (REPO_ROOT, bootstrap, curl, http_listener, http_request, respond, route_to,
                     static_cluster, tcp_listener, virtual_host)
from telemetry_support import file_access_log, wait_for_lines

TLS_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
UPSTREAM_TLS_TYPE = ("type.googleapis.com/"
                     "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext")
SERVER_SAN_URI = "spiffe://cluster.local/ns/default/sa/server"
CLIENT_SAN_URI = "spiffe://cluster.local/ns/default/sa/client"
# Cert files are polled once a second; a rotation must show within this.
ROTATION_TIMEOUT_S = 5


def make_certs(directory: Path) -> Path:
    subprocess.run(["bash", str(REPO_ROOT / "tests/support/make_test_certs.sh"), str(directory)],
                   check=True, capture_output=True, timeout=60)
    return directory


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("certs"))


def tls_listener(cluster, cert, key, ca=None, require_client=False, access_log=None):
    common = {"alpn_protocols": ["http/1.1"],
              "tls_certificates": [{"certificate_chain": {"filename": str(cert)},
                                    "private_key": {"filename": str(key)}}]}
    if ca is not None:
        common["validation_context"] = {"trusted_ca": {"filename": str(ca)}}
    context = {"@type": TLS_TYPE, "common_tls_context": common}
    if require_client:
        context["require_client_certificate"] = True
    options = {"access_log": access_log} if access_log else {}
    listener = http_listener([virtual_host([route_to(cluster)])], **options)
    listener["filter_chains"][0]["transport_socket"] = {
        "name": "envoy.transport_sockets.tls", "typed_config": context}
    return listener


def https(port, certs, *args, host="server.local"):
    return curl("--cacert", str(certs / "ca.crt"), "--resolve", f"server.local:{port}:127.0.0.1",
                *args, f"https://{host}:{port}/")


def stats(proxy, pattern):
    body = proxy.admin("GET", "/stats?format=json&filter=" + pattern).body
    return {s["name"]: s["value"] for s in json.loads(body)["stats"] if "value" in s}


def openssl_field(cert: Path, field: str) -> str:
    out = subprocess.run(["openssl", "x509", "-noout", f"-{field}", "-in", str(cert)],
                         check=True, capture_output=True, text=True).stdout.strip()
    return out.split("=", 1)[1]


def openssl_time(cert: Path, field: str) -> datetime:
    return datetime.strptime(openssl_field(cert, field), "%b %d %H:%M:%S %Y %Z").replace(
        tzinfo=timezone.utc)


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def days_left(cert: Path) -> int:
    return int((openssl_time(cert, "enddate") - datetime.now(timezone.utc)).total_seconds()
               // 86400)


class TlsClient:
    """A keep-alive HTTP/1.1 client over Python's ssl, to hold a connection open."""

    def __init__(self, port: int, *ca_files: Path):
        context = ssl.create_default_context()
        for ca in ca_files:
            context.load_verify_locations(cafile=str(ca))
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock = context.wrap_socket(raw, server_hostname="server.local")
        self.buffer = b""

    def peer_serial(self) -> int:
        return int(self.sock.getpeercert()["serialNumber"], 16)

    def get(self, path: str = "/") -> tuple[int, bytes]:
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: server.local\r\n\r\n".encode())
        while b"\r\n\r\n" not in self.buffer:
            self._receive()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?im)^content-length:\s*(\d+)", head).group(1))
        while len(self.buffer) < length:
            self._receive()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(head.split(b" ")[1]), body

    def _receive(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed by the proxy")
        self.buffer += data

    def close(self) -> None:
        self.sock.close()


def test_access_log_has_peer_identity_tls_version_cipher_and_sni(remora, upstream, certs,
                                                                  tmp_path):
    backend = upstream(respond(200, b"ok"))
    log = tmp_path / "access.log"
    template = ("%DOWNSTREAM_PEER_URI_SAN%|%DOWNSTREAM_PEER_DNS_SAN%|%DOWNSTREAM_PEER_SUBJECT%|"
                "%DOWNSTREAM_TLS_VERSION%|%DOWNSTREAM_TLS_CIPHER%|%REQUESTED_SERVER_NAME%\n")
    # A validation context without require_client_certificate: a client certificate is
    # verified when sent, and optional.
    listener = tls_listener("backend", certs / "server.crt", certs / "server.key",
                            ca=certs / "ca.crt",
                            access_log=[file_access_log(log, {"text_format": template})])
    proxy = remora(bootstrap([listener], [static_cluster("backend", backend.port)]))

    mtls = https(proxy.port, certs, "--cert", str(certs / "client.crt"), "--key",
                 str(certs / "client.key"), "--tls13-ciphers", "TLS_AES_128_GCM_SHA256")
    assert mtls.stdout == b"ok", mtls.stderr
    # TLS 1.2 to the IP address: no client certificate and no SNI.
    plain_identity = curl("--cacert", str(certs / "ca.crt"), "--insecure", "--tls-max", "1.2",
                          "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256",
                          f"https://127.0.0.1:{proxy.port}/")
    assert plain_identity.stdout == b"ok", plain_identity.stderr

    assert wait_for_lines(log, 2) == [
        f"{CLIENT_SAN_URI}|-|CN=client,O=Remora Test|TLSv1.3|TLS_AES_128_GCM_SHA256|server.local",
        "-|-|-|TLSv1.2|ECDHE-ECDSA-AES128-GCM-SHA256|-",
    ]


def test_tcp_proxy_session_logs_its_tls(remora, echo_server, certs, tmp_path):
    echo = echo_server()
    log = tmp_path / "tcp.log"
    template = "%DOWNSTREAM_PEER_URI_SAN% %DOWNSTREAM_TLS_VERSION% %REQUESTED_SERVER_NAME%\n"
    listener = tcp_listener("echo", access_log=[file_access_log(log, {"text_format": template})])
    listener["filter_chains"][0]["transport_socket"] = {
        "name": "envoy.transport_sockets.tls", "typed_config": {
            "@type": TLS_TYPE, "require_client_certificate": True, "common_tls_context": {
                "tls_certificates": [
                    {"certificate_chain": {"filename": str(certs / "server.crt")},
                     "private_key": {"filename": str(certs / "server.key")}}],
                "validation_context": {"trusted_ca": {"filename": str(certs / "ca.crt")}}}}}
    proxy = remora(bootstrap([listener], [static_cluster("echo", echo.port)]))

    context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    context.load_cert_chain(str(certs / "client.crt"), str(certs / "client.key"))
    with context.wrap_socket(socket.create_connection(("127.0.0.1", proxy.port), timeout=5),
                             server_hostname="server.local") as sock:
        sock.sendall(b"ping")
        assert sock.recv(4) == b"ping"
    assert wait_for_lines(log, 1) == [f"{CLIENT_SAN_URI} TLSv1.3 server.local"]


def test_ssl_versions_and_ciphers_count_each_handshake(remora, upstream, certs):
    backend = upstream(respond(200, b"ok"))
    terminator = remora(bootstrap(
        [tls_listener("backend", certs / "server.crt", certs / "server.key")],
        [static_cluster("backend", backend.port)]), concurrency=2)
    for _ in range(3):
        assert https(terminator.port, certs, "--tls13-ciphers",
                     "TLS_AES_128_GCM_SHA256").stdout == b"ok"
    assert https(terminator.port, certs, "--tls-max", "1.2", "--ciphers",
                 "ECDHE-ECDSA-AES256-GCM-SHA384").stdout == b"ok"

    # A second Remora reaches the terminator over TLS: its cluster counts the same
    # handshake from the client side.
    upstream_tls = static_cluster("tls_backend", terminator.port)
    upstream_tls["transport_socket"] = {"name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": UPSTREAM_TLS_TYPE, "sni": "server.local", "common_tls_context": {
            "validation_context": {"trusted_ca": {"filename": str(certs / "ca.crt")}}}}}
    edge = remora(bootstrap([http_listener([virtual_host([route_to("tls_backend")])])],
                            [upstream_tls]))
    assert http_request(edge.port).status == 200

    cluster_stats = stats(edge, r"cluster\.tls_backend\.ssl\.(versions|ciphers|handshake)")
    # The edge negotiated OpenSSL's preferred TLS 1.3 suite, whichever it is.
    cipher_prefix = "cluster.tls_backend.ssl.ciphers."
    edge_cipher, = [name[len(cipher_prefix):] for name in cluster_stats
                    if name.startswith(cipher_prefix)]
    assert cluster_stats == {
        "cluster.tls_backend.ssl.handshake": 1,
        "cluster.tls_backend.ssl.versions.TLSv1.3": 1,
        cipher_prefix + edge_cipher: 1,
    }
    # The terminator saw the same handshake from the server side.
    ciphers = Counter({"TLS_AES_128_GCM_SHA256": 3, "ECDHE-ECDSA-AES256-GCM-SHA384": 1})
    ciphers[edge_cipher] += 1
    prefix = f"listener.127.0.0.1_{terminator.port}.ssl."
    assert stats(terminator, re.escape(prefix) + "(versions|ciphers|handshake)") == {
        prefix + "handshake": 5,
        prefix + "versions.TLSv1.3": 4,
        prefix + "versions.TLSv1.2": 1,
        **{prefix + "ciphers." + name: count for name, count in ciphers.items()},
    }

    address = f"127.0.0.1_{terminator.port}"
    exposition = terminator.admin("GET", "/stats/prometheus").body.decode()
    assert ("# TYPE envoy_listener_ssl_versions counter\n"
            f'envoy_listener_ssl_versions{{envoy_ssl_version="TLSv1.2",'
            f'envoy_listener_address="{address}"}} 1\n'
            f'envoy_listener_ssl_versions{{envoy_ssl_version="TLSv1.3",'
            f'envoy_listener_address="{address}"}} 4\n') in exposition, exposition
    assert (f'envoy_listener_ssl_ciphers{{envoy_ssl_cipher="ECDHE-ECDSA-AES256-GCM-SHA384",'
            f'envoy_listener_address="{address}"}} 1\n') in exposition, exposition
    edge_exposition = edge.admin("GET", "/stats/prometheus").body.decode()
    assert (f'envoy_cluster_ssl_ciphers{{cipher_suite="{edge_cipher}",'
            f'envoy_cluster_name="tls_backend"}} 1\n') in edge_exposition, edge_exposition
    assert ('envoy_cluster_ssl_versions{envoy_ssl_version="TLSv1.3",'
            'envoy_cluster_name="tls_backend"} 1\n') in edge_exposition, edge_exposition


def expected_details(cert: Path, sans: list[dict]) -> dict:
    return {"path": str(cert),
            # Whole bytes in lower-case hex, as Envoy prints it; openssl in upper case.
            "serial_number": openssl_field(cert, "serial").lower(),
            "subject_alt_names": sans,
            "valid_from": rfc3339(openssl_time(cert, "startdate")),
            "expiration_time": rfc3339(openssl_time(cert, "enddate"))}


def without_days(details: dict) -> dict:
    return {k: v for k, v in details.items() if k != "days_until_expiration"}


def test_certs_endpoint_and_days_until_first_cert_expiring(remora, upstream, certs):
    backend = upstream(respond(200, b"ok"))
    upstream_tls = static_cluster("tls_backend", backend.port)
    upstream_tls["transport_socket"] = {"name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": UPSTREAM_TLS_TYPE, "common_tls_context": {
            "tls_certificates": [{"certificate_chain": {"filename": str(certs / "client.crt")},
                                  "private_key": {"filename": str(certs / "client.key")}}],
            "validation_context": {"trusted_ca": {"filename": str(certs / "other_ca.crt")}}}}}
    proxy = remora(bootstrap(
        [tls_listener("tls_backend", certs / "server.crt", certs / "server.key",
                      ca=certs / "ca.crt", require_client=True)], [upstream_tls]))

    body = json.loads(proxy.admin("GET", "/certs").body)
    listener, cluster = body["certificates"]
    assert set(body) == {"certificates"} and set(listener) == {"ca_cert", "cert_chain"}
    server_cert, = listener["cert_chain"]
    assert without_days(server_cert) == expected_details(
        certs / "server.crt", [{"dns": "server.local"}, {"uri": SERVER_SAN_URI}])
    ca_cert, = listener["ca_cert"]
    assert without_days(ca_cert) == expected_details(certs / "ca.crt", [])
    client_cert, = cluster["cert_chain"]
    assert without_days(client_cert) == expected_details(certs / "client.crt",
                                                         [{"uri": CLIENT_SAN_URI}])
    other_ca, = cluster["ca_cert"]
    assert without_days(other_ca) == expected_details(certs / "other_ca.crt", [])

    # proto3 JSON quotes a uint64; openssl and Remora may straddle a day boundary.
    for details, path in [(server_cert, "server.crt"), (ca_cert, "ca.crt"),
                          (client_cert, "client.crt"), (other_ca, "other_ca.crt")]:
        assert isinstance(details["days_until_expiration"], str)
        assert abs(int(details["days_until_expiration"]) - days_left(certs / path)) <= 1

    soonest = min(int(d["days_until_expiration"])
                  for d in (server_cert, ca_cert, client_cert, other_ca))
    assert stats(proxy, r"^server\.days_until_first_cert_expiring$") == {
        "server.days_until_first_cert_expiring": soonest}
    assert abs(soonest - days_left(certs / "server.crt")) <= 1


class KubernetesSecretVolume:
    """A directory laid out as the kubelet mounts a Secret: the files are symlinks
    through `..data`, which an update swaps atomically to a fresh directory."""

    FILES = ("server.crt", "server.key")

    def __init__(self, root: Path, source: Path):
        self.root = root
        self.version = 0
        root.mkdir()
        self.update(source)
        for name in self.FILES:
            os.symlink(f"..data/{name}", root / name)

    def update(self, source: Path) -> None:
        self.version += 1
        target = self.root / f"..v{self.version}"
        target.mkdir()
        for name in self.FILES:
            (target / name).write_bytes((source / name).read_bytes())
        os.symlink(target.name, self.root / "..data_tmp")
        os.replace(self.root / "..data_tmp", self.root / "..data")


def wait_for_serial(port: int, ca_files: list[Path], serial: int) -> int:
    deadline = time.monotonic() + ROTATION_TIMEOUT_S
    while True:
        client = TlsClient(port, *ca_files)
        seen = client.peer_serial()
        client.close()
        if seen == serial or time.monotonic() > deadline:
            return seen
        time.sleep(0.1)


def serial_of(cert: Path) -> int:
    return int(openssl_field(cert, "serial"), 16)


def test_certificate_rotation_keeps_open_connections(remora, upstream, certs, tmp_path):
    rotated = make_certs(tmp_path / "rotated")  # another CA, other serials
    assert serial_of(rotated / "server.crt") != serial_of(certs / "server.crt")
    backend = upstream(respond(200, b"ok"))
    secret = KubernetesSecretVolume(tmp_path / "secret", certs)
    proxy = remora(bootstrap(
        [tls_listener("backend", secret.root / "server.crt", secret.root / "server.key")],
        [static_cluster("backend", backend.port)]), concurrency=2)
    both_cas = [certs / "ca.crt", rotated / "ca.crt"]

    old = TlsClient(proxy.port, *both_cas)
    assert old.peer_serial() == serial_of(certs / "server.crt")
    assert old.get() == (200, b"ok")

    secret.update(rotated)
    new_serial = serial_of(rotated / "server.crt")
    assert wait_for_serial(proxy.port, both_cas, new_serial) == new_serial
    # Every worker serves the new certificate (connections spread over both).
    for _ in range(6):
        client = TlsClient(proxy.port, *both_cas)
        assert client.peer_serial() == new_serial
        assert client.get() == (200, b"ok")
        client.close()
    # The connection opened before the rotation still works, on its old session.
    assert old.get() == (200, b"ok")
    assert old.peer_serial() == serial_of(certs / "server.crt")
    old.close()

    listener_cert, = json.loads(proxy.admin("GET", "/certs").body)["certificates"][0]["cert_chain"]
    assert int(listener_cert["serial_number"], 16) == new_serial
    assert stats(proxy, r"^server\.tls_context_reloads$") == {"server.tls_context_reloads": 1}
    assert "listener 'http': TLS certificates reloaded" in proxy.stderr()


def test_broken_certificate_keeps_the_previous_one(remora, upstream, certs, tmp_path):
    backend = upstream(respond(200, b"ok"))
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    cert.write_bytes((certs / "server.crt").read_bytes())
    key.write_bytes((certs / "server.key").read_bytes())
    proxy = remora(bootstrap([tls_listener("backend", cert, key)],
                             [static_cluster("backend", backend.port)]))

    # A certificate that does not match the key: refused, the old pair stays.
    cert.write_bytes((certs / "client.crt").read_bytes())
    deadline = time.monotonic() + ROTATION_TIMEOUT_S
    while "cannot reload TLS certificates" not in proxy.stderr():
        assert time.monotonic() < deadline, proxy.stderr()
        time.sleep(0.1)
    assert "listener 'http': cannot reload TLS certificates, keeping the previous ones" \
        in proxy.stderr()
    client = TlsClient(proxy.port, certs / "ca.crt")
    assert client.peer_serial() == serial_of(certs / "server.crt")
    assert client.get() == (200, b"ok")
    client.close()
    assert stats(proxy, r"^server\.tls_context_reloads$") == {"server.tls_context_reloads": 0}

    # Fixing the file is picked up without a restart.
    cert.write_bytes((certs / "server.crt").read_bytes())
    key.write_bytes((certs / "server.key").read_bytes())
    deadline = time.monotonic() + ROTATION_TIMEOUT_S
    while stats(proxy, r"^server\.tls_context_reloads$")["server.tls_context_reloads"] != 1:
        assert time.monotonic() < deadline, proxy.stderr()
        time.sleep(0.1)
