"""Tool calling with the embedded local model: valid-call and right-tool rates per strategy.

Runs the packaged evaluation set (35 weather requests, 5 tools) through each
strategy of :class:`wxai.assistant.llm.tools.ToolCaller` with the local GGUF model
(SmolLM2-135M-Instruct, greedy) and prints one row per strategy. The baseline is a
one-step constrained call with one-line tool descriptions; the rows after it add
the improvements one at a time. The ``semantic`` rows choose the tool by MiniLM
sentence-embedding similarity (no model request) and fill its arguments in one
constrained request; "hints" lists each argument with its description and asks
for numbers copied with their sign, "grounded" restricts required numbers to those
written in the request, "top-2" lets the model choose between the two closest tools.
The JSON-block rows show the same model without constrained decoding, before
(first attempt) and after one retry with the error.

Usage::

    .venv/bin/python benchmarks/tool_calling.py [--only LABEL ...] [--show-errors]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from wxai.assistant.llm.local import LocalProvider
from wxai.assistant.llm.tools.evaluation import evaluate_tool_calling, load_cases
from wxai.assistant.llm.tools.router import SemanticRouter
from wxai.assistant.llm.tools.weather import weather_tools

_OLD_FILL = {"argument_hints": False}  # the signature and description (the default)
_HINTS = {"argument_hints": True}

#: label -> (strategy, detailed descriptions, few-shot: "" (none), "turns" or "system",
#: further ToolCaller options)
RUNS: dict[str, tuple[str, bool, str, dict[str, Any]]] = {
    "baseline: constrained, plain descriptions": ("constrained", False, "", {}),
    "constrained + clear descriptions": ("constrained", True, "", {}),
    "constrained + clear + few-shot as chat turns": ("constrained", True, "turns", {}),
    "constrained + clear + few-shot in system prompt": ("constrained", True, "system", {}),
    "routed (name enum, then arguments), plain": ("routed", False, "", _OLD_FILL),
    "routed + clear descriptions": ("routed", True, "", _OLD_FILL),
    "routed + clear + argument hints": ("routed", True, "", _HINTS),
    "routed + clear + few-shot as chat turns": ("routed", True, "turns", _OLD_FILL),
    "routed + clear + few-shot in system prompt": ("routed", True, "system", _OLD_FILL),
    "semantic (embedding route), signature only": ("semantic", True, "", _OLD_FILL),
    "semantic + argument hints": ("semantic", True, "", _HINTS),
    "semantic + hints + grounded numbers": (
        "semantic",
        True,
        "",
        {**_HINTS, "ground_numbers": True},
    ),
    "semantic top-2 + model choice + hints": ("semantic", True, "", {**_HINTS, "shortlist": 2}),
    "json_block (no constraint), plain": ("json_block", False, "", {}),
    "json_block (no constraint), clear + few-shot turns": ("json_block", True, "turns", {}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="substrings of the run labels to keep")
    parser.add_argument("--show-errors", action="store_true", help="print every miss")
    args = parser.parse_args()
    provider = LocalProvider()
    cases = load_cases()
    print(f"model {provider.model}, {len(cases)} prompts, {len(weather_tools())} tools")
    router = None
    header = (
        f"{'run':48s} {'valid':>6s} {'valid@1':>7s} {'right':>6s} {'args':>6s} {'s/prompt':>8s}"
    )
    print(header)
    for label, (strategy, detailed, shots, extra) in RUNS.items():
        if args.only and not any(part in label for part in args.only):
            continue
        if strategy == "semantic":
            if router is None:  # load MiniLM and embed the tools' texts once, outside timings
                start = time.perf_counter()
                router = SemanticRouter(weather_tools())
                router.rank("warm-up")
                print(f"  (semantic router ready in {time.perf_counter() - start:.1f} s)")
            options = {**extra, "router": router}
            tools = router.tools
        else:
            options = extra
            tools = weather_tools(detailed=detailed, examples=bool(shots))
        result = evaluate_tool_calling(
            provider,
            tools,
            cases,
            strategy=strategy,
            few_shot=bool(shots),
            shot_style=shots or "system",
            label=label,
            **options,
        )
        s = result.summary()
        print(
            f"{label:48s} {s['valid_rate']:6.3f} {s['first_valid_rate']:7.3f} "
            f"{s['right_tool_rate']:6.3f} {s['argument_accuracy']:6.3f} "
            f"{s['seconds_per_prompt']:8.2f}",
            flush=True,
        )
        if args.show_errors:
            for r in result.results:
                if not r.arguments_match:
                    print(f"    {r.case.prompt!r}: expected {r.case.tool} {dict(r.case.arguments)}")
                    print(f"      got {r.tool} {dict(r.arguments)} {r.error[:200]}")


if __name__ == "__main__":
    main()
