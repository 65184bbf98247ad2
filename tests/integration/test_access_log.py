"""Access logs: the file and stdout loggers, Envoy's default format, custom text and JSON
formats, filters, response flags, TCP sessions, requests the codec rejects, and
reopening the file (SIGUSR1, POST /reopen_logs) after logrotate renamed it."""

from __future__ import annotations

import json
import re
import signal
import socket
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from harness import (LOOPBACK, ROUTER_FILTER, UUID4, SocketReader, bootstrap, exchange,
                     free_port, http_listener, http_request, never_answer, respond, route_to,
                     static_cluster, tcp_listener, virtual_host, wait_until)
from telemetry_support import (HEALTH_CHECK_FILTER, MALFORMED_REQUEST, SETTLE_TIMEOUT_S,
                               file_access_log, lines_after_quiet, read_lines,
                               start_capturing_stdout, stdout_access_log, wait_for_lines)

# Envoy's default format, field by field.
DEFAULT_LINE = re.compile(
    r'^\[(?P<start>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\] '
    r'"(?P<method>\S+) (?P<path>\S+) (?P<protocol>\S+)" (?P<status>\d+) (?P<flags>\S+) '
    r'(?P<bytes_received>\d+) (?P<bytes_sent>\d+) (?P<duration>\d+) (?P<service_time>\S+) '
    r'"(?P<xff>[^"]*)" "(?P<user_agent>[^"]*)" "(?P<request_id>[^"]*)" '
    r'"(?P<authority>[^"]*)" "(?P<upstream_host>[^"]*)"$')
PATH_STATUS_FLAGS = {"text_format_source": {
    "inline_string": "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%\n"}}
RESPONSE_BODY = b"0123456789"


def backend_handler(conn, request):
    if request.target.startswith("/slow"):
        never_answer()(conn, request)
    else:
        respond(200, RESPONSE_BODY, [("X-Upstream", "yes")])(conn, request)


def logged_config(backend_port: int, access_log: list[dict]) -> str:
    routes = [route_to("backend", prefix="/slow", timeout="0.3s"),
              route_to("dead", prefix="/dead"),
              dict(route_to("backend", prefix="/"), name="main")]
    return bootstrap(
        [http_listener([virtual_host(routes, domains=["test", "logged.example"])],
                       http_filters=[HEALTH_CHECK_FILTER, ROUTER_FILTER],
                       access_log=access_log)],
        [static_cluster("backend", backend_port), static_cluster("dead", free_port())])


@pytest.fixture
def backend(upstream):
    return upstream(backend_handler)


