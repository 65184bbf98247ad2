"""Upstream servers for the integration tests: a programmable HTTP/1.1 server on raw
sockets, a TCP echo server and nginx, all on 127.0.0.1.
"""

from __future__ import annotations

import select
import socket
import string
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Optional

from http1 import (IO_TIMEOUT_S, LOOPBACK, IncompleteMessage, Request, SocketReader, Stopped,
                   build_response, free_port, http_request, read_message, wait_until)

# No upstream connection lives longer than this, whatever its handler does.
MAX_CONNECTION_LIFETIME_S = 60.0


class UpstreamConnection:
    """One connection accepted by an UpstreamServer; handlers answer through it."""

    def __init__(self, server: "UpstreamServer", sock: socket.socket):
        self.server = server
        self.sock = sock
        self.raw = bytearray()  # every byte received, exactly
        self.raw_mark = 0  # where raw stood at the server's last reset()
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

    def sleep(self, seconds: float) -> bool:
        """Waits; False if the server started stopping meanwhile."""
        return not self.server._stop.wait(seconds)

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
        conn.sleep(0.05)
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
        if conn.sleep(seconds):
            inner(conn, request)
    return handler


class ThreadedServer:
    """A loopback TCP listener that serves each accepted socket on its own thread.

    Subclasses call start_listening() and implement _on_accept(sock)."""

    def start_listening(self, backlog: int) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(backlog)
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
            self._on_accept(sock)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _on_accept(self, sock: socket.socket) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self._stop.set()
        self._accept_thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=5)


class UpstreamServer(ThreadedServer):
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
        self._requests: list[Request] = []
        self._connections: list[UpstreamConnection] = []
        self._accepted_since_reset = 0
        self.errors: list[str] = []
        self.start_listening(128)

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    @property
    def connection_count(self) -> int:
        """Connections accepted since the last reset()."""
        with self._lock:
            return self._accepted_since_reset

    def raw_bytes(self) -> bytes:
        """Every byte received since the last reset(), on old and new connections."""
        with self._lock:
            return b"".join(bytes(c.raw[c.raw_mark:]) for c in self._connections)

    def reset(self) -> None:
        """Forgets what was received so far; pooled connections stay open."""
        with self._lock:
            self._requests.clear()
            self.errors.clear()
            self._accepted_since_reset = 0
            for conn in self._connections:
                conn.raw_mark = len(conn.raw)

    def wait_for_requests(self, count: int, timeout: float = IO_TIMEOUT_S) -> bool:
        return wait_until(lambda: len(self.requests) >= count, timeout)

    def _on_accept(self, sock: socket.socket) -> None:
        conn = UpstreamConnection(self, sock)
        with self._lock:
            self._connections.append(conn)
            self._accepted_since_reset += 1
        self._spawn(self._serve, conn)

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


class EchoServer(ThreadedServer):
    """TCP upstream: echoes every byte; on the client's EOF sends `final` and closes."""

    def __init__(self, final: bytes = b""):
        self.final = final
        self.start_listening(16)

    def _on_accept(self, sock: socket.socket) -> None:
        self._spawn(self._serve, sock)

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
  }
}
""")


class Nginx:
    """nginx from Debian serving `files` from a temporary root, on a free loopback port."""

    SENTINEL = "harness-sentinel"

    def __init__(self, workdir: Path, files: dict[str, bytes]):
        self.dir = workdir / f"nginx-{id(self)}"
        (self.dir / "www").mkdir(parents=True)
        # Proves that the server on the port is this nginx, not whoever took the port.
        self.token = f"nginx {self.dir}".encode()
        files = {**files, self.SENTINEL: self.token}
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
            if wait_until(lambda: self._serving() or self.process.poll() is not None, 5):
                if self.process.poll() is None:
                    return self
            self.stop()
        raise RuntimeError("nginx did not start: " + (self.dir / "error.log").read_text())

    def _serving(self) -> bool:
        try:
            return http_request(self.port, path=f"/{self.SENTINEL}", timeout=1).body == self.token
        except (OSError, IncompleteMessage, ValueError):
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
