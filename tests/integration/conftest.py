"""pytest fixtures: factories whose products are stopped (and checked) after each test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import EchoServer, Nginx, Remora, UpstreamServer  # noqa: E402


class RemoraFactory:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.instances: list[Remora] = []

    def __call__(self, config: str, **options) -> Remora:
        instance = Remora(config, self.workdir, **options)
        self.instances.append(instance)
        return instance.start()

    def finish(self) -> None:
        problems = [p for r in self.instances for p in r.check_exit()]
        assert not problems, "\n".join(problems)


def _remora_factory(workdir: Path):
    factory = RemoraFactory(workdir)
    yield factory
    factory.finish()


@pytest.fixture
def remora(tmp_path):
    """remora(config, concurrency=1, drain_time_s=1, args=()) -> a started Remora.

    After the test each instance gets SIGTERM and must exit 0 without a sanitizer report.
    """
    yield from _remora_factory(tmp_path)


@pytest.fixture(scope="module")
def module_remora(tmp_path_factory):
    yield from _remora_factory(tmp_path_factory.mktemp("remora"))


def _server_factory(kind):
    servers = []

    def make(*args, **kwargs):
        server = kind(*args, **kwargs)
        servers.append(server)
        return server
    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def upstream():
    """upstream(handler=None, close_after_responses=0, close_idle_after=0.0) -> UpstreamServer."""
    yield from _server_factory(UpstreamServer)


@pytest.fixture(scope="module")
def module_upstream():
    yield from _server_factory(UpstreamServer)


@pytest.fixture
def echo_server():
    """echo_server(final=b"") -> EchoServer."""
    yield from _server_factory(EchoServer)


@pytest.fixture
def nginx(tmp_path):
    """nginx(files: dict[str, bytes]) -> a started Nginx."""
    started = []

    def make(files):
        server = Nginx(tmp_path, files).start()
        started.append(server)
        return server
    yield make
    for server in started:
        server.stop()
