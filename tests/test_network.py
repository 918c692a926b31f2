"""No outbound network: ingest, ask and serve (a page load and a chat turn) touch only loopback.

Each step runs as a subprocess with a `sitecustomize.py` on PYTHONPATH that wraps
`socket.getaddrinfo` and `socket.socket.connect`/`connect_ex` (`socket.create_connection` calls
both, so it is covered too): any non-loopback target is written to a log file and refused. The
test asserts the steps succeeded (a cited answer) and the log is empty. Doing this inside Python
needs no root and no firewall rules, so it runs anywhere the suite runs, and the log names the
target with the Python stack that tried it. What it cannot see: connections made by non-Python
child processes or by C code that opens sockets itself (the guard makes uvicorn fall back from
uvloop to asyncio's own loop for that reason), and UDP `sendto` without `connect`. A first test
shows the guard does record and refuse what urllib, httpx and asyncio try, so an empty log means
something.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.settings import PROJECT_ROOT

_spec = importlib.util.spec_from_file_location("benchmarks_load", PROJECT_ROOT / "benchmarks" / "load.py")
load = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
if not hasattr(load, "wait_until_up"):
    _spec.loader.exec_module(load)

QUESTION = "Why does a backbone organization need stable funding?"

GUARD = r'''
"""Test-only network guard (tests/test_network.py): records and refuses non-loopback connections."""
import errno
import ipaddress
import json
import os
import socket
import sys
import traceback

LOG = os.environ["NETGUARD_LOG"]
with open(LOG + ".started", "a", encoding="utf-8") as started:  # which processes ran guarded
    started.write(json.dumps(sys.argv) + "\n")
sys.modules["uvloop"] = None  # uvloop connects in C, out of this guard's sight: use asyncio's loop


def _local(host):
    host = host.decode() if isinstance(host, bytes) else host
    if host in (None, "", "localhost"):
        return True
    try:
        address = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False  # a name other than localhost would need a DNS lookup
    return address.is_loopback or address.is_unspecified


def _refuse(call, target):
    record = {"pid": os.getpid(), "argv": sys.argv, "call": call, "target": repr(target),
              "stack": traceback.format_stack(limit=12)}
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")
    return OSError(errno.ENETUNREACH, f"network guard refused {call} to {target!r}")


_getaddrinfo = socket.getaddrinfo
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_INET = (socket.AF_INET, socket.AF_INET6)


def getaddrinfo(host, *args, **kwargs):
    if not _local(host):
        raise socket.gaierror(socket.EAI_NONAME, str(_refuse("getaddrinfo", host)))
    return _getaddrinfo(host, *args, **kwargs)


def connect(self, address):
    if self.family in _INET and not _local(address[0]):
        raise _refuse("connect", address)
    return _connect(self, address)


def connect_ex(self, address):
    if self.family in _INET and not _local(address[0]):
        _refuse("connect_ex", address)
        return errno.ENETUNREACH
    return _connect_ex(self, address)


socket.getaddrinfo = getaddrinfo
socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
'''

# Tries the ways libraries reach out; each must fail. Prints the exception type per attempt.
PROBE = r"""
import asyncio, json, socket, urllib.request
import httpx

def attempt(fn):
    try:
        fn()
        return "connected"
    except Exception as exc:
        return type(exc).__name__

async def open_async():
    await asyncio.wait_for(asyncio.open_connection("192.0.2.1", 80), 5)

raw = socket.socket()
results = {
    "urllib": attempt(lambda: urllib.request.urlopen("http://example.com/", timeout=5)),
    "httpx": attempt(lambda: httpx.get("http://192.0.2.1/", timeout=5)),
    "asyncio": attempt(lambda: asyncio.run(open_async())),
    "connect_ex": raw.connect_ex(("192.0.2.1", 80)),
}
server = socket.create_server(("127.0.0.1", 0))
results["loopback"] = attempt(lambda: socket.create_connection(server.getsockname(), timeout=5).close())
print(json.dumps(results))
"""

# A chat turn through gradio_client and a page load, from a guarded process too.
CHAT = r"""
import json, sys
import httpx
from gradio_client import Client

url = sys.argv[1]
page = httpx.get(url, timeout=30)
reply = Client(url, verbose=False).predict(message=sys.argv[2], api_name="/chat")
html = "".join(part["text"] for part in reply[1][-1]["content"])
print(json.dumps({"page": page.status_code, "html": page.text[:2000], "answer": html}))
"""


@pytest.fixture
def guarded(tmp_path: Path):
    """run(args) -> CompletedProcess of a guarded Python; log: the refused attempts."""
    (tmp_path / "guard").mkdir()
    (tmp_path / "guard" / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    log = tmp_path / "refused.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path / "guard"), os.environ.get("PYTHONPATH")])),
        "NETGUARD_LOG": str(log),
        "ASSISTANT_DATA_DIR": str(tmp_path / "data"),
    }

    class Guarded:
        def __init__(self) -> None:
            self.env, self.log = env, log

        def cmd(self, *args: str) -> list[str]:
            return [sys.executable, *args]

        def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
            return subprocess.run(
                self.cmd(*args), env=env, capture_output=True, text=True, timeout=timeout, cwd=PROJECT_ROOT
            )

        def started(self) -> list[list[str]]:
            path = Path(f"{log}.started")
            return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

        def refused(self) -> list[dict]:
            return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    return Guarded()


def test_guard_records_and_refuses_outbound_attempts(guarded):
    done = guarded.run("-c", PROBE, timeout=60)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results == {
        "urllib": "URLError",
        "httpx": "ConnectError",
        "asyncio": "OSError",
        "connect_ex": 101,  # ENETUNREACH
        "loopback": "connected",
    }
    targets = [(r["call"], r["target"]) for r in guarded.refused()]
    assert targets == [
        ("getaddrinfo", "'example.com'"),  # urllib
        ("getaddrinfo", "'192.0.2.1'"),  # httpx resolves even an address first
        ("connect", "('192.0.2.1', 80)"),  # asyncio goes straight to connect for an address
        ("connect_ex", "('192.0.2.1', 80)"),
    ]


def test_ingest_ask_and_serve_stay_on_loopback(guarded, tmp_path):
    ingest = guarded.run("-m", "assistant.cli", "ingest", "--quiet", str(PROJECT_ROOT / "corpus"))
    assert ingest.returncode == 0 and "5 added" in ingest.stdout, ingest.stderr

    ask = guarded.run("-m", "assistant.cli", "ask", QUESTION, "--json")
    assert ask.returncode == 0, ask.stderr
    assert json.loads(ask.stdout)["citations"]

    port = load.free_port()
    url = f"http://127.0.0.1:{port}/"
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen(
            guarded.cmd("-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port)),
            env=guarded.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
        try:
            load.wait_until_up(url, server, 120, tmp_path / "serve.log")  # same wait as the load bench
            chat = guarded.run("-c", CHAT, url, QUESTION, timeout=120)
        finally:
            server.terminate()
            server.wait(30)
    assert chat.returncode == 0, chat.stderr
    turn = json.loads(chat.stdout)
    assert turn["page"] == 200 and "<html" in turn["html"].lower()
    assert 'class="pa-cite"' in turn["answer"] and "<mark>" in turn["answer"]

    commands = [argv[1] if argv[0] == "-m" else argv[0] for argv in guarded.started() if len(argv) > 1]
    assert {"ingest", "ask", "serve", "-c"} <= set(commands), guarded.started()  # each step ran guarded
    assert guarded.refused() == [], (tmp_path / "serve.log").read_text()[-3000:]
