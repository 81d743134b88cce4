"""Load test of a running cockpit: concurrent chat streams and REST users, for a while.

``--streams`` simulated chat users each send messages one after the other (a new
session every ``--turns-per-session`` turns) and read the server-sent events; the
time to first token is the time from sending the message to the first ``text`` event.
``--users`` REST users each call ``GET /api/sessions``, ``/api/me``, ``/api/dataspaces``
or ``/api/tasks`` (chosen at random) in a loop, with a pause of ``--think-ms`` on
average between calls (half to one and a half times it; 0 makes them a stress test).
All users arrive spread over ``--ramp-s`` seconds, as Locust's spawn rate does. One
asyncio loop and one aiohttp session drive them all; every request is bounded by
``--timeout``.

Against a running cockpit (any API key of a user)::

    python benchmarks/cockpit_load.py --url https://wxai.example.org --key wxai_... \\
        --streams 50 --users 200 --duration 120 --model ollama-core

With ``--setup`` the script builds a throwaway deployment first and removes it at the
end: a PostgreSQL cluster (tests/postgres_server.py; or ``--database sqlite``), the
stand-in Ollama of benchmarks/standin_llm.py, ``wxai serve --workers N`` on them, a user
with an API key. ``--model local-fast`` uses the embedded model instead::

    python benchmarks/cockpit_load.py --setup --serve-workers 2 --duration 120

Reported: requests and errors by status, REST latency p50/p95, time to first token
p50/p95/p99, answers per minute; ``--json`` also writes them to a file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REST_PATHS = ("/api/sessions", "/api/me", "/api/dataspaces", "/api/tasks")
PROMPT = "Explain in a few sentences what a reverse proxy does."  # no rule or tool fits
LINK = re.compile(r"(/auth/link\?token=[A-Za-z0-9_\-]+)")


@dataclass
class Stats:
    """What the simulated users measured (times in seconds)."""

    rest_latency: list[float] = field(default_factory=list)
    rest_by_path: dict[str, list[float]] = field(default_factory=dict)
    ttft: list[float] = field(default_factory=list)
    answer_time: list[float] = field(default_factory=list)
    answers: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    rest_requests: int = 0
    stream_requests: int = 0
    retries: int = 0  # GETs resent after a closed keep-alive connection

    def error(self, kind: str) -> None:
        """Count one failure of ``kind`` (an HTTP status, an exception name, ``event``)."""
        self.errors[kind] += 1


def percentiles(values: list[float], qs: tuple[float, ...]) -> list[float]:
    """The ``qs`` percentiles (0-100) of ``values``; NaN when there are none."""
    if not values:
        return [float("nan")] * len(qs)
    return [float(v) for v in np.percentile(np.asarray(values), qs)]


#: What a failed request raises: the connection broke, or the time limit ran out.
FAILURES = (aiohttp.ClientError, TimeoutError)


async def _get(client: aiohttp.ClientSession, path: str, stats: Stats) -> int:
    """GET ``path`` and read the body; its status. Once more when a kept-alive one closed.

    A server closes idle keep-alive connections (uvicorn after 5 s); a request sent on
    one just as it closes fails before any answer. Browsers resend such an idempotent
    request; so does this client, and counts it under ``retries``.
    """
    for attempt in (1, 2):
        try:
            async with client.get(path) as answer:
                await answer.read()
                return answer.status
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
            if attempt == 2:
                raise
            stats.retries += 1
    raise AssertionError("unreachable")


async def rest_user(
    client: aiohttp.ClientSession, stop_at: float, think_s: float, stats: Stats
) -> None:
    """One REST user: GETs of the listing endpoints until ``stop_at`` (monotonic s)."""
    rng = random.Random()
    while time.monotonic() < stop_at:
        path = rng.choice(REST_PATHS)
        started = time.perf_counter()
        try:
            status = await _get(client, path, stats)
        except FAILURES as exc:
            stats.error(f"rest {type(exc).__name__}")
            await asyncio.sleep(0.5)
            continue
        stats.rest_requests += 1
        if status == 200:
            took = time.perf_counter() - started
            stats.rest_latency.append(took)
            stats.rest_by_path.setdefault(path, []).append(took)
        else:
            stats.error(f"rest {status}")
            await asyncio.sleep(0.5)  # no tight loop on a refusing server
        if think_s:
            await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))


async def _new_session(client: aiohttp.ClientSession, model: str, stats: Stats) -> str | None:
    try:
        async with client.post("/api/sessions", json={"title": "load", "model": model}) as made:
            if made.status != 201:
                await made.read()
                stats.error(f"session {made.status}")
                return None
            return str((await made.json())["id"])
    except FAILURES as exc:
        stats.error(f"session {type(exc).__name__}")
        return None


async def chat_user(
    client: aiohttp.ClientSession, stop_at: float, model: str, turns: int, stats: Stats
) -> None:
    """One chat user: a message, its whole streamed answer, the next message..."""
    session, used = None, 0
    while time.monotonic() < stop_at:
        if session is None or used >= turns:
            session, used = await _new_session(client, model, stats), 0
            if session is None:
                await asyncio.sleep(1.0)
                continue
        used += 1
        started = time.perf_counter()
        first: float | None = None
        done = False
        stats.stream_requests += 1
        try:
            url = f"/api/sessions/{session}/messages"
            async with client.post(url, json={"text": PROMPT}) as answer:
                if answer.status != 200:
                    await answer.read()
                    stats.error(f"stream {answer.status}")
                    await asyncio.sleep(1.0)
                    continue
                async for raw in answer.content:  # one line at a time
                    line = raw.rstrip(b"\r\n")
                    if line == b"event: text" and first is None:
                        first = time.perf_counter() - started
                    elif line == b"event: error":
                        stats.error("stream error event")
                    elif line == b"event: done":
                        done = True
        except FAILURES as exc:
            stats.error(f"stream {type(exc).__name__}")
            continue
        if first is not None:
            stats.ttft.append(first)
        if done:
            stats.answers += 1
            stats.answer_time.append(time.perf_counter() - started)
        else:
            stats.error("stream ended without done")


async def run_load(args: argparse.Namespace, url: str, key: str) -> tuple[Stats, float]:
    """Run the users against ``url``; the stats and the measured wall time (s).

    aiohttp drives them: httpx's client needed more CPU than the server it measured
    (80 % of a core for 40 requests/s), which on a shared machine is the server's loss.
    """
    stats = Stats()
    connector = aiohttp.TCPConnector(limit=args.streams + args.users + 10, ssl=not args.insecure)
    timeout = aiohttp.ClientTimeout(total=args.timeout, connect=30.0)
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession(
        base_url=url, headers=headers, connector=connector, timeout=timeout
    ) as client:
        started = time.monotonic()
        stop_at = started + args.duration
        total = max(1, args.streams + args.users)

        def ramped(i: int, user: Any) -> asyncio.Task[None]:
            """Start user ``i`` after its share of the ramp (users arrive, as in Locust)."""

            async def later() -> None:
                await asyncio.sleep(args.ramp_s * i / total)
                await user

            return asyncio.create_task(later())

        users = [
            chat_user(client, stop_at, args.model, args.turns_per_session, stats)
            for _ in range(args.streams)
        ]
        users += [
            rest_user(client, stop_at, args.think_ms / 1000, stats) for _ in range(args.users)
        ]
        random.Random(0).shuffle(users)
        tasks = [ramped(i, user) for i, user in enumerate(users)]
        # Answers under way at the end may finish within the grace time, then are cut.
        _, pending = await asyncio.wait(tasks, timeout=args.duration + args.grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        elapsed = time.monotonic() - started
    return stats, elapsed


def report(stats: Stats, elapsed: float, args: argparse.Namespace) -> dict[str, Any]:
    """Print the figures; the same as a dictionary."""
    rest = percentiles(stats.rest_latency, (50, 95))
    ttft = percentiles(stats.ttft, (50, 95, 99))
    answer = percentiles(stats.answer_time, (50, 95))
    figures = {
        "streams": args.streams,
        "users": args.users,
        "think_ms": args.think_ms,
        "ramp_s": args.ramp_s,
        "duration_s": round(elapsed, 1),
        "model": args.model,
        "rest_requests": stats.rest_requests,
        "rest_per_s": stats.rest_requests / elapsed,
        "rest_p50_ms": rest[0] * 1000,
        "rest_p95_ms": rest[1] * 1000,
        "stream_requests": stats.stream_requests,
        "answers": stats.answers,
        "answers_per_min": stats.answers * 60 / elapsed,
        "ttft_p50_s": ttft[0],
        "ttft_p95_s": ttft[1],
        "ttft_p99_s": ttft[2],
        "answer_p50_s": answer[0],
        "answer_p95_s": answer[1],
        "errors": dict(stats.errors),
        "rest_retries": stats.retries,
    }
    print(
        f"load: {args.streams} chat streams ({args.model}) + {args.users} REST users "
        f"(pause {args.think_ms:g} ms), {elapsed:.0f} s"
    )
    print(
        f"REST: {stats.rest_requests} requests, {figures['rest_per_s']:.1f} requests/s, "
        f"latency p50 {figures['rest_p50_ms']:.0f} ms, p95 {figures['rest_p95_ms']:.0f} ms"
    )
    print(
        f"chat: {stats.answers} answers of {stats.stream_requests} sent, "
        f"{figures['answers_per_min']:.1f} answers/min; time to first token "
        f"p50 {ttft[0]:.2f} s, p95 {ttft[1]:.2f} s, p99 {ttft[2]:.2f} s; "
        f"whole answer p50 {answer[0]:.2f} s, p95 {answer[1]:.2f} s"
    )
    by_path = {
        path: percentiles(values, (50, 95)) for path, values in sorted(stats.rest_by_path.items())
    }
    figures["rest_by_path_p50_p95_ms"] = {p: [v * 1000 for v in q] for p, q in by_path.items()}
    if by_path:
        print(
            "REST p50/p95 by path: "
            + ", ".join(f"{p} {q[0] * 1000:.0f}/{q[1] * 1000:.0f} ms" for p, q in by_path.items())
        )
    errors = ", ".join(f"{kind}: {n}" for kind, n in stats.errors.most_common()) or "none"
    print(f"errors: {errors}; GETs resent on a closed keep-alive connection: {stats.retries}")
    return figures


# -- --setup: a throwaway deployment ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited at startup:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)  # its own group: uvicorn's workers too
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def _api_key(url: str, env: dict[str, str]) -> str:
    """A new admin user ``load`` (``wxai users add``), signed in by its link; its API key."""
    wxai = str(Path(sys.executable).with_name("wxai"))
    done = subprocess.run(
        [wxai, "users", "add", "load", "--admin", "--no-password"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found = LINK.findall(done.stdout)
    if done.returncode != 0 or not found:
        raise SystemExit(f"wxai users add failed:\n{done.stdout}\n{done.stderr}")
    with httpx.Client(base_url=url, timeout=30, follow_redirects=True) as browser:
        browser.get(found[-1]).raise_for_status()
        csrf = browser.get("/api/me").json()["csrf_token"]
        made = browser.post("/api/me/keys", json={"label": "load"}, headers={"X-CSRF-Token": csrf})
        made.raise_for_status()
        return str(made.json()["key"])


@contextlib.contextmanager
def deployment(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """PostgreSQL (or SQLite), the stand-in model and ``wxai serve``; yields (url, key)."""
    home = Path(tempfile.mkdtemp(prefix="wxai-load-"))
    postgres = standin = server = None
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WXAI_")}
        if args.database == "postgres":
            postgres = _load(
                ROOT / "tests" / "postgres_server.py", "postgres_server"
            ).PostgresServer.start()
            env["WXAI_DATABASE_URL"] = postgres.create_database("wxai_load")
        standin_port = _free_port()
        standin_log = home / "standin.log"
        with standin_log.open("wb") as log:
            standin = subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "benchmarks" / "standin_llm.py"),
                    "--port",
                    str(standin_port),
                    "--tokens",
                    str(args.standin_tokens),
                    "--delay-ms",
                    str(args.standin_delay_ms),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_for(f"http://127.0.0.1:{standin_port}/api/tags", standin, standin_log, 30)
        port = _free_port()
        env.update(
            WXAI_HOME=str(home / "home"),
            WXAI_OLLAMA_URL=f"http://127.0.0.1:{standin_port}",
            WXAI_PORT=str(port),
            WXAI_EMBEDDED_WORKER="false",
            WXAI_RATE_LIMIT_PER_MINUTE="0",
            OMP_NUM_THREADS="1",
            MPLBACKEND="Agg",
        )
        if args.chat_concurrency:
            env["WXAI_CHAT_CONCURRENCY"] = str(args.chat_concurrency)
        wxai = str(Path(sys.executable).with_name("wxai"))
        migrated = subprocess.run(
            [wxai, "db", "upgrade"], env=env, capture_output=True, text=True, check=False
        )
        print(f"setup: wxai db upgrade -> {'ok' if migrated.returncode == 0 else 'not available'}")
        server_log = home / "server.log"
        with server_log.open("wb") as log:
            server = subprocess.Popen(
                [wxai, "serve", "--workers", str(args.serve_workers)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = f"http://127.0.0.1:{port}"
        _wait_for(f"{url}/api/health", server, server_log, 180)
        time.sleep(2.0)  # the other workers finish starting
        print(
            f"setup: wxai serve --workers {args.serve_workers} on {url}, "
            f"{args.database}, stand-in model {args.standin_tokens} tokens x "
            f"{args.standin_delay_ms} ms"
        )
        yield url, _api_key(url, env)
    finally:
        _stop(server)
        _stop(standin)
        if postgres is not None:
            postgres.stop()
        if args.keep_logs:
            print(f"logs kept in {home}")
        else:
            subprocess.run(["rm", "-rf", str(home)], check=False)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="the cockpit's base URL (without --setup)")
    parser.add_argument(
        "--key", default=os.environ.get("WXAI_API_KEY"), help="API key (or WXAI_API_KEY)"
    )
    parser.add_argument("--streams", type=int, default=50, help="concurrent chat users")
    parser.add_argument("--users", type=int, default=200, help="concurrent REST users")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load")
    parser.add_argument(
        "--grace", type=float, default=60.0, help="s for answers under way at the end"
    )
    parser.add_argument(
        "--think-ms",
        type=float,
        default=1000.0,
        help="mean pause of a REST user between calls (0: back-to-back, a stress test)",
    )
    parser.add_argument(
        "--ramp-s", type=float, default=5.0, help="users start spread over this many seconds"
    )
    parser.add_argument("--turns-per-session", type=int, default=5)
    parser.add_argument("--model", default="ollama-core", help="model alias of the chat users")
    parser.add_argument("--timeout", type=float, default=300.0, help="s per request")
    parser.add_argument("--insecure", action="store_true", help="do not check the TLS certificate")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    setup = parser.add_argument_group("--setup: a throwaway deployment on this machine")
    setup.add_argument("--setup", action="store_true")
    setup.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    setup.add_argument("--serve-workers", type=int, default=2)
    setup.add_argument(
        "--chat-concurrency", type=int, default=0, help="WXAI_CHAT_CONCURRENCY (0: default)"
    )
    setup.add_argument("--standin-tokens", type=int, default=32)
    setup.add_argument("--standin-delay-ms", type=float, default=20.0)
    setup.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args(argv)
    if not args.setup and not (args.url and args.key):
        parser.error("give --url and --key (or WXAI_API_KEY), or --setup")
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the load (after ``--setup``, against the throwaway deployment) and report."""
    args = parse_args(argv)
    if args.setup:
        with deployment(args) as (url, key):
            stats, elapsed = asyncio.run(run_load(args, url, key))
    else:
        stats, elapsed = asyncio.run(run_load(args, args.url.rstrip("/"), args.key))
    figures = report(stats, elapsed, args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