def test_default_format_has_one_exact_line_per_request(remora, backend, tmp_path):
    log = tmp_path / "access.log"
    proxy = remora(logged_config(backend.port, [file_access_log(log)]))
    before = datetime.now(timezone.utc)
    response = http_request(proxy.port, "POST", "/upload?x=1", body=b"hello",
                            headers=[("User-Agent", "telemetry-test/1.0"),
                                     ("X-Forwarded-For", "10.1.2.3")])
    assert response.status == 200
    for path in ("/second", "/third"):
        assert http_request(proxy.port, path=path).status == 200
    lines = lines_after_quiet(log, 3)
    assert len(lines) == 3, lines

    fields = DEFAULT_LINE.match(lines[0])
    assert fields, lines[0]
    seen = backend.requests[0]
    assert fields.groupdict() | {"start": "", "duration": ""} == {
        "start": "", "duration": "",
        "method": "POST", "path": "/upload?x=1", "protocol": "HTTP/1.1",
        "status": "200", "flags": "-",
        "bytes_received": "5", "bytes_sent": str(len(RESPONSE_BODY)),
        "service_time": response.header("x-envoy-upstream-service-time"),
        "xff": seen.header("x-forwarded-for"),
        "user_agent": "telemetry-test/1.0",
        "request_id": seen.header("x-request-id"),
        "authority": "test",
        "upstream_host": f"127.0.0.1:{backend.port}",
    }
    assert UUID4.match(fields["request_id"])
    assert fields["service_time"].isdigit()
    start = datetime.strptime(fields["start"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc)
    assert abs((start - before).total_seconds()) < 5
    assert int(fields["duration"]) < 5000
    assert [DEFAULT_LINE.match(line)["path"] for line in lines] == ["/upload?x=1", "/second",
                                                                   "/third"]


def test_custom_text_format_source(remora, backend, tmp_path):
    log = tmp_path / "custom.log"
    template = ("method=%REQ(:METHOD)% code=%RESPONSE_CODE% cluster=%UPSTREAM_CLUSTER% "
                "route=%ROUTE_NAME% alt=%REQ(X-FIRST?X-SECOND)% cut=%REQ(X-LONG):4% "
                "resp=%RESP(X-UPSTREAM)% status=%RESP(:STATUS)% details=%RESPONSE_CODE_DETAILS% "
                "client=%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% missing=%REQ(X-ABSENT)%\n")
    proxy = remora(logged_config(backend.port, [file_access_log(
        log, {"text_format_source": {"inline_string": template}})]))
    assert http_request(proxy.port, "PUT", "/x", body=b"",
                        headers=[("X-Second", "fallback"), ("X-Long", "abcdefgh")]).status == 200
    assert wait_for_lines(log, 1) == [
        "method=PUT code=200 cluster=backend route=main alt=fallback cut=abcd resp=yes "
        "status=200 details=via_upstream client=127.0.0.1 missing=-"]


def test_text_format_source_from_a_file(remora, backend, tmp_path):
    log = tmp_path / "from-file.log"
    template_file = tmp_path / "format.txt"
    template_file.write_text("[%REQ(:AUTHORITY)%] %REQ(:PATH)% -> %UPSTREAM_HOST%\n")
    proxy = remora(logged_config(backend.port, [file_access_log(
        log, {"text_format_source": {"filename": str(template_file)}})]))
    assert http_request(proxy.port, path="/f", host="logged.example").status == 200
    assert wait_for_lines(log, 1) == [f"[logged.example] /f -> 127.0.0.1:{backend.port}"]


def test_json_format_is_one_object_per_line_with_exact_keys(remora, backend, tmp_path):
    log = tmp_path / "json.log"
    json_format = {
        "method": "%REQ(:METHOD)%",
        "path": "%REQ(:PATH)%",
        "status": "%RESPONSE_CODE%",
        "flags": "%RESPONSE_FLAGS%",
        "bytes_sent": "%BYTES_SENT%",
        "upstream": "%UPSTREAM_HOST%",
        "absent": "%REQ(X-ABSENT)%",
        "text": "id=%REQ(X-TRACE)% done",
        "nested": {"cluster": "%UPSTREAM_CLUSTER%", "received": "%BYTES_RECEIVED%"},
    }
    proxy = remora(logged_config(backend.port,
                                 [file_access_log(log, {"json_format": json_format})]))
    assert http_request(proxy.port, "POST", "/j", body=b"abc",
                        headers=[("X-Trace", 'a"b')]).status == 200
    assert http_request(proxy.port, path="/dead").status == 503
    lines = wait_for_lines(log, 2)
    entries = [json.loads(line) for line in lines]
    assert [list(entry) for entry in entries] == [list(json_format)] * 2  # configured order
    assert entries[0] == {
        "method": "POST", "path": "/j", "status": 200, "flags": "-",
        "bytes_sent": len(RESPONSE_BODY), "upstream": f"127.0.0.1:{backend.port}",
        "absent": None, "text": 'id=a"b done',
        "nested": {"cluster": "backend", "received": 3},
    }
    assert (entries[1]["status"], entries[1]["flags"], entries[1]["nested"]["cluster"]) == \
        (503, "UF", "dead")


def test_status_code_filter_ge_500_logs_only_errors(remora, backend, tmp_path):
    log = tmp_path / "errors.log"
    errors_only = {"status_code_filter": {"comparison": {
        "op": "GE", "value": {"default_value": 500, "runtime_key": "access_log.min_status"}}}}
    proxy = remora(logged_config(backend.port, [file_access_log(log, PATH_STATUS_FLAGS,
                                                                errors_only)]))
    for path, status in (("/ok", 200), ("/dead", 503), ("/healthz", 200), ("/slow", 504),
                         ("/ok2", 200)):
        assert http_request(proxy.port, path=path).status == status
    assert lines_after_quiet(log, 2) == ["/dead 503 UF", "/slow 504 UT"]


def test_not_health_check_filter_skips_health_checks(remora, backend, tmp_path):
    log = tmp_path / "no-hc.log"
    proxy = remora(logged_config(backend.port, [file_access_log(
        log, PATH_STATUS_FLAGS, {"not_health_check_filter": {}})]))
    for path in ("/healthz", "/app", "/healthz", "/app2"):
        assert http_request(proxy.port, path=path).status == 200
    assert lines_after_quiet(log, 2) == ["/app 200 -", "/app2 200 -"]


def test_response_flags_uf_nr_ut(remora, backend, tmp_path):
    log = tmp_path / "flags.log"
    routes = [route_to("backend", prefix="/slow", timeout="0.3s"),
              route_to("dead", prefix="/dead"), route_to("backend", prefix="/app")]
    config = bootstrap([http_listener([virtual_host(routes)],
                                      access_log=[file_access_log(log, PATH_STATUS_FLAGS)])],
                       [static_cluster("backend", backend.port),
                        static_cluster("dead", free_port())])
    proxy = remora(config)
    for path, status in (("/dead", 503), ("/nowhere", 404), ("/slow", 504), ("/app", 200)):
        assert http_request(proxy.port, path=path).status == status
    assert wait_for_lines(log, 4) == ["/dead 503 UF", "/nowhere 404 NR", "/slow 504 UT",
                                      "/app 200 -"]


def test_request_rejected_by_the_codec_is_logged_with_dpe(remora, backend, tmp_path):
    log = tmp_path / "rejected.log"
    proxy = remora(logged_config(backend.port, [file_access_log(log)]))
    raw, closed = exchange(proxy.port, MALFORMED_REQUEST)
    assert closed and raw.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    body = raw.split(b"\r\n\r\n", 1)[1]
    lines = wait_for_lines(log, 1)
    assert len(lines) == 1, lines
    fields = DEFAULT_LINE.match(lines[0])
    assert fields, lines[0]
    assert fields.groupdict() | {"start": "", "duration": ""} == {
        "start": "", "duration": "",
        "method": "-", "path": "-", "protocol": "HTTP/1.1", "status": "400", "flags": "DPE",
        "bytes_received": "0", "bytes_sent": str(len(body)), "service_time": "-",
        "xff": "-", "user_agent": "-", "request_id": "-", "authority": "-",
        "upstream_host": "-"}
    assert backend.requests == []


def test_tcp_proxy_session_is_logged(remora, echo_server, tmp_path):
    log = tmp_path / "tcp.log"
    echo = echo_server(final=b"BYE")
    template = ("%UPSTREAM_CLUSTER% %UPSTREAM_HOST% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% "
                "rx=%BYTES_RECEIVED% tx=%BYTES_SENT% protocol=%PROTOCOL% flags=%RESPONSE_FLAGS%\n")
    config = bootstrap(
        [tcp_listener("echo", access_log=[file_access_log(log, {"text_format": template})])],
        [static_cluster("echo", echo.port)])
    proxy = remora(config)
    with socket.create_connection((LOOPBACK, proxy.port), timeout=5) as sock:
        sock.sendall(b"hello")
        reader = SocketReader(sock)
        assert reader.read_exact(5, time.monotonic() + 5) == b"hello"
        sock.shutdown(socket.SHUT_WR)
        assert reader.read_to_eof(time.monotonic() + 5) == b"BYE"
    assert wait_for_lines(log, 1) == [
        f"echo 127.0.0.1:{echo.port} 127.0.0.1 rx=5 tx=8 protocol=- flags=-"]


def reopen_after_rename(proxy, log: Path, rotated: Path, reopen, first_path: str,
                        second_path: str) -> None:
    """Renames the log (as logrotate does), logs one request that still goes to the
    renamed file, asks for a reopen, and logs one that goes to the new file."""
    lines_before = len(read_lines(log))
    log.rename(rotated)
    assert http_request(proxy.port, path=first_path).status == 200
    assert wait_for_lines(rotated, lines_before + 1)[lines_before:] == [f"{first_path} 200 -"]
    reopen()
    assert wait_until(log.exists, SETTLE_TIMEOUT_S), "the log file was not created again"
    assert http_request(proxy.port, path=second_path).status == 200
    assert wait_for_lines(log, 1) == [f"{second_path} 200 -"]


def test_sigusr1_and_reopen_logs_reopen_the_file(remora, backend, tmp_path):
    log = tmp_path / "rotated.log"
    proxy = remora(logged_config(backend.port, [file_access_log(log, PATH_STATUS_FLAGS)]))
    assert http_request(proxy.port, path="/before").status == 200
    assert wait_for_lines(log, 1) == ["/before 200 -"]

    # SIGUSR1 straight to the process: the harness's send_signal is for shutdown.
    reopen_after_rename(proxy, log, tmp_path / "rotated.log.1",
                        lambda: proxy.process.send_signal(signal.SIGUSR1),
                        "/after-rename", "/after-sigusr1")
    assert lines_after_quiet(tmp_path / "rotated.log.1", 2) == ["/before 200 -",
                                                              "/after-rename 200 -"]

    second_rotation = tmp_path / "rotated.log.2"

    def post_reopen():
        refused = proxy.admin("GET", "/reopen_logs")
        assert (refused.status, refused.body) == (405, b"This endpoint requires POST.\n")
        assert http_request(proxy.port, path="/after-get").status == 200
        assert wait_for_lines(second_rotation, 3)[2:] == ["/after-get 200 -"]
        assert not log.exists()  # the GET reopened nothing
        response = proxy.admin("POST", "/reopen_logs")
        assert (response.status, response.body) == (200, b"OK\n")
    reopen_after_rename(proxy, log, second_rotation, post_reopen, "/after-rename-2", "/after-post")
    assert lines_after_quiet(second_rotation, 3) == ["/after-sigusr1 200 -",
                                                     "/after-rename-2 200 -", "/after-get 200 -"]
    assert read_lines(log) == ["/after-post 200 -"]


def test_stdout_logger_writes_to_remoras_stdout(remora, backend):
    config = logged_config(backend.port, [stdout_access_log(
        {"text_format_source": {"inline_string": "STDOUT %REQ(:PATH)% %RESPONSE_CODE%\n"}})])
    proxy = start_capturing_stdout(remora, config)
    for path in ("/one", "/two"):
        assert http_request(proxy.port, path=path).status == 200
    assert lines_after_quiet(proxy.stdout_path, 2) == ["STDOUT /one 200", "STDOUT /two 200"]
