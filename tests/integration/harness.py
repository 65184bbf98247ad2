"""Harness for Remora's integration tests.

It starts the real `remora` binary (REMORA_BIN) on a generated config, real upstream
servers (a programmable raw-socket HTTP/1.1 server, a TCP echo server, nginx) and
talks to it with real clients (curl) and raw sockets. Everything listens on
127.0.0.1 only, and every loop and wait has a deadline.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import select
import signal
import socket
import string
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

LOOPBACK = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[2]
SANITIZER_REPORT = re.compile(r"ERROR: \w*Sanitizer|runtime error:")
READY_TIMEOUT_S = 10.0
IO_TIMEOUT_S = 5.0
# No upstream connection lives longer than this, whatever its handler does.
MAX_CONNECTION_LIFETIME_S = 60.0

HCM_NAME = "envoy.filters.network.http_connection_manager"
HCM_TYPE = ("type.googleapis.com/"
            "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager")
TCP_PROXY_NAME = "envoy.filters.network.tcp_proxy"
TCP_PROXY_TYPE = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
ROUTER_FILTER = {
    "name": "envoy.filters.http.router",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
}
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def remora_bin() -> str:
    path = os.environ.get("REMORA_BIN", "")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError(f"REMORA_BIN must name the remora executable, got {path!r}")
    return path


def free_port() -> int:
    """A port that was free a moment ago (bind port 0, then close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pattern_bytes(size: int, seed: int = 0) -> bytes:
    """Deterministic, non-repeating-looking bytes (a counter hashed block by block)."""
    out = bytearray()
    block = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{block}".encode()).digest() * 64
        block += 1
    return bytes(out[:size])


# ------------------------------------------------------------------ HTTP/1.1 messages


class Stopped(Exception):
    """The server owning a socket is shutting down."""


@dataclass
class Message:
    """A parsed HTTP/1.1 request or response."""
    start_line: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    trailers: list[tuple[str, str]] = field(default_factory=list)
    chunked: bool = False
    raw_head: bytes = b""

    def header(self, name: str) -> Optional[str]:
        values = self.header_values(name)
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        name = name.lower()
        return [v for (n, v) in self.headers if n.lower() == name]

    def has(self, name: str) -> bool:
        return bool(self.header_values(name))

    def trailer(self, name: str) -> Optional[str]:
        name = name.lower()
        return next((v for (n, v) in self.trailers if n.lower() == name), None)


class Request(Message):
    @property
    def method(self) -> str:
        return self.start_line.split(" ")[0]

    @property
    def target(self) -> str:
        return self.start_line.split(" ")[1]

    @property
    def version(self) -> str:
        return self.start_line.split(" ")[2]


class Response(Message):
    @property
    def version(self) -> str:
        return self.start_line.split(" ")[0]

    @property
    def status(self) -> int:
        return int(self.start_line.split(" ")[1])

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class SocketReader:
    """Buffered, deadline-bounded reads from a socket; records every byte received."""

    def __init__(self, sock: socket.socket, stop: Optional[threading.Event] = None,
                 record: Optional[bytearray] = None):
        self.sock = sock
        self.stop = stop
        self.record = record
        self.buf = bytearray()
        self.eof = False
        self.reset = False

    def fill(self, deadline: float) -> bool:
        """Reads once more. False on EOF (or reset); TimeoutError after the deadline."""
        while True:
            if self.eof:
                return False
            if self.stop is not None and self.stop.is_set():
                raise Stopped()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no data before the deadline")
            readable, _, _ = select.select([self.sock], [], [], min(remaining, 0.1))
            if not readable:
                continue
            try:
                data = self.sock.recv(1 << 16)
            except (ConnectionResetError, ConnectionAbortedError):
                self.eof = self.reset = True
                return False
            if not data:
                self.eof = True
                return False
            if self.record is not None:
                self.record += data
            self.buf += data
            return True

    def read_until(self, delimiter: bytes, deadline: float, limit: int = 1 << 20) -> Optional[bytes]:
        """Bytes up to and including `delimiter`; None on EOF before it."""
        searched = 0
        while True:
            index = self.buf.find(delimiter, max(0, searched - len(delimiter)))
            if index >= 0:
                end = index + len(delimiter)
                out = bytes(self.buf[:end])
                del self.buf[:end]
                return out
            if len(self.buf) > limit:
                raise ValueError(f"no {delimiter!r} within {limit} bytes")
            searched = len(self.buf)
            if not self.fill(deadline):
                return None

    def read_exact(self, size: int, deadline: float) -> Optional[bytes]:
        while len(self.buf) < size:
            if not self.fill(deadline):
                return None
        out = bytes(self.buf[:size])
        del self.buf[:size]
        return out

    def read_to_eof(self, deadline: float) -> bytes:
        while self.fill(deadline):
            pass
        out = bytes(self.buf)
        self.buf.clear()
        return out

    def take_buffered(self) -> bytes:
        out = bytes(self.buf)
        self.buf.clear()
        return out


class IncompleteMessage(Exception):
    """The peer closed the connection in the middle of a message."""


def parse_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = head[:-4].decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"malformed header line {line!r}")
        headers.append((name, value.strip(" \t")))
    return lines[0], headers


