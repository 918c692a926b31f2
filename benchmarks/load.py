"""Load check of the running chat UI: concurrent chat sessions through gradio_client.

    .venv/bin/python benchmarks/load.py [--sessions 20] [--seconds 120] [--out DIR] [--data-dir DIR]

Starts `assistant serve` on 127.0.0.1 (a free port, a temp data dir with corpus/ ingested, or
--data-dir as is), warms it with one turn, then runs SESSIONS threads, each with its own Client,
for SECONDS. A session walks through conversations built from evals/questions.jsonl: a follow-up
question is asked right after the question it follows, so it reads the session's own history.
Every reply must carry citations or an abstention and show exactly that conversation's turns.
Reports requests, errors, latency p50/p95 and the server's RSS every few seconds (and whether it
grew: mean of the last quarter of samples / mean of the first quarter); writes OUT/load.json.
Loopback only; stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import cycle, zip_longest
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from gradio_client import Client

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "evals" / "questions.jsonl"
MAX_SESSIONS, MAX_SECONDS = 100, 3600  # a bounded run, whatever the arguments
REQUEST_TIMEOUT = 120.0


@dataclass
class Request:
    session: int
    seconds: float
    outcome: str  # "cited", "abstained", or what went wrong


def conversations(path: Path = QUESTIONS) -> list[list[str]]:
    """Follow-ups after the question they follow; the other questions three to a conversation."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = [[r["history"][0]["content"], r["question"]] for r in rows if r.get("history")]
    answerable = iter([r["question"] for r in rows if not r.get("history") and r["answerable"]])
    unanswerable = [r["question"] for r in rows if not r.get("history") and not r["answerable"]]
    # One question the library can't answer in every three, so a short run sees both kinds.
    single = [q for group in zip_longest(unanswerable, answerable, answerable) for q in group if q]
    triples = [single[i : i + 3] for i in range(0, len(single), 3)]
    mixed = [c for pair in zip(triples, pairs, strict=False) for c in pair]
    return mixed + triples[len(pairs) :] + pairs[len(triples) :]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident set size from /proc (Linux): no psutil dependency for one number."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmRSS line")


def assistant_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "assistant.cli", *args]


