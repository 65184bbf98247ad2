"""Malformed requests: an exact status line, a closed connection, nothing upstream.

Where a request could be smuggled, a valid second request follows the malformed
one in the same packet; the upstream must never see it.
"""

from __future__ import annotations

import pytest

from harness import HttpClient, exchange, http_request, proxy_config

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: test\r\n\r\n"
MAX_HEADERS_KB = 4
MAX_HEADERS_COUNT = 20


@pytest.fixture(scope="module")
def proxy(module_remora, module_upstream):
    backend = module_upstream()
    instance = module_remora(proxy_config(
        backend.port, max_request_headers_kb=MAX_HEADERS_KB,
        common_http_protocol_options={"max_headers_count": MAX_HEADERS_COUNT}))
    return instance, backend


@pytest.fixture
def port(proxy):
    instance, backend = proxy
    backend.reset()
    yield instance.port
    # Whatever was sent, the proxy still serves the next client.
    assert instance.running()
    assert http_request(instance.port, path="/after").status == 200


@pytest.fixture
def backend(proxy):
    return proxy[1]


def assert_rejected(port: int, data: bytes, status_line: bytes, backend) -> None:
    backend.reset()
    raw, closed = exchange(port, data, timeout=5)
    assert raw.split(b"\r\n", 1)[0] == status_line, raw[:300]
    assert closed, "the proxy must close the connection after a rejected request"
    assert backend.requests == []
    assert b"/smuggled" not in backend.raw_bytes()


def test_header_block_over_max_request_headers_kb_is_431(port, backend):
    request = (b"GET / HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * (MAX_HEADERS_KB * 1024) +
               b"\r\n\r\n")
    assert_rejected(port, request, b"HTTP/1.1 431 Request Header Fields Too Large", backend)


def test_header_block_just_under_the_limit_is_accepted(port, backend):
    # The 431 above is about the limit, not about any long header.
    filler = MAX_HEADERS_KB * 1024 - 200
    response = http_request(port, headers=[("X-Big", "a" * filler)])
    assert response.status == 200
    assert backend.requests[0].header("x-big") == "a" * filler


def test_more_headers_than_max_headers_count_is_431(port, backend):
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(MAX_HEADERS_COUNT + 5))
    request = b"GET / HTTP/1.1\r\nHost: test\r\n" + headers + b"\r\n"
    assert_rejected(port, request, b"HTTP/1.1 431 Request Header Fields Too Large", backend)


def test_malformed_request_line_is_400(port, backend):
    assert_rejected(port, b"GET /a b HTTP/1.1\r\nHost: test\r\n\r\n" + SMUGGLED,
                    b"HTTP/1.1 400 Bad Request", backend)


def test_request_line_without_version_is_400(port, backend):
    assert_rejected(port, b"GET /\r\nHost: test\r\n\r\n" + SMUGGLED,
                    b"HTTP/1.1 400 Bad Request", backend)


def test_header_name_with_space_is_400(port, backend):
    assert_rejected(port, b"GET / HTTP/1.1\r\nHost: test\r\nBad Name: v\r\n\r\n" + SMUGGLED,
                    b"HTTP/1.1 400 Bad Request", backend)


def test_empty_header_name_is_400(port, backend):
    assert_rejected(port, b"GET / HTTP/1.1\r\nHost: test\r\n: v\r\n\r\n" + SMUGGLED,
                    b"HTTP/1.1 400 Bad Request", backend)


def test_obs_fold_is_400(port, backend):
    assert_rejected(port, b"GET / HTTP/1.1\r\nHost: test\r\nX-A: a\r\n b\r\n\r\n" + SMUGGLED,
                    b"HTTP/1.1 400 Bad Request", backend)


def test_bare_lf_is_400(port, backend):
    assert_rejected(port, b"GET / HTTP/1.1\nHost: test\n\n" + SMUGGLED,
                    b"HTTP/1.1 400 Bad Request", backend)


