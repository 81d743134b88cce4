"""Multimodal lab: a wind-image captioner trained from scratch (U6, lecture 8).

Composes :mod:`wxai.products.descriptors.captioning` (data, training, scoring) and
:mod:`wxai.viz.captioning` (figures); holds settings, figures and the acceptance check.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from wxai.core.device import torch_threads
from wxai.core.errors import ConfigError
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

U6 = "U6 Multimodal"
DAY = 2


class CaptionerConfig(LabConfig):
    """Settings of the wind-image captioner lab."""

    n_train: int = Field(ge=16, description="generated (image, caption) training pairs")
    n_test: int = Field(ge=16, description="unseen fields the captions are scored on")
    image_size: int = Field(ge=8, le=128, description="image edge [pixels]")
    field_size: int = Field(ge=8, le=128, description="edge of the synthetic wind field [points]")
    patch_size: int = Field(ge=2, description="ViT patch edge [pixels]")
    width: int = Field(ge=8, description="encoder and decoder width")
    heads: int = Field(ge=1, description="attention heads (must divide width)")
    vision_layers: int = Field(ge=1, le=12)
    text_layers: int = Field(ge=1, le=12)
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    speed_min: float = Field(ge=0, description="slowest mean speed drawn [m/s]")
    speed_max: float = Field(le=39.5, description="fastest mean speed drawn [m/s]")
    tolerance: float = Field(gt=0, description="speed tolerance of a hit [m/s]")
    examples: int = Field(ge=1, le=24, description="images in the examples figure")
    torch_threads: int | None = Field(ge=1, description="intra-op torch threads (None: leave)")

    @model_validator(mode="after")
    def _geometry(self) -> CaptionerConfig:
        if self.image_size % self.patch_size:
            raise ConfigError(
                f"image_size={self.image_size} is not divisible by patch_size={self.patch_size}"
            )
        if self.width % self.heads:
            raise ConfigError(f"width={self.width} is not divisible by heads={self.heads}")
        if self.speed_min >= self.speed_max:
            raise ConfigError(f"speed_min={self.speed_min} must be below speed_max")
        return self


@lab(
    "wind-image-captioner",
    title="Wind images to words: a ViT encoder bridged into a text decoder, trained from scratch",
    topic=U6,
    day=DAY,
    config=CaptionerConfig,
)
def wind_image_captioner(cfg: CaptionerConfig, ctx: LabContext) -> LabOutcome:
    """Train the captioner on generated pairs; score sector and speed on unseen fields."""
    import numpy as np

    from wxai.products.descriptors.captioning import (
        caption_tokenizer,
        evaluate_captions,
        generate_captions,
        make_caption_data,
        most_common_caption,
        train_captioner,
    )

    ctx.progress(0.0, "rendering wind fields")
    shape = (cfg.field_size, cfg.field_size)
    speeds = (cfg.speed_min, cfg.speed_max)
    train = make_caption_data(
        cfg.n_train, ctx.rng, image_size=cfg.image_size, field_shape=shape, speed_range=speeds
    )
    test = make_caption_data(
        cfg.n_test, ctx.rng, image_size=cfg.image_size, field_shape=shape, speed_range=speeds
    )
    tokenizer = caption_tokenizer()
    with torch_threads(cfg.torch_threads):
        model, losses = train_captioner(
            train,
            tokenizer,
            patch_size=cfg.patch_size,
            width=cfg.width,
            heads=cfg.heads,
            vision_layers=cfg.vision_layers,
            text_layers=cfg.text_layers,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            lr=cfg.lr,
            seed=cfg.seed,
            progress=lambda f, m: ctx.progress(0.2 + 0.7 * f, m),
        )
        generated = generate_captions(model, tokenizer, test.images)
    scores = evaluate_captions(generated, test.cases, cfg.tolerance)
    constant = most_common_caption(train.captions)
    baseline = evaluate_captions([constant] * len(test.cases), test.cases, cfg.tolerance)
    metrics = {
        "sector_accuracy": scores.sector_accuracy,
        "speed_within_tolerance": scores.speed_within,
        "speed_mae": scores.speed_mae,
        "grammatical_fraction": scores.grammatical,
        "worst_rate": min(scores.sector_accuracy, scores.speed_within),
        "baseline_sector_accuracy": baseline.sector_accuracy,
        "baseline_speed_within_tolerance": baseline.speed_within,
        "baseline_speed_mae": baseline.speed_mae,
        "baseline_worst_rate": min(baseline.sector_accuracy, baseline.speed_within),
        "final_train_loss": losses[-1],
    }
    _figures(ctx, cfg, test=test, generated=generated, losses=losses, scores=(scores, baseline))
    ctx.progress(1.0, "done")
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="worst_rate",
            value=metrics["worst_rate"],
            comparison=">=",
            threshold=0.8,
            baseline=(
                "on unseen fields, sector right and speed within "
                f"{cfg.tolerance:g} m/s both at least 80 %; baseline: always "
                f"'{constant}' (the training set's most common caption)"
            ),
            baseline_value=metrics["baseline_worst_rate"],
        ),
        summary=(
            f"On {cfg.n_test} unseen fields: sector right {scores.sector_accuracy:.1%}, speed "
            f"within {cfg.tolerance:g} m/s {scores.speed_within:.1%} (MAE "
            f"{scores.speed_mae:.2f} m/s), grammatical {scores.grammatical:.0%}; the constant "
            f"caption '{constant}': {baseline.sector_accuracy:.1%} and "
            f"{baseline.speed_within:.1%}. Final loss {losses[-1]:.3f} nats/token "
            f"({int(np.sum([p.numel() for p in model.parameters()]))} parameters)."
        ),
    )


def _figures(ctx: LabContext, cfg: CaptionerConfig, *, test, generated, losses, scores) -> None:
    import numpy as np

    from wxai.products.descriptors.captioning import DIRECTION_NAMES, rates_by_speed_bin
    from wxai.viz.captioning import (
        caption_accuracy_figure,
        caption_examples_figure,
        caption_loss_figure,
    )

    model_scores, baseline = scores
    shown = min(cfg.examples, len(test.cases))
    hits = model_scores.sector_right & model_scores.speed_hits
    fig = caption_examples_figure(
        test.images[:shown], test.captions[:shown], generated[:shown], hits[:shown]
    )
    ctx.save_figure(fig, "captioner_examples.png")
    ctx.save_figure(caption_loss_figure(losses), "captioner_loss.png")
    edges = np.arange(np.floor(cfg.speed_min), cfg.speed_max + 4.0, 4.0)  # 4 m/s bins
    speeds = np.array([case.speed for case in test.cases])
    sector_rate, speed_rate, _ = rates_by_speed_bin(model_scores, speeds, edges)
    fig = caption_accuracy_figure(
        edges,
        sector_rate,
        speed_rate,
        model_scores.confusion(),
        DIRECTION_NAMES,
        baseline=(baseline.sector_accuracy, baseline.speed_within),
        tolerance=cfg.tolerance,
    )
    ctx.save_figure(fig, "captioner_accuracy.png")
