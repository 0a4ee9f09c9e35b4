"""Starting the sandbox (and other servers) in their own pinned processes for fair measurements."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

SERVER_CORE = 0
CLIENT_CORE = 1


def pin_to(core: int) -> None:
    """Run the calling process on one core (ignored where the machine has only one)."""
    with contextlib.suppress(AttributeError, OSError):
        if (os.cpu_count() or 1) > core:
            os.sched_setaffinity(0, {core})


@contextlib.contextmanager
def sandbox_process(state_dir: Path, *extra: str) -> Iterator[dict[str, str]]:
    """`harvest sandbox serve` on a free port, pinned to SERVER_CORE; yields the client environment."""
    command = [
        sys.executable,
        "-m",
        "harvest.cli",
        "sandbox",
        "serve",
        "--port",
        "0",
        "--state",
        str(state_dir),
        *extra,
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=lambda: pin_to(SERVER_CORE),
    )
    try:
        env: dict[str, str] = {}
        deadline = time.monotonic() + 300
        while "SENTINELHUB_AUTH_URL" not in env:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                raise RuntimeError(f"the sandbox exited with code {process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError("the sandbox did not start within 5 minutes")
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                env[name] = value
        yield env
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def python_process(code: str) -> Iterator[subprocess.Popen[str]]:
    """Any Python server program pinned to SERVER_CORE; it must print its URL on the first line."""
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: pin_to(SERVER_CORE),
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)
