"""Load check of the running chat UI: concurrent chat sessions through gradio_client.

    .venv/bin/python benchmarks/load.py [--sessions 20] [--seconds 120] [--out DIR] [--data-dir DIR]

Starts `assistant serve` on 127.0.0.1 (a free port, a temp data dir with corpus/ ingested, or
--data-dir as is), warms it with one turn, then runs SESSIONS threads, each with its own Client
(one browser tab each), for SECONDS. A session walks through conversations built from
evals/questions.jsonl, starting each with the app's "New conversation" (or, with --reload, in a new
Gradio session, as a page reload would); a follow-up is asked right after the question it follows,
so it reads the session's own history. Every reply must carry citations or an abstention and show
exactly that conversation's turns. Reports requests, errors, latency p50/p95 and the server's RSS
every few seconds: whether it grew (mean of the last quarter of samples / mean of the first) and
its slope, over the whole run and after the first WARMUP seconds (caches filling); writes
OUT/load.json. Loopback only; stops by itself.
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


def session(number: int, url: str, script: list[list[str]], deadline: float, reload: bool) -> list[Request]:
    """One user: conversations from the script (starting at its own offset) until the deadline."""
    client = Client(url, verbose=False)
    requests: list[Request] = []
    start = number % len(script)
    for conversation in cycle(script[start:] + script[:start]):
        if reload:
            client.reset_session()  # a page reload: a new Gradio session
        else:
            client.predict(api_name="/new_conversation")  # the button: same session, history cleared
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


def memory(rss: list[tuple[float, float]]) -> dict[str, float]:
    """Growth of RSS samples: last-quarter mean / first-quarter mean, and the fitted slope."""
    quarter = max(1, len(rss) // 4)
    first = float(np.mean([mb for _, mb in rss[:quarter]]))
    last = float(np.mean([mb for _, mb in rss[-quarter:]]))
    times, mbs = np.array([t for t, _ in rss]), np.array([mb for _, mb in rss])
    slope = float(np.polyfit(times, mbs, 1)[0]) * 60 if len(rss) > 1 and np.ptp(times) > 0 else 0.0
    return {
        "first_quarter_mean": round(first, 1),
        "last_quarter_mean": round(last, 1),
        "ratio": round(last / first, 3),
        "slope_mb_per_min": round(slope, 2),
    }


def summarize(
    requests: list[Request], rss: list[tuple[float, float]], sessions: int, seconds: float, warmup: float
) -> dict:
    latencies = np.array([r.seconds for r in requests]) * 1000
    outcomes = [r.outcome for r in requests]
    failures = [o for o in outcomes if o not in ("cited", "abstained")]
    settled = [(t, mb) for t, mb in rss if t >= warmup] or rss
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
        "rss_mb": {**memory(rss), "samples": rss},
        "rss_mb_after_warmup": {"warmup_s": warmup, **memory(settled)},
        "failures": failures[:20],
        "per_session": [sum(r.session == s for r in requests) for s in range(sessions)],
    }


def run(
    sessions: int = 20,
    seconds: float = 120,
    out: Path = ROOT / "data" / "load",
    data_dir: Path | None = None,
    rss_every: float = 3.0,
    reload: bool = False,
    warmup: float = 20.0,
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
            done = pool.map(lambda n: session(n, url, script, deadline, reload), range(sessions))
            requests = [r for per_session in done for r in per_session]
        stop.set()
        sampler.join()
    summary = summarize(requests, rss, sessions, seconds, warmup)
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
    parser.add_argument(
        "--reload", action="store_true", help="each conversation in a new Gradio session, as a page reload"
    )
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds before RSS growth is judged")
    args = parser.parse_args(argv)
    s = run(args.sessions, args.seconds, args.out, args.data_dir, reload=args.reload, warmup=args.warmup)
    lat, mem = s["latency_ms"], s["rss_mb"]
    print(
        f"{s['sessions']} sessions x {s['seconds']:g} s: {s['requests']} requests "
        f"({s['requests_per_second']}/s), "
        f"{s['errors']} errors; {s['cited']} cited, {s['abstained']} abstained"
    )
    print(f"latency p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms, max {lat['max']:.0f} ms")
    print(
        f"server RSS {mem['first_quarter_mean']:.0f} MB (first quarter) -> {mem['last_quarter_mean']:.0f} MB "
        f"(last quarter), ratio {mem['ratio']:.3f}, slope {mem['slope_mb_per_min']:+.1f} MB/min; "
        f"{len(mem['samples'])} samples"
    )
    settled = s["rss_mb_after_warmup"]
    print(
        f"after the first {settled['warmup_s']:g} s: {settled['first_quarter_mean']:.0f} -> "
        f"{settled['last_quarter_mean']:.0f} MB, ratio {settled['ratio']:.3f}, "
        f"slope {settled['slope_mb_per_min']:+.1f} MB/min"
    )
    for failure in s["failures"]:
        print(f"  failure: {failure}")
    print(f"wrote {args.out / 'load.json'}")
    return 1 if s["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
