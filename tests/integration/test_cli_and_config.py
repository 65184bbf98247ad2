"""Command line and config loading of the real binary."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from harness import LOOPBACK, REPO_ROOT, free_port, proxy_config, run_remora

EXAMPLES = sorted((REPO_ROOT / "config" / "examples").glob("*.yaml"))

# Line 16, column 5 is `bogus_field`; line 12, column 20 is `missing`.
BAD_CONFIG = """\
static_resources:
  listeners:
  - name: tcp
    address:
      socket_address: { address: 127.0.0.1, port_value: $listener_port }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp
          cluster: $cluster
  clusters:
  - name: known
    connect_timeout: 1s
    $extra_field
"""


def bad_config(tmp_path: Path, cluster: str = "known", extra_field: str = "") -> tuple[Path, int]:
    port = free_port()
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_CONFIG.replace("$listener_port", str(port))
                    .replace("$cluster", cluster).replace("$extra_field", extra_field))
    return path, port


def nothing_listens(port: int) -> bool:
    try:
        socket.create_connection((LOOPBACK, port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True


def test_version_exits_0():
    result = run_remora("--version")
    assert (result.returncode, result.stdout.startswith("remora version: ")) == (0, True)


def test_help_exits_0_with_usage():
    result = run_remora("--help")
    assert (result.returncode, result.stdout.startswith("Usage: remora")) == (0, True)


def test_unknown_flag_exits_1():
    result = run_remora("--no-such-flag")
    assert result.returncode == 1
    assert result.stderr.startswith("remora: unknown option '--no-such-flag'")


def test_missing_config_exits_1():
    result = run_remora("--concurrency", "1")
    assert (result.returncode, "no configuration" in result.stderr) == (1, True)


def test_the_examples_are_there():
    assert [p.name for p in EXAMPLES] == ["demo.yaml", "sidecar.yaml", "tcp_proxy.yaml"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_validate_accepts_each_example(example):
    result = run_remora("--mode", "validate", "-c", str(example))
    assert (result.returncode, result.stdout) == (0, f"configuration '{example}' OK\n")


def test_validate_reports_an_unknown_field_with_its_location(tmp_path):
    path, _ = bad_config(tmp_path, extra_field="bogus_field: 3")
    result = run_remora("--mode", "validate", "-c", str(path))
    assert result.returncode == 1
    assert result.stderr == (f"{path}:16:5: static_resources.clusters[0].bogus_field: "
                             "unknown field 'bogus_field'\n")


def test_validate_reports_an_undefined_cluster_with_its_location(tmp_path):
    path, _ = bad_config(tmp_path, cluster="missing")
    result = run_remora("--mode", "validate", "-c", str(path))
    assert result.returncode == 1
    assert result.stderr == (f"{path}:12:20: static_resources.listeners[0].filter_chains[0]"
                             ".filters[0].typed_config.cluster: unknown cluster 'missing'\n")


@pytest.mark.parametrize("defect", [{"extra_field": "bogus_field: 3"}, {"cluster": "missing"}],
                         ids=["unknown-field", "undefined-cluster"])
def test_serve_mode_with_a_bad_config_exits_1_and_listens_nowhere(tmp_path, defect):
    path, port = bad_config(tmp_path, **defect)
    result = run_remora("-c", str(path), "--concurrency", "1")
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}:")
    assert nothing_listens(port)


def test_the_good_variant_of_the_bad_config_validates(tmp_path):
    # The control for the two tests above: the template itself is fine.
    path, _ = bad_config(tmp_path)
    assert run_remora("--mode", "validate", "-c", str(path)).returncode == 0


def test_concurrency_3_runs_3_workers(remora):
    proxy = remora(proxy_config(free_port()), concurrency=3)
    info = json.loads(proxy.admin("GET", "/server_info").body)
    assert info["command_line_options"]["concurrency"] == 3
    assert "starting main dispatch loop with 3 worker(s)" in proxy.stderr()


def test_admin_port_in_use_exits_1_cleanly(tmp_path):
    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen(1)
        config = tmp_path / "admin-taken.yaml"
        config.write_text(proxy_config(free_port()).replace(
            "$admin_port", str(taken.getsockname()[1])))
        result = run_remora("-c", str(config), "--concurrency", "1")
    assert result.returncode == 1
    assert "cannot listen on admin address 127.0.0.1:" in result.stderr


def test_listener_port_in_use_exits_1_cleanly(tmp_path):
    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen(1)
        config = tmp_path / "listener-taken.yaml"
        config.write_text(proxy_config(free_port())
                          .replace('"port_value": 0', f'"port_value": {taken.getsockname()[1]}')
                          .replace("$admin_port", str(free_port())))
        result = run_remora("-c", str(config), "--concurrency", "1")
    assert result.returncode == 1
    assert "cannot bind listener 'http' to 127.0.0.1:" in result.stderr