def _read_chunked(reader: SocketReader, deadline: float) -> tuple[bytes, list[tuple[str, str]]]:
    body = bytearray()
    while True:
        size_line = reader.read_until(b"\r\n", deadline)
        if size_line is None:
            raise IncompleteMessage("EOF in chunk size")
        size = int(size_line[:-2].split(b";")[0], 16)
        if size == 0:
            break
        chunk = reader.read_exact(size + 2, deadline)
        if chunk is None:
            raise IncompleteMessage("EOF in chunk data")
        if chunk[-2:] != b"\r\n":
            raise ValueError("chunk not followed by CRLF")
        body += chunk[:-2]
    trailers = []
    while True:
        line = reader.read_until(b"\r\n", deadline)
        if line is None:
            raise IncompleteMessage("EOF in trailers")
        if line == b"\r\n":
            return bytes(body), trailers
        name, _, value = line[:-2].decode("latin-1").partition(":")
        trailers.append((name, value.strip(" \t")))


def read_message(reader: SocketReader, deadline: float, kind: type, no_body: bool = False):
    """Reads one request or response. None on a clean EOF before its first byte."""
    # Like a lenient server, skip empty lines before a start line.
    while reader.buf[:2] == b"\r\n":
        del reader.buf[:2]
    head = reader.read_until(b"\r\n\r\n", deadline)
    if head is None:
        if reader.buf:
            raise IncompleteMessage(f"EOF inside a message head: {bytes(reader.buf)[:200]!r}")
        return None
    start_line, headers = parse_head(head)
    message = kind(start_line=start_line, headers=headers, raw_head=head)
    if no_body:
        return message
    te = ",".join(message.header_values("transfer-encoding")).lower()
    if "chunked" in te:
        message.chunked = True
        message.body, message.trailers = _read_chunked(reader, deadline)
    elif message.has("content-length"):
        length = int(message.header("content-length"))
        body = reader.read_exact(length, deadline)
        if body is None:
            raise IncompleteMessage(f"EOF after {len(reader.buf)} of {length} body bytes")
        message.body = body
    elif kind is Response:
        message.body = reader.read_to_eof(deadline)  # close-delimited
    return message


def build_request(method: str = "GET", path: str = "/", headers: Iterable[tuple[str, str]] = (),
                  body: Optional[bytes] = None, host: Optional[str] = "test",
                  version: str = "HTTP/1.1") -> bytes:
    headers = list(headers)
    lines = [f"{method} {path} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{n}: {v}" for (n, v) in headers]
    names = {n.lower() for (n, _) in headers}
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def build_response(status: int = 200, body: bytes = b"", headers: Iterable[tuple[str, str]] = (),
                   reason: str = "OK", content_length: bool = True) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{n}: {v}" for (n, v) in headers]
    if content_length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# ------------------------------------------------------------------ clients


