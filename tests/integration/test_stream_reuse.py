"""A worker reuses finished HTTP/1 streams, with their filters, timers and header storage,
for later requests: nothing of one request may show in the next, on the same keep-alive
connection or on another one."""

from __future__ import annotations

from harness import (ROUTER_FILTER, HttpClient, bootstrap, build_request, delayed,
                     http_listener, never_answer, respond, route_to, static_cluster,
                     virtual_host)
from telemetry_support import HEALTH_CHECK_FILTER, file_access_log, wait_for_lines

LOG_FORMAT = {"text_format_source": {"inline_string": (
    "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %ROUTE_NAME% %UPSTREAM_CLUSTER% "
    "%RESPONSE_CODE_DETAILS%\n")}}


def backend_handler(conn, request):
    if request.target.startswith("/stall"):
        never_answer()(conn, request)
    elif request.target.startswith("/late"):
        delayed(0.6, respond(200, b"late"))(conn, request)
    else:
        respond(200, b"ok " + request.target.encode())(conn, request)


def reuse_config(backend_port: int, log_path) -> str:
    routes = [dict(route_to("backend", prefix="/stall", timeout="0.3s"), name="stall"),
              dict(route_to("backend", prefix="/late", timeout="0s"), name="late"),
              dict(route_to("backend", prefix="/old/", prefix_rewrite="/new/"), name="rewrite"),
              {"name": "direct", "match": {"prefix": "/direct"},
               "direct_response": {"status": 403, "body": {"inline_string": "no\n"}}},
              dict(route_to("backend", prefix="/"), name="main")]
    return bootstrap(
        [http_listener([virtual_host(routes)], http_filters=[HEALTH_CHECK_FILTER, ROUTER_FILTER],
                       access_log=[file_access_log(log_path, LOG_FORMAT)])],
        [static_cluster("backend", backend_port)])


def test_requests_on_reused_streams_do_not_inherit_state(remora, upstream, tmp_path):
    backend = upstream(backend_handler)
    log = tmp_path / "access.log"
    proxy = remora(reuse_config(backend.port, log))
    paths = ["/stall", "/late", "/old/x", "/plain", "/direct", "/plain2"]
    with HttpClient(proxy.port) as client:
        responses = []
        for path in paths:
            client.send(build_request("GET", path))
            responses.append(client.read_response())
    # Another connection gets one of the streams the first one used.
    with HttpClient(proxy.port) as client:
        client.send(build_request("GET", "/again"))
        responses.append(client.read_response())

    assert [r.status for r in responses] == [504, 200, 200, 200, 403, 200, 200]
    assert [r.body for r in responses[1:]] == [b"late", b"ok /new/x", b"ok /plain", b"no\n",
                                               b"ok /plain2", b"ok /again"]
    # The 0.3 s deadline of /stall did not carry over to /late (0.6 s, no timeout).
    assert [r.header("x-envoy-upstream-service-time") is None for r in responses] == [
        True, False, False, False, True, False, False]
    seen = {r.target: r for r in backend.requests}
    assert seen["/new/x"].header("x-envoy-original-path") == "/old/x"
    assert not seen["/plain"].has("x-envoy-original-path")
    assert not seen["/again"].has("x-envoy-original-path")
    assert wait_for_lines(log, 7) == [
        "/stall 504 UT stall backend upstream_response_timeout",
        "/late 200 - late backend via_upstream",
        "/new/x 200 - rewrite backend via_upstream",  # %REQ(:PATH)% after the rewrite
        "/plain 200 - main backend via_upstream",
        "/direct 403 - direct - direct_response",
        "/plain2 200 - main backend via_upstream",
        "/again 200 - main backend via_upstream",
    ]
