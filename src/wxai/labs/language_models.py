"""Language-model labs: a tiny transformer trained from scratch (course unit U4)."""

from __future__ import annotations

from pydantic import Field

from wxai.core.device import torch_threads
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

U4 = "U4 Language models"


class TinyTransformerConfig(LabConfig):
    """Settings of ``tiny-transformer``."""

    d_model: int = Field(ge=4, description="model width")
    n_heads: int = Field(ge=1, description="attention heads (must divide d_model)")
    d_ff: int = Field(ge=4, description="feed-forward width")
    n_layers: int = Field(ge=1, description="transformer blocks")
    norm_first: bool = Field(default=True, description="pre-LN (True) or post-LN blocks")
    dropout: float = Field(default=0.0, ge=0, lt=1)
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    prompt: str = Field(description="prompt continued by every decoding strategy")
    expected: str = Field(description="word the greedy continuation of the prompt must contain")
    attention_text: str = Field(description="sentence whose attention maps are plotted")
    max_new_tokens: int = Field(ge=1)
    n_samples: int = Field(ge=1, description="continuations drawn per sampling strategy")
    temperature: float = Field(gt=0, description="temperature of the sampling strategies")
    top_k: int = Field(ge=1)
    top_p: float = Field(gt=0, le=1)
    repetition_penalty: float = Field(gt=0)
    loss_threshold: float = Field(gt=0, description="acceptance: final training loss below this")
    torch_threads: int | None = Field(default=1, ge=1, description="intra-op threads")


@lab(
    "tiny-transformer",
    title="A decoder-only transformer from its parts learns a toy corpus; decoding strategies",
    topic=U4,
    day=2,
    config=TinyTransformerConfig,
)
def tiny_transformer(cfg: TinyTransformerConfig, ctx: LabContext) -> LabOutcome:
    """Train the tinylm on the packaged toy corpus, then decode a prompt several ways.

    Long only through the steps of the exercise written out in order and its LabOutcome
    (metrics, acceptance, summary); every computation is a library call.
    """
    import torch

    from wxai.assistant.llm.tinylm import (
        Decoding,
        TinyLM,
        TinyLMConfig,
        WordTokenizer,
        corpus_loss,
        load_toy_corpus,
        train_tinylm,
    )
    from wxai.viz.attention_plots import loss_and_attention_figure

    sentences = load_toy_corpus()
    tokenizer = WordTokenizer.from_texts(sentences)
    model = TinyLM(
        tokenizer,
        TinyLMConfig(
            d_model=cfg.d_model,
            n_heads=cfg.n_heads,
            d_ff=cfg.d_ff,
            n_layers=cfg.n_layers,
            norm_first=cfg.norm_first,
            dropout=cfg.dropout,
        ),
    )
    with torch_threads(cfg.torch_threads):
        history = train_tinylm(
            model,
            sentences,
            epochs=cfg.epochs,
            lr=cfg.lr,
            batch_size=cfg.batch_size,
            seed=cfg.seed,
            log=ctx.log_metrics,
            progress=ctx.progress,
            log_every=max(cfg.epochs // 50, 1),
        )
        final_loss = corpus_loss(model, sentences)
        strategies = {
            "greedy": Decoding(greedy=True),
            f"temperature {cfg.temperature:g}": Decoding(temperature=cfg.temperature),
            f"top-k {cfg.top_k}": Decoding(temperature=cfg.temperature, top_k=cfg.top_k),
            f"top-p {cfg.top_p:g}": Decoding(temperature=cfg.temperature, top_p=cfg.top_p),
            f"repetition penalty {cfg.repetition_penalty:g}": Decoding(
                temperature=cfg.temperature, repetition_penalty=cfg.repetition_penalty
            ),
        }
        generator = torch.Generator().manual_seed(cfg.seed)
        samples = {
            name: [
                model.generate(
                    cfg.prompt,
                    max_new_tokens=cfg.max_new_tokens,
                    decoding=decoding,
                    generator=generator,
                )
                for _ in range(1 if decoding.greedy else cfg.n_samples)
            ]
            for name, decoding in strategies.items()
        }
        tokens, maps = model.attention_maps(cfg.attention_text)
    continuation = samples["greedy"][0]
    contains = cfg.expected in continuation.split()
    ctx.tracker.log_dict(
        {"prompt": cfg.prompt, "samples": samples, "vocabulary": tokenizer.id_to_token},
        "samples.json",
    )

    fig = loss_and_attention_figure(
        history, [m.numpy() for m in maps], tokens, loss_threshold=cfg.loss_threshold,
        final_loss=final_loss,
        title=f'"{cfg.prompt}" \u2192 "{continuation}" (greedy); causal attention over '
        f'"{cfg.attention_text}"',
    )  # fmt: skip
    ctx.save_figure(fig, "tiny_transformer.png")

    metrics = {
        "final_train_loss": final_loss,
        "last_epoch_loss": history[-1],
        "greedy_contains_expected": float(contains),
        "vocabulary_size": float(tokenizer.vocab_size),
        "parameters": float(sum(p.numel() for p in model.parameters())),
    }
    for name, texts in samples.items():
        key = name.split()[0].replace("-", "_")
        metrics[f"expected_fraction_{key}"] = sum(cfg.expected in t.split() for t in texts) / len(
            texts
        )
    shown = "; ".join(f"{name}: {' | '.join(texts[:3])}" for name, texts in samples.items())
    return LabOutcome(
        metrics=metrics,
        acceptance=Acceptance(
            metric="final_train_loss",
            value=final_loss,
            comparison="<",
            threshold=cfg.loss_threshold,
            baseline=(
                f'COURSE_MAP U4: training loss < {cfg.loss_threshold:g}; greedy "{cfg.prompt}" '
                f'-> "{continuation}" (must contain "{cfg.expected}", '
                f"greedy_contains_expected = {float(contains):g})"
            ),
        ),
        summary=(
            f"{len(sentences)} sentences, {tokenizer.vocab_size} tokens; final loss "
            f'{final_loss:.4f}. "{cfg.prompt}" -> {shown}.'
        ),
    )