class HttpClient:
    """A raw-socket HTTP/1.1 client: sends exactly the bytes it is given."""

    def __init__(self, port: int, timeout: float = IO_TIMEOUT_S):
        self.timeout = timeout
        self.sock = socket.create_connection((LOOPBACK, port), timeout=timeout)
        self.reader = SocketReader(self.sock)

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_response(self, head_request: bool = False, timeout: Optional[float] = None,
                      keep_interim: bool = False) -> Optional[Response]:
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            response = read_message(self.reader, deadline, Response, no_body=True)
            if response is None:
                return None
            status = response.status
            if 100 <= status < 200:
                if keep_interim or status == 101:
                    return response
                continue
            if head_request or status in (204, 304):
                return response
            # Reuse read_message's body logic on the already-parsed head.
            te = ",".join(response.header_values("transfer-encoding")).lower()
            if "chunked" in te:
                response.chunked = True
                response.body, response.trailers = _read_chunked(self.reader, deadline)
            elif response.has("content-length"):
                length = int(response.header("content-length"))
                body = self.reader.read_exact(length, deadline)
                if body is None:
                    raise IncompleteMessage(f"EOF in a body of {length} bytes")
                response.body = body
            else:
                response.body = self.reader.read_to_eof(deadline)
            return response

    def request(self, method: str = "GET", path: str = "/", headers: Iterable[tuple[str, str]] = (),
                body: Optional[bytes] = None, host: Optional[str] = "test",
                timeout: Optional[float] = None) -> Response:
        self.send(build_request(method, path, headers, body, host))
        response = self.read_response(head_request=method == "HEAD", timeout=timeout)
        if response is None:
            raise IncompleteMessage("connection closed without a response")
        return response

    def read_until_closed(self, timeout: Optional[float] = None) -> tuple[bytes, bool]:
        """Everything until the peer closes; (bytes, closed) — closed False on timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            return self.reader.read_to_eof(deadline), True
        except TimeoutError:
            return self.reader.take_buffered(), False

    def closed_by_peer(self, timeout: float) -> bool:
        data, closed = self.read_until_closed(timeout)
        return closed and not data

    def shutdown_write(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.sock.close()


def http_request(port: int, method: str = "GET", path: str = "/",
                 headers: Iterable[tuple[str, str]] = (), body: Optional[bytes] = None,
                 host: Optional[str] = "test", timeout: float = IO_TIMEOUT_S) -> Response:
    """One request on its own connection."""
    with HttpClient(port, timeout) as client:
        return client.request(method, path, headers, body, host)


def exchange(port: int, data: bytes, timeout: float = IO_TIMEOUT_S) -> tuple[bytes, bool]:
    """Sends raw bytes on a new connection; returns everything read and whether the peer closed."""
    with HttpClient(port, timeout) as client:
        try:
            client.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return client.read_until_closed(timeout)


def curl(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    """Runs curl (no proxy from the environment); stdout as bytes."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return subprocess.run(["curl", "-sS", "--noproxy", "*", *args], capture_output=True,
                          timeout=timeout, env=env, check=False)


# ------------------------------------------------------------------ upstream servers


