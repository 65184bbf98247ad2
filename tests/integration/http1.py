"""HTTP/1.1 on raw sockets for the integration tests: a parser that records exactly
what it read, message builders, and clients (a raw-socket one and curl).

Every read has a deadline; everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

LOOPBACK = "127.0.0.1"
IO_TIMEOUT_S = 5.0


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


class Response(Message):
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

    def read_until(self, delimiter: bytes, deadline: float,
                   limit: int = 1 << 20) -> Optional[bytes]:
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
    if not no_body:
        read_body(reader, message, deadline)
    return message


def read_body(reader: SocketReader, message: Message, deadline: float) -> None:
    """Chunked, Content-Length, or (a response only) until the connection closes."""
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
    elif isinstance(message, Response):
        message.body = reader.read_to_eof(deadline)


def build_request(method: str = "GET", path: str = "/", headers: Iterable[tuple[str, str]] = (),
                  body: Optional[bytes] = None, host: Optional[str] = "test") -> bytes:
    headers = list(headers)
    lines = [f"{method} {path} HTTP/1.1"]
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
            if not (head_request or status in (204, 304)):
                read_body(self.reader, response, deadline)
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
