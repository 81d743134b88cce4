"""Compare CPU runtimes for the packaged SmolLM2-135M-Instruct GGUF.

Runs each runtime it can import, once per thread count, in a fresh subprocess (so
load time and resident memory are not polluted by the other runtime) and prints a
table: load time, resident memory, decode speed for a fixed number of tokens and the
answers to two fixed prompts. For xllamacpp it also checks JSON-schema constrained
output.

Runtimes
--------
``xllamacpp``
    llama.cpp's server core (prebuilt wheel); OpenAI-style chat completions through
    ``xllamacpp.Server.handle_chat_completions``; uses the chat template in the GGUF.
``transformers``
    ``AutoModelForCausalLM.from_pretrained(dir, gguf_file=name)``; de-quantizes the
    GGUF to float32 torch weights (needs the ``gguf`` package).

Usage::

    python benchmarks/llm_runtimes.py                      # all runtimes, 1 and 2 threads
    python benchmarks/llm_runtimes.py --runtimes xllamacpp --threads 2 --json

This is a script, not a test; the asset is located with :func:`wxai.core.assets.resolve`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

try:
    from wxai.core.assets import resolve
except ImportError:  # run from a checkout without an installed wxai
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from wxai.core.assets import resolve

ASSET = "smollm2-135m-instruct"
SYSTEM = "You are a helpful assistant. Answer briefly and factually in one sentence."
PROMPTS = ("What is the capital of France?", "In one sentence, what is a cold front?")
THROUGHPUT_PROMPT = "Write a short paragraph about how weather forecasts are made."
REPEATS = 3
RESULT_MARK = "@@RESULT@@ "

# small schema for the constrained-output check: bounded strings and an enum, so a
# 135M model cannot ramble inside an unbounded number or string
FRONT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "front_type": {"type": "string", "enum": ["cold", "warm", "occluded", "stationary"]},
        "temperature_trend": {"type": "string", "enum": ["falling", "rising", "steady"]},
        "summary": {"type": "string", "maxLength": 120},
    },
    "required": ["front_type", "temperature_trend", "summary"],
    "additionalProperties": False,
}
FRONT_PROMPT = (
    "Behind the front the wind turned north-west, temperatures dropped by 8 degrees and "
    "a line of heavy showers passed. Classify the front as JSON."
)


def _messages(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]


def _rss_mb() -> tuple[float, float]:
    """Current and peak resident set size of this process in MB."""
    current = peak = 0.0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        current = peak
    return current, peak


def _validate(obj: Any, schema: dict[str, Any]) -> str:
    """Empty string when ``obj`` is valid under ``schema``, else the error."""
    try:
        import jsonschema
    except ImportError:  # minimal check of the keys only
        ok = isinstance(obj, dict) and set(obj) == set(schema["required"])
        return "" if ok else "keys differ from the schema"
    try:
        jsonschema.validate(obj, schema)
    except jsonschema.ValidationError as exc:
        return exc.message
    return ""


# --------------------------------------------------------------------------- workers


def run_xllamacpp(gguf: Path, threads: int, max_tokens: int) -> dict[str, Any]:
    """Load the GGUF with xllamacpp and measure; returns a result dict."""
    import xllamacpp as xlc

    rss0, _ = _rss_mb()
    params = xlc.CommonParams()
    params.model.path = str(gguf)
    params.n_ctx = 2048  # default 0 = the model's 8192 training context (bigger KV cache)
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.verbosity = 0
    t0 = time.perf_counter()
    server = xlc.Server(params)
    load_s = time.perf_counter() - t0
    rss_load, _ = _rss_mb()

    def chat(messages: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
        request = {"messages": messages, "max_tokens": max_tokens, "temperature": 0.0, **extra}
        response = server.handle_chat_completions(request)
        if "choices" not in response:
            raise RuntimeError(f"xllamacpp error: {response}")
        return response

    answers = [chat(_messages(q))["choices"][0]["message"]["content"].strip() for q in PROMPTS]

    # decode speed: a fixed number of tokens (ignore_eos), best of a few, warm server
    speeds, walls = [], []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        response = chat(_messages(THROUGHPUT_PROMPT), ignore_eos=True)
        wall = time.perf_counter() - t0
        n = response["usage"]["completion_tokens"]
        speeds.append(response["timings"]["predicted_per_second"])
        walls.append(n / wall)

    # streaming: count chunks, check the text equals the non-streamed greedy answer
    pieces: list[str] = []

    def on_chunk(chunk: dict[str, Any]) -> bool:
        for choice in chunk.get("choices", []):
            pieces.append(choice.get("delta", {}).get("content") or "")
        return False  # True would cancel the generation

    server.handle_chat_completions(
        {
            "messages": _messages(PROMPTS[1]),
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "stream": True,
        },
        on_chunk,
    )
    streamed = "".join(pieces).strip()

    # constrained output with an OpenAI-style response_format
    response = chat(
        [
            {"role": "system", "content": "You reply in JSON."},
            {"role": "user", "content": FRONT_PROMPT},
        ],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "front", "schema": FRONT_SCHEMA, "strict": True},
        },
    )
    content = response["choices"][0]["message"]["content"]
    try:
        error = _validate(json.loads(content), FRONT_SCHEMA)
    except json.JSONDecodeError as exc:
        error = f"not JSON: {exc}"

    rss_end, peak = _rss_mb()
    return {
        "runtime": "xllamacpp",
        "version": xlc.__version__,
        "threads": threads,
        "load_s": load_s,
        "rss_before_load_mb": rss0,
        "rss_after_load_mb": rss_load,
        "rss_end_mb": rss_end,
        "peak_mb": peak,
        "tok_s": max(speeds),
        "tok_s_wall": max(walls),
        "answers": answers,
        "stream_matches": streamed == answers[1],
        "stream_chunks": len(pieces),
        "json_output": content,
        "json_valid": not error,
        "json_error": error,
    }


def run_transformers(gguf: Path, threads: int, max_tokens: int) -> dict[str, Any]:
    """Load the GGUF with transformers (de-quantized to float32) and measure."""
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(threads)
    transformers.logging.set_verbosity_error()
    rss0, _ = _rss_mb()
    t0 = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    tok_s = time.perf_counter() - t0
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    model.eval()
    load_s = time.perf_counter() - t0
    rss_load, _ = _rss_mb()

    def generate(question: str, **extra: Any) -> tuple[str, int, float]:
        inputs = tokenizer.apply_chat_template(
            _messages(question), add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        n_in = inputs["input_ids"].shape[1]
        t = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(
                **inputs,
                max_new_tokens=max_tokens,
                do_sample=False,
                pad_token_id=tokenizer.eos_token_id,
                **extra,
            )
        wall = time.perf_counter() - t
        text = tokenizer.decode(out[0, n_in:], skip_special_tokens=True).strip()
        return text, out.shape[1] - n_in, wall

    answers = [generate(q)[0] for q in PROMPTS]
    speeds = []
    for _ in range(REPEATS):
        _, n, wall = generate(THROUGHPUT_PROMPT, min_new_tokens=max_tokens)
        speeds.append(n / wall)
    rss_end, peak = _rss_mb()
    return {
        "runtime": "transformers",
        "version": transformers.__version__,
        "threads": threads,
        "load_s": load_s,
        "tokenizer_load_s": tok_s,
        "rss_before_load_mb": rss0,
        "rss_after_load_mb": rss_load,
        "rss_end_mb": rss_end,
        "peak_mb": peak,
        "tok_s": max(speeds),
        "tok_s_wall": max(speeds),
        "tok_s_median": statistics.median(speeds),
        "answers": answers,
        "json_valid": None,
    }


WORKERS = {"xllamacpp": run_xllamacpp, "transformers": run_transformers}
REQUIRES = {"xllamacpp": ("xllamacpp",), "transformers": ("transformers", "torch", "gguf")}


# --------------------------------------------------------------------------- driver


def _available(runtime: str) -> str:
    """Empty string when the runtime's modules are importable, else what is missing."""
    missing = [m for m in REQUIRES[runtime] if importlib.util.find_spec(m) is None]
    return ", ".join(missing)