@contextmanager
def serving(data_dir: Path | None, log_path: Path, startup: float = 180.0) -> Iterator[tuple[str, int]]:
    """`assistant serve` on a free loopback port; yields (url, pid) once it answers, stops it after."""
    with tempfile.TemporaryDirectory(prefix="assistant-load-") as tmp:
        env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir or Path(tmp) / "data")}
        if data_dir is None:
            done = subprocess.run(
                assistant_cmd("ingest", "--quiet", str(ROOT / "corpus")),
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode:
                raise RuntimeError(f"ingest failed ({done.returncode}): {done.stderr.strip()}")
        port = free_port()
        with log_path.open("w") as log:
            server = subprocess.Popen(
                assistant_cmd("serve", "--host", "127.0.0.1", "--port", str(port)),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                url = f"http://127.0.0.1:{port}/"
                wait_until_up(url, server, startup, log_path)
                yield url, server.pid
            finally:
                server.terminate()
                try:
                    server.wait(15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()


def wait_until_up(url: str, server: subprocess.Popen, limit: float, log_path: Path) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"assistant serve exited with {server.returncode}; see {log_path}")
        try:
            if httpx.get(f"{url}config", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"assistant serve did not answer within {limit:.0f} s; see {log_path}")


def reply_outcome(reply: Any, turn: int) -> str:
    """cited / abstained, or why the reply is wrong (no sources, another conversation's turns)."""
    shown = reply[1]
    if len(shown) != 2 * turn:
        return f"wrong history: {len(shown)} messages at turn {turn}"
    content = shown[-1]["content"]
    html = "".join(p.get("text", "") for p in content) if isinstance(content, list) else str(content)
    if "pa-abstained" in html:
        return "abstained"
    if 'class="pa-cite"' in html:
        return "cited"
    return f"no citation or abstention: {html[:200]}"


def session(number: int, url: str, script: list[list[str]], deadline: float) -> list[Request]:
    """One user: conversations from the script (starting at its own offset) until the deadline."""
    client = Client(url, verbose=False)
    requests: list[Request] = []
    start = number % len(script)
    for conversation in cycle(script[start:] + script[:start]):
        client.reset_session()  # a new conversation: fresh server-side history
        for turn, question in enumerate(conversation, 1):
            if time.monotonic() >= deadline:
                return requests
            began = time.perf_counter()
            try:
                outcome = reply_outcome(
                    client.submit(message=question, api_name="/chat").result(REQUEST_TIMEOUT), turn
                )
            except Exception as exc:  # any failure is a result to count, not a reason to stop
                outcome = f"error: {type(exc).__name__}: {exc}"
            requests.append(Request(number, time.perf_counter() - began, outcome))
    return requests


def sample_rss(pid: int, every: float, stop: threading.Event, into: list[tuple[float, float]]) -> None:
    began = time.monotonic()
    while True:
        into.append((round(time.monotonic() - began, 1), round(rss_mb(pid), 1)))
        if stop.wait(every):
            return


def summarize(requests: list[Request], rss: list[tuple[float, float]], sessions: int, seconds: float) -> dict:
    latencies = np.array([r.seconds for r in requests]) * 1000
    outcomes = [r.outcome for r in requests]
    quarter = max(1, len(rss) // 4)
    first = float(np.mean([mb for _, mb in rss[:quarter]]))
    last = float(np.mean([mb for _, mb in rss[-quarter:]]))
    failures = [o for o in outcomes if o not in ("cited", "abstained")]
    return {
        "sessions": sessions,
        "seconds": seconds,
        "requests": len(requests),
        "errors": len(failures),
        "cited": outcomes.count("cited"),
        "abstained": outcomes.count("abstained"),
        "requests_per_second": round(len(requests) / seconds, 2),
        "latency_ms": {
            "p50": round(float(np.percentile(latencies, 50)), 1),
            "p95": round(float(np.percentile(latencies, 95)), 1),
            "max": round(float(latencies.max()), 1),
        },
        "rss_mb": {
            "first_quarter_mean": round(first, 1),
            "last_quarter_mean": round(last, 1),
            "ratio": round(last / first, 3),
            "samples": rss,
        },
        "failures": failures[:20],
        "per_session": [sum(r.session == s for r in requests) for s in range(sessions)],
    }


def run(
    sessions: int = 20,
    seconds: float = 120,
    out: Path = ROOT / "data" / "load",
    data_dir: Path | None = None,
    rss_every: float = 3.0,
) -> dict:
    """Serve, warm up, load, measure; returns the summary and writes out/load.json."""
    if not (1 <= sessions <= MAX_SESSIONS and 1 <= seconds <= MAX_SECONDS):
        raise ValueError(f"sessions must be 1..{MAX_SESSIONS} and seconds 1..{MAX_SECONDS}")
    out.mkdir(parents=True, exist_ok=True)
    script = conversations()
    with serving(data_dir, out / "serve.log") as (url, pid):
        Client(url, verbose=False).predict(message=script[0][0], api_name="/chat")  # model warm-up
        rss: list[tuple[float, float]] = []
        stop = threading.Event()
        sampler = threading.Thread(target=sample_rss, args=(pid, rss_every, stop, rss), daemon=True)
        sampler.start()
        deadline = time.monotonic() + seconds
        with ThreadPoolExecutor(sessions) as pool:
            done = pool.map(lambda n: session(n, url, script, deadline), range(sessions))
            requests = [r for per_session in done for r in per_session]
        stop.set()
        sampler.join()
    summary = summarize(requests, rss, sessions, seconds)
    (out / "load.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "load")
    parser.add_argument(
        "--data-dir", type=Path, help="serve this store as is (default: ingest corpus/ in a temp dir)"
    )
    args = parser.parse_args(argv)
    s = run(args.sessions, args.seconds, args.out, args.data_dir)
    lat, mem = s["latency_ms"], s["rss_mb"]
    print(
        f"{s['sessions']} sessions x {s['seconds']:g} s: {s['requests']} requests "
        f"({s['requests_per_second']}/s), "
        f"{s['errors']} errors; {s['cited']} cited, {s['abstained']} abstained"
    )
    print(f"latency p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms, max {lat['max']:.0f} ms")
    print(
        f"server RSS {mem['first_quarter_mean']:.0f} MB (first quarter) -> {mem['last_quarter_mean']:.0f} MB "
        f"(last quarter), ratio {mem['ratio']:.3f}; {len(mem['samples'])} samples"
    )
    for failure in s["failures"]:
        print(f"  failure: {failure}")
    print(f"wrote {args.out / 'load.json'}")
    return 1 if s["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
