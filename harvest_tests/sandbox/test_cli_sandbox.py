"""`harvest sandbox serve` as a user runs it: it starts, says how to reach it, and refuses bad flags."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

HARVEST = [sys.executable, "-m", "harvest.cli"]


def test_serve_prints_the_client_environment_and_answers(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*HARVEST, "sandbox", "serve", "--port", "0", "--clock", "frozen@2026-11-01T00:00:00Z", "--seed", "3",
         "--density", "0.2", "--state", str(tmp_path / "state")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        env: dict[str, str] = {}
        deadline = time.monotonic() + 60
        while len(env) < 13 and time.monotonic() < deadline:
            assert process.stdout is not None
            line = process.stdout.readline()
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                env[name] = value
        assert {"ONEATLAS_SEARCH_URL", "ARLULA_URL", "SENTINELHUB_URL", "ONEATLAS_API_KEY"} <= set(env)
        token = httpx.post(
            env["ONEATLAS_AUTH_URL"] + "/auth/realms/IDP/protocol/openid-connect/token",
            data={"apikey": env["ONEATLAS_API_KEY"], "grant_type": "api_key", "client_id": "IDP"},
        )
        assert token.status_code == 200
        info = httpx.get(env["ONEATLAS_SEARCH_URL"].removesuffix("/oneatlas/search") + "/_sandbox/").json()
        assert info["seed"] == 3 and info["clock"]["frozen"] is True
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    assert (tmp_path / "state" / "sandbox.sqlite3").exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--faults", "teapot=1"], "teapot"),
        (["--clock", "frozen@whenever"], "--clock"),
        (["--density", "0"], "density"),
        (["--density", "nan"], "density"),
        (["--port", "99999"], "99999 is not in the range 0<=x<=65535"),
        (["--port", "-1"], "--port"),
    ],
)
def test_bad_flags_exit_non_zero_with_a_reason(flags: list[str], message: str) -> None:
    result = subprocess.run([*HARVEST, "sandbox", "serve", *flags], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and message in result.stderr