def _run_worker(runtime: str, threads: int, max_tokens: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        runtime,
        "--threads",
        str(threads),
        "--max-tokens",
        str(max_tokens),
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.setdefault("TQDM_DISABLE", "1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    tail = (proc.stderr or proc.stdout)[-800:]
    return {"runtime": runtime, "threads": threads, "error": f"exit {proc.returncode}: {tail}"}


def _print_table(results: list[dict[str, Any]]) -> None:
    header = (
        f"{'runtime':<13} {'version':<15} {'thr':>3} {'load s':>7} {'RSS MB':>7} "
        f"{'peak MB':>8} {'tok/s':>7} {'wall tok/s':>10} {'json':>5}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        if "error" in r:
            print(f"{r['runtime']:<13} {'':<15} {r['threads']:>3}  ERROR {r['error'][:200]}")
            continue
        json_flag = {True: "ok", False: "bad", None: "-"}[r.get("json_valid")]
        print(
            f"{r['runtime']:<13} {r['version']:<15} {r['threads']:>3} {r['load_s']:>7.2f} "
            f"{r['rss_end_mb']:>7.0f} {r['peak_mb']:>8.0f} {r['tok_s']:>7.1f} "
            f"{r['tok_s_wall']:>10.1f} {json_flag:>5}"
        )
    print()
    for r in results:
        if "error" in r:
            continue
        print(f"[{r['runtime']}, {r['threads']} thread(s)]")
        for question, answer in zip(PROMPTS, r["answers"], strict=True):
            print(textwrap.fill(f"Q: {question}  A: {answer}", 100, subsequent_indent="    "))
        if r.get("json_output"):
            print(f"  constrained JSON ({'valid' if r['json_valid'] else 'INVALID'}):")
            print(textwrap.indent(r["json_output"].strip(), "    "))
        print()


def main(argv: list[str] | None = None) -> int:
    """Entry point; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtimes", default="xllamacpp,transformers")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--json", action="store_true", help="also print the raw results")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    gguf = resolve(ASSET)
    if args.worker:
        result = WORKERS[args.worker](gguf, int(args.threads), args.max_tokens)
        print(RESULT_MARK + json.dumps(result), flush=True)
        return 0

    print(f"model: {gguf} ({gguf.stat().st_size / 1e6:.1f} MB), CPUs: {os.cpu_count()}")
    results = []
    for runtime in [r.strip() for r in args.runtimes.split(",") if r.strip()]:
        if runtime not in WORKERS:
            parser.error(f"unknown runtime {runtime!r}; choose from {sorted(WORKERS)}")
        missing = _available(runtime)
        if missing:
            print(f"skipping {runtime}: not importable ({missing})")
            continue
        for threads in [int(t) for t in args.threads.split(",")]:
            print(f"running {runtime} with {threads} thread(s) ...", flush=True)
            results.append(_run_worker(runtime, threads, args.max_tokens))
    print()
    _print_table(results)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
