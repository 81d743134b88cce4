"""The weather workflow on its evaluation set: rules alone, and with the local model.

Usage: ``python benchmarks/weather_workflow.py [--alias local-fast] [--limit N]``.
Every request of ``tests/assistant/agents/weather_requests.yaml`` goes through
:func:`wxai.assistant.agents.router.handle_request` offline (cached or synthetic
data, a fixed "now" per request), twice: with rules only (no language model),
and with the model as the router's fall-back and as the place extractor for
what the gazetteer does not find. A request scores when the router takes the
expected action (the workflow; a clarifying question for an unknown place) and
the workflow ends as labelled (numbers for the right place; or the failing step:
time, place, or range), with run and lead time in the answer when it answers.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import yaml

SET = Path(__file__).parents[1] / "tests" / "assistant" / "agents" / "weather_requests.yaml"
FAILED_STEP = {"time_error": "time", "place_unknown": "place", "out_of_range": "run"}


def _score(item: dict, final: dict) -> tuple[bool, str]:
    """Whether the outcome is the labelled one, and what happened (for the table)."""
    decision, result = final["decision"], final["result"]
    outcome = item.get("outcome") or "ok"
    if decision.action == "clarify":
        untimed = item["expect"].get("time") in (None, {"next_hour": True}, {"current_hour": True})
        ok = outcome == "place_unknown" or (outcome == "no_place" and untimed)
        return ok, "clarify"
    if decision.action != "weather":
        return False, decision.action
    fatal = [e["step"] for e in result.get("errors", []) if e["fatal"]]
    if outcome in FAILED_STEP:
        return fatal[:1] == [FAILED_STEP[outcome]], f"failed at {fatal[:1]}"
    if fatal:
        return False, f"failed at {fatal[:1]}"
    place = (result.get("place") or {}).get("name")
    expected = item["expect"].get("place")
    want = expected.get("name") if isinstance(expected, dict) else None
    provenance = "lead time +" in final["answer"]
    return place == want and provenance, f"answered for {place}"


def main() -> None:
    from wxai.assistant.agents.router import RequestContext, handle_request
    from wxai.assistant.agents.weather.where import model_place_extractor
    from wxai.assistant.llm.registry import get_provider

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alias", default="local-fast", help="model alias for the second pass")
    parser.add_argument("--limit", type=int, default=0, help="only the first N requests")
    args = parser.parse_args()
    data = yaml.safe_load(SET.read_text())
    items = data["requests"][: args.limit or None]
    provider = get_provider(args.alias)
    rows = []
    for label, model in (("rules only", None), (f"rules + {args.alias}", provider)):
        scores, kinds, start = [], Counter(), time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            for item in items:
                now = datetime.fromisoformat(item.get("now") or data["now"])
                ctx = RequestContext(
                    provider=model,
                    offline=True,
                    work_dir=Path(tmp),
                    now=lambda now=now: now,
                    timezone=data.get("tz", "Europe/Berlin"),
                    place_extractor=model_place_extractor(model) if model else None,
                )
                final = list(handle_request(item["text"], ctx))[-1].state
                ok, what = _score(item, final)
                scores.append(ok)
                kinds[final["decision"].decided_by] += 1
                if not ok:
                    print(f"  [{label}] {item['text']!r}: expected {item.get('outcome')}, {what}")
        seconds = (time.perf_counter() - start) / len(items)
        rows.append((label, sum(scores) / len(scores), dict(kinds), seconds))
    print(f"\nweather workflow on {len(items)} requests ({SET.name}), offline:")
    print(f"{'configuration':28s} {'score':>6s}  {'decided by':32s} {'s/request':>9s}")
    for label, score, kinds, seconds in rows:
        print(f"{label:28s} {score:6.3f}  {kinds!s:32s} {seconds:9.2f}")


if __name__ == "__main__":
    main()
