"""A stand-in language model speaking Ollama's HTTP protocol, for load tests of the cockpit.

It answers ``GET /api/tags`` (the models it pretends to have) and ``POST /api/chat``,
plain or streamed as NDJSON lines (``{"message": {"content": ...}, "done": false}`` ...
then ``"done": true`` with token counts), exactly as the cockpit's Ollama provider reads
them. Offered tools, it declines them at once (an empty, plain answer), so the cockpit
then asks for the answer streamed, as with a real model that needs no tool. Every
answer has ``--tokens`` pieces, one every ``--delay-ms`` milliseconds, so a
load test measures the cockpit and not a model. Point the cockpit at it with
``WXAI_OLLAMA_URL=http://127.0.0.1:PORT`` and use an Ollama alias (``ollama-core``).

Usage::

    python benchmarks/standin_llm.py --port 11435 --tokens 64 --delay-ms 20
    python benchmarks/standin_llm.py --selftest       # start, stream one answer, report

The self-test prints ``tokens/s: X`` measured through a real HTTP client.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: Model names listed by /api/tags: the Ollama models of configs/models.yaml.
DEFAULT_MODELS = ("llama3.2:3b", "qwen2.5:7b", "mistral-small3.1:24b", "llama3.3:70b")


class StandinLLM(ThreadingHTTPServer):
    """An Ollama-compatible server answering every chat with ``tokens`` pieces.

    Parameters
    ----------
    address:
        ``(host, port)`` to bind; port 0 picks a free one.
    tokens:
        Pieces of text per answer (each one word and a space).
    delay_s:
        Pause before each piece, in seconds (the model's inter-token latency).
    first_delay_s:
        Extra pause before the first piece (the model's prompt processing), in seconds.
    """

    daemon_threads = True
    request_queue_size = 512  # hundreds of concurrent streams connect at once

    def __init__(
        self,
        address: tuple[str, int],
        tokens: int = 32,
        delay_s: float = 0.02,
        first_delay_s: float = 0.0,
        models: tuple[str, ...] = DEFAULT_MODELS,
    ) -> None:
        super().__init__(address, _Handler)
        self.tokens = tokens
        self.delay_s = delay_s
        self.first_delay_s = first_delay_s
        self.models = models
        self.chats = 0  # answered /api/chat requests
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:11435``."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def count_chat(self) -> None:
        """Count one answered chat (thread-safe)."""
        with self._lock:
            self.chats += 1

    def start_in_thread(self) -> threading.Thread:
        """Serve in a daemon thread; stop with ``shutdown()`` and ``server_close()``."""
        thread = threading.Thread(target=self.serve_forever, daemon=True)
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    server: StandinLLM
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet under load
        pass

    def _json(self, payload: Any, code: int = 200) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/api/tags":
            models = [{"name": name, "model": name} for name in self.server.models]
            self._json({"models": models})
        elif self.path == "/api/version":
            self._json({"version": "0.0.0-standin"})
        else:
            self._json({"error": f"no route {self.path}"}, 404)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        if self.path != "/api/chat":
            self._json({"error": f"no route {self.path}"}, 404)
            return
        body = json.loads(raw or b"{}")
        model = str(body.get("model", ""))
        server = self.server
        words = [f"w{i} " for i in range(server.tokens)]
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        final = {
            "model": model,
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": prompt_tokens,
            "eval_count": len(words),
        }
        if not body.get("stream", True):
            if body.get("tools"):  # declines the tools at once: the answer comes streamed
                time.sleep(server.first_delay_s)
                words = []
            else:
                time.sleep(server.first_delay_s + server.delay_s * len(words))
            message = {"role": "assistant", "content": "".join(words)}
            self._json({**final, "message": message})
            server.count_chat()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        time.sleep(server.first_delay_s)
        for word in words:
            time.sleep(server.delay_s)
            piece = {"model": model, "message": {"role": "assistant", "content": word}}
            self._chunk(json.dumps({**piece, "done": False}).encode() + b"\n")
        last = {**final, "message": {"role": "assistant", "content": ""}}
        self._chunk(json.dumps(last).encode() + b"\n")
        self._chunk(b"")
        server.count_chat()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def selftest(tokens: int, delay_s: float) -> float:
    """Stream one answer from a fresh stand-in; tokens per second as the client saw them."""
    import httpx

    server = StandinLLM(("127.0.0.1", 0), tokens=tokens, delay_s=delay_s)
    server.start_in_thread()
    try:
        request = {
            "model": DEFAULT_MODELS[0],
            "stream": True,
            "messages": [{"role": "user", "content": "hi"}],
        }
        started = time.perf_counter()
        pieces = 0
        with httpx.stream("POST", f"{server.url}/api/chat", json=request, timeout=30) as answer:
            for line in answer.iter_lines():
                if line and not json.loads(line)["done"]:
                    pieces += 1
        elapsed = time.perf_counter() - started
    finally:
        server.shutdown()
        server.server_close()
    if pieces != tokens:
        raise SystemExit(f"the stand-in streamed {pieces} pieces, expected {tokens}")
    return pieces / elapsed


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted (or run the self-test)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=11435)
    parser.add_argument("--tokens", type=int, default=32, help="pieces per answer")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="pause before each piece")
    parser.add_argument("--first-delay-ms", type=float, default=0.0, help="extra first pause")
    parser.add_argument("--selftest", action="store_true", help="stream one answer and exit")
    args = parser.parse_args(argv)
    if args.selftest:
        rate = selftest(args.tokens, args.delay_ms / 1000)
        print(f"tokens/s: {rate:.1f}")
        return
    server = StandinLLM(
        (args.host, args.port), args.tokens, args.delay_ms / 1000, args.first_delay_ms / 1000
    )
    print(f"stand-in Ollama on {server.url} ({args.tokens} tokens, {args.delay_ms} ms each)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