class UpstreamConnection:
    """One connection accepted by an UpstreamServer; handlers answer through it."""

    def __init__(self, server: "UpstreamServer", sock: socket.socket):
        self.server = server
        self.sock = sock
        self.raw = bytearray()  # every byte received, exactly
        self.reader = SocketReader(sock, server._stop, self.raw)
        self.responses_sent = 0
        self.closed = False

    def send(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.sock.close()

    def wait_for_peer_close(self, timeout: float = MAX_CONNECTION_LIFETIME_S) -> None:
        """Reads (and records) until the peer closes, the server stops or the timeout."""
        try:
            self.reader.read_to_eof(time.monotonic() + timeout)
        except (TimeoutError, Stopped):
            pass

    def echo_until_eof(self, timeout: float = MAX_CONNECTION_LIFETIME_S) -> None:
        deadline = time.monotonic() + timeout
        try:
            pending = self.reader.take_buffered()
            while True:
                if pending and not self.send(pending):
                    return
                if not self.reader.fill(deadline):
                    return
                pending = self.reader.take_buffered()
        except (TimeoutError, Stopped):
            return


Handler = Callable[[UpstreamConnection, Request], None]


def respond(status: int = 200, body: bytes = b"", headers: Iterable[tuple[str, str]] = (),
            reason: str = "OK") -> Handler:
    """A fixed response; Content-Length added unless `headers` frame the body themselves."""
    headers = list(headers)
    framed = any(n.lower() in ("content-length", "transfer-encoding") for (n, _) in headers)

    def handler(conn: UpstreamConnection, request: Request) -> None:
        if request.method == "HEAD":
            length = [] if framed else [("Content-Length", str(len(body)))]
            conn.send(build_response(status, b"", headers + length, reason, content_length=False))
        elif status in (204, 304):
            conn.send(build_response(status, b"", headers, reason, content_length=False))
        else:
            conn.send(build_response(status, body, headers, reason, content_length=not framed))
    return handler


def echo_path() -> Handler:
    """200 with the request target as the body."""
    def handler(conn: UpstreamConnection, request: Request) -> None:
        conn.send(build_response(200, request.target.encode()))
    return handler


def respond_chunked(chunks: Iterable[bytes], trailers: Iterable[tuple[str, str]] = (),
                    headers: Iterable[tuple[str, str]] = ()) -> Handler:
    chunks, trailers, headers = list(chunks), list(trailers), list(headers)

    def handler(conn: UpstreamConnection, request: Request) -> None:
        out = build_response(200, b"", headers + [("Transfer-Encoding", "chunked")],
                             content_length=False)
        for chunk in chunks:
            out += f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        out += b"0\r\n" + b"".join(f"{n}: {v}\r\n".encode() for (n, v) in trailers) + b"\r\n"
        conn.send(out)
    return handler


def close_without_response() -> Handler:
    def handler(conn: UpstreamConnection, request: Request) -> None:
        conn.close()
    return handler


def close_mid_body(declared_length: int, sent: bytes) -> Handler:
    """Announces `declared_length` body bytes, sends fewer, closes."""
    def handler(conn: UpstreamConnection, request: Request) -> None:
        conn.send(build_response(200, b"", [("Content-Length", str(declared_length))],
                                 content_length=False) + sent)
        time.sleep(0.05)
        conn.close()
    return handler


def send_garbage(data: bytes = b"this is not an HTTP response\r\n\r\n") -> Handler:
    def handler(conn: UpstreamConnection, request: Request) -> None:
        conn.send(data)
    return handler


def never_answer() -> Handler:
    def handler(conn: UpstreamConnection, request: Request) -> None:
        conn.wait_for_peer_close()
        conn.close()
    return handler


def switch_protocols_and_echo() -> Handler:
    def handler(conn: UpstreamConnection, request: Request) -> None:
        conn.send(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                  b"Upgrade: " + (request.header("upgrade") or "").encode() + b"\r\n\r\n")
        conn.echo_until_eof()
        conn.close()
    return handler


def delayed(seconds: float, inner: Handler) -> Handler:
    def handler(conn: UpstreamConnection, request: Request) -> None:
        if not conn.server._stop.wait(seconds):
            inner(conn, request)
    return handler


class UpstreamServer:
    """A programmable HTTP/1.1 server on raw sockets, one thread per connection.

    It parses each request itself (request line, headers, Content-Length or chunked
    body with trailers), records the exact bytes received and every parsed request,
    then lets `handler(conn, request)` answer. `close_after_responses` closes a
    connection after that many responses; `close_idle_after` closes it when no new
    request starts within that many seconds of a response.
    """

    def __init__(self, handler: Optional[Handler] = None, close_after_responses: int = 0,
                 close_idle_after: float = 0.0):
        self.handler = handler or respond(200, b"ok")
        self.close_after_responses = close_after_responses
        self.close_idle_after = close_idle_after
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._connections: list[UpstreamConnection] = []
        self._threads: list[threading.Thread] = []
        self.errors: list[str] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(128)
        self.port = self._listener.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._accept_thread.start()

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    @property
    def connection_count(self) -> int:
        with self._lock:
            return len(self._connections)

    def raw_bytes(self) -> bytes:
        with self._lock:
            return b"".join(bytes(c.raw) for c in self._connections)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._connections.clear()
            self.errors.clear()

    def wait_for_requests(self, count: int, timeout: float = IO_TIMEOUT_S) -> bool:
        return wait_until(lambda: len(self.requests) >= count, timeout)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            readable, _, _ = select.select([self._listener], [], [], 0.1)
            if not readable:
                continue
            try:
                sock, _ = self._listener.accept()
            except OSError:
                continue
            conn = UpstreamConnection(self, sock)
            with self._lock:
                self._connections.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._lock:
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: UpstreamConnection) -> None:
        deadline = time.monotonic() + MAX_CONNECTION_LIFETIME_S
        try:
            while not conn.closed:
                if conn.responses_sent and self.close_idle_after:
                    try:
                        if not conn.reader.buf and not conn.reader.fill(
                                time.monotonic() + self.close_idle_after):
                            break
                    except TimeoutError:
                        break
                request = read_message(conn.reader, deadline, Request)
                if request is None:
                    break
                with self._lock:
                    self._requests.append(request)
                self.handler(conn, request)
                conn.responses_sent += 1
                if self.close_after_responses and conn.responses_sent >= self.close_after_responses:
                    break
        except (Stopped, TimeoutError):
            pass
        except Exception as e:  # a malformed request: recorded, connection closed
            with self._lock:
                self.errors.append(f"{type(e).__name__}: {e}")
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._accept_thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=5)


