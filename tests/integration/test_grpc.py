"""gRPC through the sidecar with Debian's python3-grpcio on both sides: h2c from the
client to Remora, HTTP/2 from Remora to the server. Methods are generic (bytes in,
bytes out), so no generated code is needed."""

import json
import re
from concurrent import futures

import grpc
import pytest

from harness import bootstrap, free_port, http_listener, route_to, virtual_host

SERVICE = "remora.test.Echo"


def _unary(request, context):
    return b"echo:" + request


def _server_stream(request, context):
    for i in range(int(request.decode())):
        yield f"part-{i}".encode()


def _client_stream(requests, context):
    return b"|".join(requests)


def _fails(request, context):
    context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")


def _unavailable(request, context):
    context.abort(grpc.StatusCode.UNAVAILABLE, "try later")


@pytest.fixture
def grpc_server():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(_unary),
        "ServerStream": grpc.unary_stream_rpc_method_handler(_server_stream),
        "ClientStream": grpc.stream_unary_rpc_method_handler(_client_stream),
        "Fails": grpc.unary_unary_rpc_method_handler(_fails),
        "Unavailable": grpc.unary_unary_rpc_method_handler(_unavailable),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    port = server.add_insecure_port(f"127.0.0.1:{free_port()}")
    server.start()
    yield port
    server.stop(grace=None)


def grpc_cluster(port):
    return {"name": "grpc", "type": "STATIC", "connect_timeout": "1s",
            "typed_extension_protocol_options": {
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                    "explicit_http_config": {"http2_protocol_options": {}}}},
            "load_assignment": {"cluster_name": "grpc", "endpoints": [{"lb_endpoints": [
                {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1",
                                                             "port_value": port}}}}]}]}}


@pytest.fixture
def proxy(remora, grpc_server, tmp_path):
    log = tmp_path / "access.log"
    access_log = [{"name": "envoy.access_loggers.file", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
        "path": str(log),
        "log_format": {"text_format_source": {"inline_string":
                                              "%REQ(:PATH)% %RESPONSE_CODE% %GRPC_STATUS% %GRPC_STATUS_NUMBER%\n"}}}}]
    listener = http_listener([virtual_host([route_to("grpc")])], access_log=access_log)
    instance = remora(bootstrap([listener], [grpc_cluster(grpc_server)]))
    instance.access_log = log
    return instance


def call(proxy, method, kind="unary_unary"):
    channel = grpc.insecure_channel(f"127.0.0.1:{proxy.port}")
    return channel, getattr(channel, kind)(f"/{SERVICE}/{method}")


def stat(remora, name):
    body = remora.admin("GET", "/stats?format=json&filter=" + re.escape(name) + "$").text
    values = [s["value"] for s in json.loads(body)["stats"] if s.get("name") == name]
    return values[0] if values else 0


def test_unary_call(proxy):
    channel, method = call(proxy, "Unary")
    with channel:
        assert method(b"hi", timeout=5) == b"echo:hi"


def test_server_streaming_call(proxy):
    channel, method = call(proxy, "ServerStream", "unary_stream")
    with channel:
        assert list(method(b"5", timeout=5)) == [f"part-{i}".encode() for i in range(5)]


def test_client_streaming_call(proxy):
    channel, method = call(proxy, "ClientStream", "stream_unary")
    with channel:
        assert method(iter([b"a", b"b", b"c"]), timeout=5) == b"a|b|c"


def test_non_ok_status_passes_through_and_counts_as_error(proxy):
    channel, method = call(proxy, "Fails")
    with channel:
        with pytest.raises(grpc.RpcError) as failure:
            method(b"x", timeout=5)
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    assert failure.value.details() == "no such thing"
    # HTTP 200 on the wire, but the stats see the gRPC outcome (NOT_FOUND -> 404).
    assert stat(proxy, "cluster.grpc.upstream_rq_404") == 1
    assert stat(proxy, "cluster.grpc.upstream_rq_200") == 0


def test_unavailable_is_a_5xx_for_success_rate(proxy):
    channel, method = call(proxy, "Unavailable")
    with channel:
        with pytest.raises(grpc.RpcError) as failure:
            method(b"x", timeout=5)
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
    assert stat(proxy, "cluster.grpc.upstream_rq_503") == 1
    assert stat(proxy, "cluster.grpc.upstream_rq_5xx") == 1


def test_access_log_has_grpc_status(proxy):
    from harness import wait_until
    channel, ok = call(proxy, "Unary")
    _, fails = call(proxy, "Fails")
    with channel:
        ok(b"x", timeout=5)
        with pytest.raises(grpc.RpcError):
            fails(b"x", timeout=5)
    assert wait_until(lambda: proxy.access_log.exists() and
                      len(proxy.access_log.read_text().splitlines()) == 2, timeout=5)
    assert proxy.access_log.read_text().splitlines() == [
        f"/{SERVICE}/Unary 200 OK 0",
        f"/{SERVICE}/Fails 200 NotFound 5",
    ]
