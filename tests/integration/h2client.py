"""A scriptable HTTP/2 client (h2c, prior knowledge) on Debian's python3-h2, for tests
that need what curl and h2load cannot do: several streams on one connection driven
one by one, a window that is never reopened, frames sent without reading replies."""

from __future__ import annotations

import socket
import time
from typing import Optional

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

from http1 import LOOPBACK


class H2Client:
    def __init__(self, port: int, initial_window: Optional[int] = None,
                 auto_window_update: bool = True, rcvbuf: Optional[int] = None):
        """`auto_window_update` False: received DATA is never acknowledged, so the
        proxy runs out of window. `rcvbuf` shrinks the socket's receive buffer."""
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect((LOOPBACK, port))
        self.auto_window_update = auto_window_update
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        if initial_window is not None:
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: initial_window})
        self.responses: dict[int, dict] = {}
        self.resets: dict[int, int] = {}
        self.closed = False
        self.flush()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, method: str, path: str, end_stream: bool = True,
                authority: str = "example.com") -> int:
        stream_id = self.conn.get_next_available_stream_id()
        self.conn.send_headers(stream_id, [(":method", method), (":scheme", "http"),
                                           (":authority", authority), (":path", path)],
                               end_stream=end_stream)
        self.flush()
        return stream_id

    def pump(self, timeout: float) -> bool:
        """Reads and handles what arrives within `timeout`; False once the peer closed."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return True
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return False
        for event in self.conn.receive_data(data):
            self._handle(event)
        self.flush()
        return True

    def _handle(self, event) -> None:
        if isinstance(event, h2.events.ResponseReceived):
            self.responses.setdefault(event.stream_id, {"body": b""})["headers"] = dict(
                (k.decode(), v.decode()) for k, v in event.headers)
        elif isinstance(event, h2.events.DataReceived):
            self.responses.setdefault(event.stream_id, {"body": b""})["body"] += event.data
            if self.auto_window_update and event.flow_controlled_length:
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            self.responses.setdefault(event.stream_id, {"body": b""})["ended"] = True
        elif isinstance(event, h2.events.StreamReset):
            self.resets[event.stream_id] = event.error_code

    def wait_for(self, condition, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline or not self.pump(0.1):
                return condition()
        return True

    def response(self, stream_id: int, timeout: float = 10.0) -> Optional[dict]:
        self.wait_for(lambda: self.responses.get(stream_id, {}).get("ended")
                      or stream_id in self.resets, timeout)
        return self.responses.get(stream_id)

    def send_until_blocked(self, stream_id: int, total: int, quiet: float = 1.5) -> int:
        """Sends up to `total` body bytes on the stream, as fast as the windows allow;
        stops once the window stayed closed for `quiet` seconds. Returns bytes sent."""
        sent = 0
        chunk = b"u" * 16384
        blocked_since = None
        while sent < total:
            window = min(self.conn.local_flow_control_window(stream_id),
                         self.conn.max_outbound_frame_size, total - sent)
            if window > 0:
                self.conn.send_data(stream_id, chunk[:window])
                self.flush()
                sent += window
                blocked_since = None
                continue
            blocked_since = blocked_since or time.monotonic()
            if time.monotonic() - blocked_since > quiet or not self.pump(0.1):
                break
        return sent

    def close(self) -> None:
        self.sock.close()