class EchoServer:
    """TCP upstream: echoes every byte; on the client's EOF sends `final` and closes."""

    def __init__(self, final: bytes = b""):
        self.final = final
        self._stop = threading.Event()
        self.connection_count = 0
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._accept_thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            readable, _, _ = select.select([self._listener], [], [], 0.1)
            if not readable:
                continue
            try:
                sock, _ = self._listener.accept()
            except OSError:
                continue
            self.connection_count += 1
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        reader = SocketReader(sock, self._stop)
        deadline = time.monotonic() + MAX_CONNECTION_LIFETIME_S
        try:
            while reader.fill(deadline):
                sock.sendall(reader.take_buffered())
            if not reader.reset and self.final:
                sock.sendall(self.final)
        except (Stopped, TimeoutError, OSError):
            pass
        finally:
            sock.close()

    def stop(self) -> None:
        self._stop.set()
        self._accept_thread.join(timeout=5)
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)


NGINX_CONF = string.Template("""\
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 128; }
http {
  access_log off;
  default_type application/octet-stream;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 10000;
  server {
    listen 127.0.0.1:$port;
    root $dir/www;
    location = /no-content { return 204; }
  }
}
""")


class Nginx:
    """nginx from Debian serving `files` from a temporary root, on a free loopback port."""

    def __init__(self, workdir: Path, files: dict[str, bytes]):
        self.dir = workdir / f"nginx-{id(self)}"
        (self.dir / "www").mkdir(parents=True)
        for name, data in files.items():
            path = self.dir / "www" / name.lstrip("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        self.process: Optional[subprocess.Popen] = None
        self.port = 0

    def start(self) -> "Nginx":
        for _ in range(3):  # the free port may be taken before nginx binds it
            self.port = free_port()
            conf = self.dir / "nginx.conf"
            conf.write_text(NGINX_CONF.substitute(dir=self.dir, port=self.port))
            self.process = subprocess.Popen(
                ["nginx", "-p", str(self.dir), "-c", str(conf), "-e", str(self.dir / "error.log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if wait_until(lambda: self._accepting() or self.process.poll() is not None, 5):
                if self.process.poll() is None:
                    return self
            self.stop()
        raise RuntimeError("nginx did not start: " + (self.dir / "error.log").read_text())

    def _accepting(self) -> bool:
        try:
            socket.create_connection((LOOPBACK, self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


# ------------------------------------------------------------------ remora


BOOTSTRAP_TEMPLATE = string.Template("""\
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: $$admin_port }
static_resources:
  listeners: $listeners
  clusters: $clusters
""")


def bootstrap(listeners: list[dict], clusters: list[dict]) -> str:
    """A bootstrap YAML; `$admin_port` is filled in by Remora.start()."""
    return BOOTSTRAP_TEMPLATE.substitute(listeners=json.dumps(listeners),
                                         clusters=json.dumps(clusters))


def static_cluster(name: str, *ports: int, connect_timeout: str = "1s", **extra) -> dict:
    endpoints = [{"endpoint": {"address": {"socket_address": {"address": LOOPBACK,
                                                              "port_value": p}}}}
                 for p in ports]
    cluster = {"name": name, "type": "STATIC", "connect_timeout": connect_timeout,
               "load_assignment": {"cluster_name": name,
                                   "endpoints": [{"lb_endpoints": endpoints}] if ports else []}}
    cluster.update(extra)
    return cluster


def http_listener(virtual_hosts: list[dict], name: str = "http",
                  http_filters: Optional[list[dict]] = None,
                  route_config_extra: Optional[dict] = None, **hcm_options) -> dict:
    route_config = {"name": "routes", "virtual_hosts": virtual_hosts}
    route_config.update(route_config_extra or {})
    hcm = {"@type": HCM_TYPE, "stat_prefix": name, "route_config": route_config,
           "http_filters": http_filters if http_filters is not None else [ROUTER_FILTER]}
    hcm.update(hcm_options)
    return {"name": name,
            "address": {"socket_address": {"address": LOOPBACK, "port_value": 0}},
            "filter_chains": [{"filters": [{"name": HCM_NAME, "typed_config": hcm}]}]}


def tcp_listener(cluster: str, name: str = "tcp", **options) -> dict:
    proxy = {"@type": TCP_PROXY_TYPE, "stat_prefix": name, "cluster": cluster}
    proxy.update(options)
    return {"name": name,
            "address": {"socket_address": {"address": LOOPBACK, "port_value": 0}},
            "filter_chains": [{"filters": [{"name": TCP_PROXY_NAME, "typed_config": proxy}]}]}


def virtual_host(routes: list[dict], domains: Iterable[str] = ("*",), name: str = "default",
                 **extra) -> dict:
    vh = {"name": name, "domains": list(domains), "routes": routes}
    vh.update(extra)
    return vh


def route_to(cluster: str, prefix: str = "/", **action_options) -> dict:
    action = {"cluster": cluster}
    action.update(action_options)
    return {"match": {"prefix": prefix}, "route": action}


def proxy_config(upstream_port: int, route_options: Optional[dict] = None, **hcm_options) -> str:
    """Every request on listener "http" goes to cluster "backend" at upstream_port."""
    routes = [route_to("backend", **(route_options or {}))]
    return bootstrap([http_listener([virtual_host(routes)], **hcm_options)],
                     [static_cluster("backend", upstream_port)])


def sanitizer_report(stderr: str) -> Optional[str]:
    match = SANITIZER_REPORT.search(stderr)
    if not match:
        return None
    return stderr[max(0, match.start() - 200):match.start() + 4000]


def run_remora(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    """Runs remora to completion (CLI and validate tests); text output."""
    result = subprocess.run([remora_bin(), *args], capture_output=True, text=True,
                            timeout=timeout, check=False)
    report = sanitizer_report(result.stderr)
    assert report is None, f"sanitizer report from remora {args}:\n{report}"
    return result


class Remora:
    """One remora process on a config template (which may use $admin_port)."""

    _counter = 0

    def __init__(self, config: str, workdir: Path, concurrency: int = 1, drain_time_s: int = 1,
                 args: Iterable[str] = (), expected_exit: int = 0):
        Remora._counter += 1
        self.name = f"remora-{Remora._counter}"
        self.config_template = config
        self.workdir = workdir
        self.concurrency = concurrency
        self.drain_time_s = drain_time_s
        self.args = list(args)
        self.expected_exit = expected_exit
        self.config_path = workdir / f"{self.name}.yaml"
        self.stderr_path = workdir / f"{self.name}.stderr"
        self.process: Optional[subprocess.Popen] = None
        self.admin_port = 0
        self.ports: dict[str, int] = {}
        self.exit_code: Optional[int] = None

    def start(self) -> "Remora":
        for _ in range(3):  # the admin port may be taken before remora binds it
            self.admin_port = free_port()
            self.config_path.write_text(
                self.config_template.replace("$admin_port", str(self.admin_port)))
            self._spawn()
            if self._wait_ready():
                self.ports = self._listener_ports()
                return self
            if "cannot listen on admin address" not in self.stderr():
                break
        raise RuntimeError(f"{self.name} did not become ready (exit {self.process.poll()}):\n"
                           f"{self.stderr()[-4000:]}")

    def _spawn(self) -> None:
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        with open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                [remora_bin(), "-c", str(self.config_path), "--concurrency",
                 str(self.concurrency), "--drain-time-s", str(self.drain_time_s), *self.args],
                stdout=subprocess.DEVNULL, stderr=err, env=env)

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.exit_code = self.process.returncode
                return False
            try:
                if self.admin("GET", "/ready", timeout=1).status == 200:
                    return True
            except (OSError, IncompleteMessage, TimeoutError):
                pass
            time.sleep(0.02)
        return False

    def _listener_ports(self) -> dict[str, int]:
        listing = json.loads(self.admin("GET", "/listeners?format=json").body)
        return {entry["name"]: entry["local_address"]["socket_address"]["port_value"]
                for entry in listing["listener_statuses"]}

    @property
    def port(self) -> int:
        """The first listener's port."""
        return next(iter(self.ports.values()))

    def admin(self, method: str, path: str, timeout: float = IO_TIMEOUT_S) -> Response:
        return http_request(self.admin_port, method, path, host="admin", timeout=timeout)

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def send_signal(self, signum: int = signal.SIGTERM) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: Optional[float] = None) -> int:
        if timeout is None:
            timeout = self.drain_time_s + 15
        try:
            self.exit_code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
            raise AssertionError(f"{self.name} did not exit within {timeout}s:\n"
                                 f"{self.stderr()[-3000:]}")
        return self.exit_code

    def stop(self) -> int:
        """SIGTERM, then wait for the exit; returns the exit code."""
        if self.running():
            self.send_signal(signal.SIGTERM)
        return self.wait()

    def check_exit(self) -> list[str]:
        """Problems with how the process ended (exit code, sanitizer reports)."""
        problems = []
        if self.process is None:
            return problems
        try:
            code = self.stop() if self.exit_code is None else self.exit_code
        except AssertionError as e:
            return [str(e)]
        if code != self.expected_exit:
            problems.append(f"{self.name} exited with {code}, expected {self.expected_exit}:\n"
                            f"{self.stderr()[-3000:]}")
        report = sanitizer_report(self.stderr())
        if report:
            problems.append(f"{self.name} sanitizer report:\n{report}")
        return problems