def test_content_length_with_transfer_encoding_is_400(port, backend):
    request = (b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 6\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED)
    assert_rejected(port, request, b"HTTP/1.1 400 Bad Request", backend)


def test_two_different_content_lengths_are_400(port, backend):
    request = (b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nContent-Length: 44\r\n"
               b"\r\nhello" + SMUGGLED)
    assert_rejected(port, request, b"HTTP/1.1 400 Bad Request", backend)


def test_transfer_encoding_not_ending_in_chunked_is_400(port, backend):
    request = (b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip\r\n\r\n" + SMUGGLED)
    assert_rejected(port, request, b"HTTP/1.1 400 Bad Request", backend)


def test_invalid_chunk_size_is_400(port, backend):
    request = (b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"zz\r\nhello\r\n0\r\n\r\n" + SMUGGLED)
    assert_rejected(port, request, b"HTTP/1.1 400 Bad Request", backend)


def test_missing_host_on_http_11_is_400(port, backend):
    assert_rejected(port, b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n" + SMUGGLED,
                    b"HTTP/1.1 400 Bad Request", backend)


def test_overlong_request_target_is_431(port, backend):
    request = b"GET /" + b"a" * (MAX_HEADERS_KB * 1024) + b" HTTP/1.1\r\nHost: test\r\n\r\n"
    assert_rejected(port, request, b"HTTP/1.1 431 Request Header Fields Too Large", backend)


def test_whitespace_before_the_colon_is_400(port, backend):
    assert_rejected(port, b"GET / HTTP/1.1\r\nHost : test\r\n\r\n" + SMUGGLED,
                    b"HTTP/1.1 400 Bad Request", backend)


def test_cr_inside_a_header_value_is_400(port, backend):
    assert_rejected(port, b"GET / HTTP/1.1\r\nHost: test\r\nX-A: a\rb\r\n\r\n" + SMUGGLED,
                    b"HTTP/1.1 400 Bad Request", backend)


def test_two_host_headers_are_400(port, backend):
    assert_rejected(port, b"GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n" + SMUGGLED,
                    b"HTTP/1.1 400 Bad Request", backend)


def test_non_numeric_content_length_is_400(port, backend):
    request = b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 1e3\r\n\r\n" + SMUGGLED
    assert_rejected(port, request, b"HTTP/1.1 400 Bad Request", backend)


def test_overflowing_chunk_size_is_400(port, backend):
    request = (b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"fffffffffffffffffff\r\nhello\r\n0\r\n\r\n" + SMUGGLED)
    assert_rejected(port, request, b"HTTP/1.1 400 Bad Request", backend)


def test_http_2_preface_is_505_when_codec_type_is_http1(remora, upstream):
    backend = upstream()
    instance = remora(proxy_config(backend.port, codec_type="HTTP1"))
    assert_rejected(instance.port, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                    b"HTTP/1.1 505 HTTP Version Not Supported", backend)


def test_http_2_preface_selects_http2_with_codec_type_auto(port, backend):
    # AUTO (the default) answers the preface with the server's SETTINGS frame.
    raw, _ = exchange(port, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", timeout=1)
    assert raw[3:4] == b"\x04", raw[:40]  # frame type 4: SETTINGS
    assert backend.requests == []


def test_unknown_http_version_is_505(port, backend):
    assert_rejected(port, b"GET / HTTP/1.2\r\nHost: test\r\n\r\n" + SMUGGLED,
                    b"HTTP/1.1 505 HTTP Version Not Supported", backend)


def test_valid_pipelined_requests_do_reach_the_upstream(port, backend):
    # The control for the smuggling checks: the same bytes after a valid request arrive.
    with HttpClient(port) as client:
        client.send(b"GET /first HTTP/1.1\r\nHost: test\r\n\r\n" + SMUGGLED)
        statuses = [client.read_response().status for _ in range(2)]
    assert statuses == [200, 200]
    assert [r.target for r in backend.requests] == ["/first", "/smuggled"]
