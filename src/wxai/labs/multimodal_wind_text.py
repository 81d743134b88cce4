"""Lab ``wind-symbolic-text``: wind fields to descriptors to words (U6, lecture 8, Example A).

Synthetic fields with known answers are reduced to descriptors
(:mod:`wxai.products.descriptors.wind`), checked against those answers, turned into a
template sentence and into LLM text (:mod:`wxai.assistant.describe_wind`); a checker scores
every text for the direction and speed it states.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, model_validator

from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

U6 = "U6 Multimodal"
DAY = 2


class WindTextConfig(LabConfig):
    """Settings of ``wind-symbolic-text``."""

    n_fields: int = Field(ge=1, description="known-answer fields whose descriptors are checked")
    n_llm_fields: int = Field(ge=0, description="of those, fields described by each LLM alias")
    aliases: list[str] = Field(default_factory=lambda: ["local-fast"], description="LLM aliases")
    shape: tuple[int, int] = Field(default=(32, 32), description="grid (latitude, longitude)")
    speed_range: tuple[float, float] = (2.0, 25.0)
    spread_range: tuple[float, float] = (5.0, 25.0)
    gustiness_range: tuple[float, float] = (0.03, 0.12)
    boost_range: tuple[float, float] = (1.5, 2.0)
    sector_probability: float = Field(default=0.8, ge=0, le=1)
    min_contrast: float = Field(default=0.2, ge=0, description="stronger-sector threshold")
    max_direction_error: float = Field(default=10.0, gt=0, description="degrees, descriptors")
    max_speed_error: float = Field(default=0.1, gt=0, description="m/s, descriptors")
    required_rate: float = Field(default=0.95, gt=0, le=1)
    abs_tolerance: float = Field(default=2.0, ge=0, description="checker speed tolerance m/s")
    rel_tolerance: float = Field(default=0.2, ge=0, description="checker speed tolerance, rel.")
    region: str = "the German Bight"
    max_tokens: int = Field(default=80, ge=8, le=512)
    n_panels: int = Field(default=4, ge=1, le=9, description="fields shown in the figure")

    @model_validator(mode="after")
    def _llm_fields_fit(self) -> WindTextConfig:
        if self.n_llm_fields > self.n_fields:
            from wxai.core.errors import ConfigError

            raise ConfigError(f"n_llm_fields ({self.n_llm_fields}) > n_fields ({self.n_fields})")
        return self


@lab(
    "wind-symbolic-text",
    title="Wind fields to text: symbolic descriptors, template and LLM text, checked",
    topic=U6,
    day=DAY,
    config=WindTextConfig,
)
def wind_symbolic_text(cfg: WindTextConfig, ctx: LabContext) -> LabOutcome:
    """Descriptors of known-answer wind fields, template text and LLM text, all scored."""
    import numpy as np

    from wxai.assistant.describe_wind import check_wind_text, generate_wind_text
    from wxai.assistant.llm.registry import get_provider
    from wxai.core.errors import ProviderError
    from wxai.products.descriptors.fields import synthetic_wind_field
    from wxai.products.descriptors.wind import describe_wind, known_answer_errors, sample_wind_cases

    ctx.progress(0.05, f"{cfg.n_fields} known-answer fields")
    cases = sample_wind_cases(
        cfg.n_fields, ctx.rng, speed=cfg.speed_range, spread=cfg.spread_range,
        gustiness=cfg.gustiness_range, boost=cfg.boost_range,
        sector_probability=cfg.sector_probability,
    )  # fmt: skip
    fields = [synthetic_wind_field(c, ctx.rng, shape=cfg.shape) for c in cases]
    descriptors = [describe_wind(f, min_contrast=cfg.min_contrast) for f in fields]
    errors = [known_answer_errors(c, d) for c, d in zip(cases, descriptors, strict=True)]
    right = [
        e["direction_error"] <= cfg.max_direction_error
        and e["speed_error"] <= cfg.max_speed_error
        and e["sector_ok"] == 1.0
        for e in errors
    ]
    tolerances = {"abs_tolerance": cfg.abs_tolerance, "rel_tolerance": cfg.rel_tolerance}
    templates = [d.template_text(cfg.region) for d in descriptors]
    template_ok = [
        check_wind_text(t, d, **tolerances).ok for t, d in zip(templates, descriptors, strict=True)
    ]
    metrics: dict[str, float] = {
        "descriptor_rate": float(np.mean(right)),
        "direction_error_max": max(e["direction_error"] for e in errors),
        "direction_error_mean": float(np.mean([e["direction_error"] for e in errors])),
        "speed_error_max": max(e["speed_error"] for e in errors),
        "sector_rate": float(np.mean([e["sector_ok"] for e in errors])),
        "template_rate": float(np.mean(template_ok)),
    }
    records: list[dict[str, Any]] = [
        {"case": vars(c), "descriptors": d.as_dict(), "errors": e, "template": t}
        for c, d, e, t in zip(cases, descriptors, errors, templates, strict=True)
    ]
    failed_aliases: dict[str, str] = {}
    for k, alias in enumerate(cfg.aliases):
        ctx.progress(0.2 + 0.7 * k / max(len(cfg.aliases), 1), f"LLM text by {alias}")
        try:
            provider = get_provider(alias)
            texts = [
                generate_wind_text(d, provider, region=cfg.region, max_tokens=cfg.max_tokens)
                for d in descriptors[: cfg.n_llm_fields]
            ]
        except ProviderError as exc:
            failed_aliases[alias] = str(exc)
            continue
        checks = [
            check_wind_text(t, d, **tolerances)
            for t, d in zip(texts, descriptors, strict=False)
        ]  # fmt: skip
        for record, check in zip(records, checks, strict=False):
            record.setdefault("llm", {})[alias] = {
                "text": check.text, "direction_ok": check.direction_ok,
                "speed_ok": check.speed_ok, "ok": check.ok,
            }  # fmt: skip
        if checks:
            metrics[f"llm_rate_{alias}"] = float(np.mean([c.ok for c in checks]))
            metrics[f"llm_direction_rate_{alias}"] = float(
                np.mean([c.direction_ok for c in checks])
            )
            metrics[f"llm_speed_rate_{alias}"] = float(np.mean([c.speed_ok for c in checks]))

    path = ctx.run_dir / "wind_texts.json"
    path.write_text(json.dumps({"fields": records, "failed_aliases": failed_aliases}, indent=2))
    ctx.tracker.log_artifact(path)
    _figure(ctx, cfg, fields[: cfg.n_panels], records[: cfg.n_panels])

    llm = ", ".join(
        f"{a} {metrics[f'llm_rate_{a}']:.0%} (direction {metrics[f'llm_direction_rate_{a}']:.0%}, "
        f"speed {metrics[f'llm_speed_rate_{a}']:.0%})"
        for a in cfg.aliases
        if f"llm_rate_{a}" in metrics
    )
    failed = "; ".join(f"{a} unavailable: {why}" for a, why in failed_aliases.items())
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="descriptor_rate",
            # The template must be right on every field: otherwise the lab fails.
            value=metrics["descriptor_rate"] if metrics["template_rate"] == 1.0 else float("nan"),
            comparison=">=",
            threshold=cfg.required_rate,
            baseline=(
                f"share of fields with direction within {cfg.max_direction_error:g} degrees, "
                f"mean speed within {cfg.max_speed_error:g} m/s and the stronger half (or none) "
                "recovered, with the template text passing the checker on every field"
            ),
        ),
        summary=(
            f"descriptors right on {metrics['descriptor_rate']:.0%} of {cfg.n_fields} fields "
            f"(max direction error {metrics['direction_error_max']:.2f} deg, sector "
            f"{metrics['sector_rate']:.0%}); template {metrics['template_rate']:.0%}; LLM text "
            f"on {cfg.n_llm_fields} fields: {llm or 'none'}" + (f"; {failed}" if failed else "")
        ),
    )


def _figure(ctx: LabContext, cfg: WindTextConfig, fields: list, records: list[dict]) -> None:
    from wxai.viz.wind_descriptors import plot_wind_descriptor_panels

    texts, titles = [], []
    for record in records:
        text = f"Template: {record['template']}"
        for alias, answer in record.get("llm", {}).items():
            verdict = "agrees" if answer["ok"] else "disagrees"
            said = answer["text"] if len(answer["text"]) <= 200 else answer["text"][:200] + "..."
            text += f"\n{alias} ({verdict}): {said}"
        texts.append(text)
        case = record["case"]
        sector = case["sector"] or "none"
        titles.append(
            f"truth: from {case['direction']:.0f}°, {case['speed']:.1f} m/s, stronger: {sector}"
        )
    fig = plot_wind_descriptor_panels(fields, texts, titles=titles)
    ctx.save_figure(fig, "wind_symbolic_text.png")
