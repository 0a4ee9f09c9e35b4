"""How fast the sandbox serves OneAtlas search pages of 500 features (goal: >= 50,000 features/s).

The sandbox runs alone on one core; on the other core, two lean client connections walk halves of
the catalog by lastUpdateDate windows, the way a harvest does, so every feature is rendered once
(cold) and the server always has the next request waiting while a client reads the previous page.
The baseline, measured in the same run the same way, is the same HTTP stack (uvicorn + uvloop +
httptools) serving one pre-rendered page of the same size from memory: moving the bytes, nothing else.
"""

from __future__ import annotations

import http.client
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.processes import CLIENT_CORE, pin_to, python_process, sandbox_process

PAGE = 500
CLOCK = "frozen@2026-11-01T00:00:00Z"

_STATIC_SERVER = """
import socket, sys, uvicorn
body = open(sys.argv[1] if len(sys.argv) > 1 else {page!r}, "rb").read()
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({{"type": "http.response.start", "status": 200,
                 "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}})
    await send({{"type": "http.response.body", "body": body}})
sock = socket.socket(); sock.bind(("127.0.0.1", 0)); sock.listen(128)
print(f"http://127.0.0.1:{{sock.getsockname()[1]}}", flush=True)
config = uvicorn.Config(app, loop="uvloop", http="httptools", log_level="error", lifespan="off", access_log=False)
uvicorn.Server(config).run(sockets=[sock])
"""


@dataclass
class Walk:
    features: int
    pages: int
    bytes: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.features / self.seconds


def _post(conn: http.client.HTTPConnection, path: str, body: dict, token: str) -> bytes:
    conn.request(
        "POST",
        path,
        body=json.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"{path} answered {response.status}: {data[:200]!r}")
    return data


def walk_catalog(
    env: dict[str, str], limit: int, since: str = "2018-01-01T00:00:00Z", until: str = ""
) -> tuple[Walk, bytes]:
    """Page through lastUpdateDate windows (ascending, from `since`) until `limit` features or `until`."""
    auth = urlsplit(env["ONEATLAS_AUTH_URL"])
    conn = http.client.HTTPConnection(auth.hostname or "127.0.0.1", auth.port)
    conn.request(
        "POST",
        auth.path + "/auth/realms/IDP/protocol/openid-connect/token",
        body=f"apikey={env['ONEATLAS_API_KEY']}&grant_type=api_key&client_id=IDP",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    token = json.loads(conn.getresponse().read())["access_token"]
    search = urlsplit(env["ONEATLAS_SEARCH_URL"]).path + "/api/v2/opensearch"
    cursor, seen, pages, size, sample = since, 0, 0, 0, b""
    started = time.perf_counter()
    while seen < limit:
        last = None
        for page in range(1, 10_000 // PAGE + 1):
            query = {
                "itemsPerPage": PAGE,
                "startPage": page,
                "sortBy": "lastUpdateDate",
                "lastUpdateDate": f"]{cursor},",
            }
            body = _post(conn, search, query, token)
            count = body.count(b'"type":"Feature"')
            pages, size, seen = pages + 1, size + len(body), seen + count
            sample = sample or body
            if count < PAGE or page == 10_000 // PAGE:
                features = json.loads(body)["features"]  # only the window's last page is parsed
                last = features[-1]["properties"]["lastUpdateDate"] if features else last
                break
        if last is None or last == cursor:
            break
        cursor = last
    return Walk(seen, pages, size, time.perf_counter() - started), sample


def walk_in_parallel(env: dict[str, str], limit: int) -> tuple[Walk, bytes]:
    """Two connections, each walking half of the catalog's update history, at once."""
    halves = [("2018-01-01T00:00:00Z", "2023-01-01T00:00:00Z"), ("2023-01-01T00:00:00Z", "")]
    with ThreadPoolExecutor(len(halves)) as pool:
        started = time.perf_counter()
        results = list(pool.map(lambda h: walk_catalog(env, limit // len(halves), h[0], h[1]), halves))
        seconds = time.perf_counter() - started
    walks = [w for w, _ in results]
    total = Walk(sum(w.features for w in walks), sum(w.pages for w in walks), sum(w.bytes for w in walks), seconds)
    return total, results[0][1]


def static_baseline(page: bytes, requests: int) -> Walk:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        handle.write(page)
    code = _STATIC_SERVER.format(page=handle.name)
    with python_process(code) as process:
        assert process.stdout is not None
        url = urlsplit(process.stdout.readline().strip())

        def fetch(count: int) -> None:
            conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port)
            for _ in range(count):
                conn.request("POST", "/", body=b"{}", headers={"Content-Type": "application/json"})
                conn.getresponse().read()

        with ThreadPoolExecutor(2) as pool:
            started = time.perf_counter()
            list(pool.map(fetch, [requests // 2, requests - requests // 2]))
            seconds = time.perf_counter() - started
    Path(handle.name).unlink()
    return Walk(requests * PAGE, requests, requests * len(page), seconds)


def run(density: float = 2.0, limit: int = 200_000) -> dict[str, float]:
    pin_to(CLIENT_CORE)
    with (
        tempfile.TemporaryDirectory() as state,
        sandbox_process(Path(state), "--clock", CLOCK, "--density", str(density)) as env,
    ):
        walk, sample = walk_in_parallel(env, limit)
    baseline = static_baseline(sample, walk.pages)
    ratio = walk.rate / baseline.rate
    print("sandbox OneAtlas search, 500-feature pages, cold (every feature rendered once), one core, 2 connections")
    print(f"  sandbox:  {walk.features:>9,} features in {walk.seconds:6.2f} s = {walk.rate:>9,.0f} features/s "
          f"({walk.bytes / walk.seconds / 1e6:,.0f} MB/s, {walk.bytes / walk.features:,.0f} B/feature)")  # fmt: skip
    print(f"  baseline: {baseline.features:>9,} features in {baseline.seconds:6.2f} s = {baseline.rate:>9,.0f} "
          "features/s (same bytes, pre-rendered, same HTTP stack)")  # fmt: skip
    print(f"  ratio sandbox / baseline: {ratio:.2f}   goal: >= 50,000 features/s -> "
          f"{'met' if walk.rate >= 50_000 else 'NOT met'}")  # fmt: skip
    return {"sandbox_features_per_s": walk.rate, "baseline_features_per_s": baseline.rate, "ratio": ratio}
