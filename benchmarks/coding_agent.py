"""The coding agent on 22 checked tasks: success at the first attempt and after repairs.

Each task of :data:`wxai.assistant.agents.coding_tasks.TASKS` (the lecture's
polynomial bounded by 10 on [-10, 10], a 3D surface saved as PNG, small numeric,
statistics, string and file tasks) goes through :func:`~wxai.assistant.agents.coder.run_coder`:
the model writes a program, the bubblewrap sandbox runs it with the task's check,
failures go back with their traceback, up to ``--max-attempts`` programs.

The reference measured in the same run is the first attempt: "pass@1" is what
the model alone gives, "after retries" what the loop adds. Default models: every
alias of ``configs/models.yaml`` served by the embedded local backend.

Usage::

    .venv/bin/python benchmarks/coding_agent.py [--alias local-fast ...] [--max-attempts 3]
        [--only polynomial-bounded hello] [--show-failures]
"""

from __future__ import annotations

import argparse
import time

from wxai.assistant.agents.coder import run_coder
from wxai.assistant.agents.coding_tasks import get_tasks
from wxai.assistant.agents.sandbox import ensure_sandbox
from wxai.assistant.llm.registry import get_provider, list_models
from wxai.assistant.llm.types import Message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alias", nargs="*", help="model aliases (default: local ones)")
    parser.add_argument("--max-attempts", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=320)
    parser.add_argument("--only", nargs="*", help="task names to run")
    parser.add_argument("--show-failures", action="store_true", help="print each failure")
    args = parser.parse_args()
    print("sandbox:", ensure_sandbox())
    aliases = args.alias or [m.alias for m in list_models() if m.backend == "local"]
    tasks = get_tasks(args.only)
    print(f"{len(tasks)} tasks, at most {args.max_attempts} attempts, {args.max_tokens} tokens")
    header = f"{'alias':14s} {'pass@1':>7s} {'after retries':>13s} {'mean attempts':>13s}"
    print(header + f" {'s/task':>7s} {'stops':s}")
    for alias in aliases:
        provider = get_provider(alias)
        provider.chat([Message.user("Hi")], max_tokens=1)  # load the model outside the timing
        start = time.perf_counter()
        results = []
        for task in tasks:
            result = run_coder(
                task.prompt,
                provider,
                max_attempts=args.max_attempts,
                max_tokens=args.max_tokens,
                check_code=task.check_code,
                check=task.host_check,
            )
            results.append(result)
            if args.show_failures:
                verdict = "ok" if result.success else result.message
                print(f"  {task.name:22s} {len(result.attempts)} attempt(s): {verdict}")
        seconds = time.perf_counter() - start
        n = len(results)
        first = sum(r.first_attempt_success for r in results) / n
        final = sum(r.success for r in results) / n
        attempts = sum(len(r.attempts) for r in results) / n
        stops: dict[str, int] = {}
        for r in results:
            stops[r.stop_reason] = stops.get(r.stop_reason, 0) + 1
        solved = ", ".join(t.name for t, r in zip(tasks, results, strict=True) if r.success)
        print(
            f"{alias:14s} {first:7.2f} {final:13.2f} {attempts:13.2f} {seconds / n:7.1f} "
            f"{dict(sorted(stops.items()))}",
            flush=True,
        )
        print(f"  solved: {solved or 'none'}")


if __name__ == "__main__":
    main()
