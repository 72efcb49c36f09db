"""End-to-end fixtures: the real server in a subprocess, and Debian's chromium through Playwright."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.conftest import require_service

CHROMIUM = os.environ.get("CLOSEDLOOP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]


def closedloop(*args: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess[str]:
    """Run the installed `closedloop` command (the same executable users run)."""
    exe = Path(sys.executable).with_name("closedloop")
    return subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, timeout=600, **kwargs)


def start_server(env: dict[str, str], *args: str) -> LiveServer:
    port = free_port()
    exe = Path(sys.executable).with_name("closedloop")
    log = open(Path(env["CLOSEDLOOP_TEST_DIR"]) / f"server-{port}.log", "wb")  # noqa: SIM115 - lives with the server
    process = subprocess.Popen([str(exe), *args, "--port", str(port)], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; see {log.name}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return LiveServer(url, env, process)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not answer /healthz within 60 s")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="module")
def server_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for a fresh SQLite store with a real secret key."""
    directory = tmp_path_factory.mktemp("e2e")
    env = dict(os.environ)
    env.update(
        CLOSEDLOOP_DATABASE_URL=f"sqlite:///{directory}/e2e.db",
        CLOSEDLOOP_SECRET_KEY=secrets.token_urlsafe(48),
        CLOSEDLOOP_TEST_DIR=str(directory),
    )
    result = closedloop("init", env=env)
    assert result.returncode == 0, result.stderr
    return env


@pytest.fixture(scope="module")
def live_server(server_env: dict[str, str]) -> Iterator[LiveServer]:
    server = start_server(server_env, "serve")
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's chromium driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        require_service(f"chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = errors
    yield page
    context.close()
