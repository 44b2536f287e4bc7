"""Section 8, abuse limits, side by side in one run on one stack with its default limits: (a) a real
visitor's web-chat latency on a quiet stack, then while 200 clients flood web chat from another
address; (b) the app's memory while 10 clients post 200 MB chunked bodies at once.

Addresses: the visitor posts from 127.0.0.1, the flood from 127.0.0.2 (both loopback: Linux routes
all of 127.0.0.0/8 to this machine). The flood runs in its own process, so its client work does not
sit in the visitor's event loop.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.common import free_port, say
from bench.memory import MIB, PeakRss, tree_rss
from bench.stackrun import started
from bot.settings import ROOT, Settings
from tests.support.webchat import new_session

HEADING = "## 8. Abuse limits: a visitor during a flood, memory under huge chunked posts"
COMMAND = "OMP_NUM_THREADS=1 .venv/bin/python -m bench security"
VISITOR_MESSAGES = 30  # per phase, in sessions of 5, one at a time
FLOOD_CLIENTS = 200
BIG_POSTS = 10
BIG_BODY = 200 * 1024 * 1024
CHUNK = 64 * 1024
QUESTIONS = (
    "How do I renew my driver's licence?",
    "When is my garbage collection day?",
    "How do I report a pothole?",
    "How do I pay a parking ticket?",
    "What documents do I need for a first passport?",
)
FLOOD = """
import asyncio, collections, json, signal, sys, uuid
import httpx
url, clients = sys.argv[1], int(sys.argv[2])
codes = collections.Counter()
async def client(stop):
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(transport=transport, timeout=30) as http:
        sessions = url.rsplit("/", 1)[0] + "/sessions"
        session = (await http.post(sessions)).json()["session"]  # one session per flooding client
        while not stop.is_set():
            body = {"session": session, "text": "hello"}
            try:
                codes[(await http.post(url, json=body)).status_code] += 1
            except httpx.HTTPError:
                codes["error"] += 1
async def main():
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await asyncio.gather(*(client(stop) for _ in range(clients)))
asyncio.run(main())
print(json.dumps({str(k): v for k, v in codes.items()}))
"""


def _visitor(app_url: str) -> list[float]:
    """Seconds per answered web-chat message, VISITOR_MESSAGES of them, one at a time."""
    timings = []
    with httpx.Client(timeout=120) as client:
        for n in range(VISITOR_MESSAGES):
            if n % 5 == 0:  # a new session, asked for before the clock starts
                session = new_session(app_url)
            body = {"session": session, "text": QUESTIONS[n % len(QUESTIONS)]}
            began = time.perf_counter()
            response = client.post(f"{app_url}/webchat/messages", json=body)
            timings.append(time.perf_counter() - began)
            if response.status_code != 200:
                raise RuntimeError(f"the visitor got {response.status_code}: {response.text}")
    return timings


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] * 1000


def _big_post(app_url: str) -> tuple[str, int]:
    """Send a 200 MB chunked body until the app answers; its status line and the bytes sent."""
    host, port = app_url.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(
            f"POST /webchat/messages HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json"
            "\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = f"{CHUNK:x}\r\n".encode() + b"a" * CHUNK + b"\r\n"
        try:
            while sent < BIG_BODY:
                sock.sendall(chunk)
                sent += CHUNK
        except OSError:
            pass  # the app answered and closed the connection
        sock.settimeout(60)
        try:
            status = sock.recv(200).split(b"\r\n")[0].decode()
        except OSError:
            status = "connection reset"
    return status, sent


def measure(workdir: Path) -> str:
    """Run both measurements on one stack; the section's markdown."""
    load_before = os.getloadavg()[0]
    var = workdir / "stack"
    settings = Settings(
        port=free_port(),
        engine_port=free_port(),
        var_dir=var,
        database_url=f"sqlite:///{var / 'app.db'}",
        index_dir=ROOT / "var" / "index",
    )
    with started(settings) as running:
        url = running.app_url
        _visitor(url)  # warm-up, not counted
        quiet = _visitor(url)
        say(f"quiet visitor p95 {_p95(quiet):.0f} ms")
        flood = subprocess.Popen(
            [sys.executable, "-c", FLOOD, f"{url}/webchat/messages", str(FLOOD_CLIENTS)],
            stdout=subprocess.PIPE,
        )
        time.sleep(3)  # the flood is running
        try:
            flooded = _visitor(url)
        finally:
            flood.terminate()
            counts = flood_counts(flood.communicate(timeout=60)[0])
        say(f"flooded visitor p95 {_p95(flooded):.0f} ms")
        app_pid = running.pids["app"]
        time.sleep(2)
        before = tree_rss(app_pid)
        began = time.perf_counter()
        with PeakRss({"app": app_pid}, interval_s=0.1) as memory, ThreadPoolExecutor(10) as pool:
            answers = list(pool.map(lambda _: _big_post(url), range(BIG_POSTS)))
        refused_s = time.perf_counter() - began
    growth = (memory.peaks["app"] - before) / MIB
    say(f"app RSS {before / MIB:.0f} MiB, peak +{growth:.1f} MiB under {BIG_POSTS} big posts")
    statuses = ", ".join(sorted({status for status, _ in answers}))
    most_sent = max(sent for _, sent in answers) / MIB
    quiet_p95, flooded_p95 = _p95(quiet), _p95(flooded)
    quiet_median, flooded_median = statistics.median(quiet), statistics.median(flooded)
    peak = memory.peaks["app"] / MIB
    visitor = f"after a warm-up; flood: {FLOOD_CLIENTS} clients posting without pause"
    big = f"{BIG_POSTS} raw-socket clients sending 200 MB each; answers: {statuses}"
    rows = [
        "| measure | quiet stack | during the flood | ratio | aim |",
        "|---|---|---|---|---|",
        f"| visitor web-chat p95 (ms) | {quiet_p95:.0f} | {flooded_p95:.0f} | "
        + f"{flooded_p95 / quiet_p95:.2f}x | within 2x |",
        f"| visitor web-chat median (ms) | {quiet_median * 1000:.0f} | "
        + f"{flooded_median * 1000:.0f} | | |",
        "",
        "| measure | before | peak during | growth | aim |",
        "|---|---|---|---|---|",
        f"| app RSS, {BIG_POSTS} concurrent 200 MB chunked posts (MiB) | {before / MIB:.0f} | "
        + f"{peak:.0f} | {growth:.1f} | under 50 |",
    ]
    notes = [
        f"- Visitor: {VISITOR_MESSAGES} web-chat messages one at a time (sessions of 5) from "
        + f"127.0.0.1, {visitor} from 127.0.0.2 in a separate process (its answers by status: "
        + f"{counts}). The stack's default limits (RATE_LIMIT_* in README).",
        f"- Big posts: {big}; at most {most_sent:.1f} MiB sent by one before the app answered and "
        + f"closed; all refused within {refused_s:.1f} s. App RSS sampled every 0.1 s.",
        f"- 1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
        + f"({os.cpu_count()} CPUs, shared): a flood that got few answers was starved of CPU too.",
    ]
    return "\n".join([HEADING, "", *rows, "", *notes])


def flood_counts(output: bytes) -> dict[str, int]:
    """The flood's answers by status (its last line of output)."""
    lines = output.decode().strip().splitlines()
    return json.loads(lines[-1]) if lines else {}
