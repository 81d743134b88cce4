"""Figures of retrieval: similarity matrices, retrieved-chunk scores, search scaling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "chunk_scores_figure",
    "page_similarity_figure",
    "search_scaling_figure",
    "short_label",
    "similarity_figure",
]


def short_label(text: str, width: int = 34) -> str:
    """``text`` cut to ``width`` characters (with an ellipsis) for axis labels."""
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def similarity_figure(
    sentence_sim: np.ndarray,
    query_sim: np.ndarray,
    stored: Sequence[str],
    queries: Sequence[str],
    retrieved: np.ndarray,
) -> Figure:
    """Cosine similarity between stored sentences, and of paraphrase queries to them.

    Parameters
    ----------
    sentence_sim
        Stored-vs-stored cosine similarity, shape (n, n).
    query_sim
        Query-vs-stored cosine similarity, shape (q, n); query ``i`` paraphrases
        sentence ``i`` (white square).
    stored, queries
        Texts of the n sentences and q queries.
    retrieved
        Index of the top-1 sentence of each query, shape (q,) (red cross).
    """
    n, n_q = len(stored), len(queries)
    targets = np.arange(n_q)
    top1 = float(np.mean(retrieved == targets))
    fig, (ax_s, ax_q) = plt.subplots(
        1, 2, figsize=(16, 7.5), gridspec_kw={"width_ratios": [1, 1]}, constrained_layout=True
    )
    labels = [short_label(s) for s in stored]
    image = ax_s.imshow(sentence_sim, cmap="viridis", vmin=-0.1, vmax=1.0)
    ax_s.set_xticks(range(n), labels, rotation=90, fontsize=6)
    ax_s.set_yticks(range(n), labels, fontsize=6)
    ax_s.set_title("Cosine similarity between stored sentences")
    ax_q.imshow(query_sim, cmap="viridis", vmin=-0.1, vmax=1.0, aspect="auto")
    ax_q.scatter(targets, targets, marker="s", s=40, facecolors="none", edgecolors="white")
    ax_q.scatter(retrieved, targets, marker="x", s=30, c="red", label="retrieved (top-1)")
    ax_q.set_xticks(range(n), [str(i) for i in range(n)], fontsize=6)
    ax_q.set_yticks(range(n_q), [short_label(q) for q in queries], fontsize=6)
    ax_q.set_xlabel("stored sentence (index as on the left)")
    ax_q.set_title(f"Paraphrase queries: top-1 {top1:.2f} (white square: the paraphrased one)")
    ax_q.legend(loc="upper right", bbox_to_anchor=(1.0, -0.07), fontsize=7)
    fig.colorbar(image, ax=[ax_s, ax_q], shrink=0.6, label="cosine similarity")
    return fig


def page_similarity_figure(
    similarity: np.ndarray,
    truth: np.ndarray,
    best: np.ndarray,
    page_titles: Sequence[str],
    queries: Sequence[str],
    *,
    title: str,
) -> Figure:
    """Best chunk cosine per (query, page), the answering page and the page found first.

    Parameters
    ----------
    similarity
        Shape (q, n_pages), NaN where no chunk of the page was retrieved.
    truth, best
        1-based page answering each query and the page ranked first, shape (q,).
    page_titles, queries
        Column and row labels.
    title
        Axes title.
    """
    rows = np.arange(len(queries))
    fig, ax = plt.subplots(figsize=(11, 0.45 * len(queries) + 2.5), constrained_layout=True)
    image = ax.imshow(similarity, cmap="magma", aspect="auto")
    ax.scatter(truth - 1, rows, marker="s", s=90, facecolors="none", edgecolors="cyan",
               linewidths=1.5, label="page that answers")  # fmt: skip
    ax.scatter(best - 1, rows, marker="x", c="lime", s=40, label="best page (vector)")
    ax.set_xticks(
        range(len(page_titles)),
        [f"{p + 1}. {short_label(t, 22)}" for p, t in enumerate(page_titles)],
        rotation=40, ha="right", fontsize=7,
    )  # fmt: skip
    ax.set_yticks(rows, [short_label(q, 60) for q in queries], fontsize=7)
    ax.set_title(title)
    fig.legend(loc="outside lower center", ncol=2, fontsize=8)
    fig.colorbar(image, ax=ax, label="cosine similarity")
    return fig


def chunk_scores_figure(
    rows: Sequence[Sequence[tuple[float, bool]]],
    labels: Sequence[str],
    *,
    min_score: float,
    title: str,
) -> Figure:
    """Cosine of every retrieved chunk per question, green when from the expected file.

    Parameters
    ----------
    rows
        Per question, the (cosine, from the expected file) of its hits, best first.
    labels
        Question texts, one per row.
    min_score
        Relevance floor (dashed line).
    title
        Axes title.
    """
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(rows) + 2), constrained_layout=True)
    for row, hits in enumerate(rows):
        k = max(len(hits), 1)
        for rank, (cosine, right) in enumerate(hits):
            ax.scatter(
                cosine, row + 0.12 * (rank - k / 2) / k, s=60 if rank == 0 else 25,
                c="C2" if right else "C7", edgecolors="k" if rank == 0 else "none",
            )  # fmt: skip
    ax.axvline(min_score, color="C3", ls="--", label=f"relevance floor {min_score:g}")
    ax.scatter([], [], c="C2", label="chunk from the expected file")
    ax.scatter([], [], c="C7", label="other chunk (big dot: rank 1)")
    ax.set_yticks(range(len(labels)), [short_label(t, 50) for t in labels], fontsize=8)
    ax.invert_yaxis()
    ax.set(xlabel="cosine similarity of retrieved chunks to the question", title=title)
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=8, loc="lower right")
    return fig


_STYLES = {"loop": "C3o-", "numpy": "C1s-", "flat": "C0D-", "ivf": "C2^-", "hnsw": "C4v-"}


def search_scaling_figure(
    rows: Sequence[dict[str, float]],
    sweep: Sequence[dict[str, float]],
    names: dict[str, str],
    *,
    k: int,
    dim: int,
    min_recall: float,
) -> Figure:
    """Query time and recall against database size N, and IVF's nprobe trade-off.

    Parameters
    ----------
    rows
        Per size: ``n`` and, per method ``m`` of ``names``, ``{m}_ms`` (time per query
        [ms]) and ``{m}_recall`` where measured; ``ivf_nlist`` for the title.
    sweep
        IVF at the largest N: ``nprobe``, ``ms``, ``recall`` per setting.
    names
        Method key (loop, numpy, flat, ivf, hnsw) -> legend label.
    k, dim, min_recall
        Neighbours per query, vector dimension, recall line drawn.
    """
    fig, (ax_t, ax_r, ax_s) = plt.subplots(1, 3, figsize=(16, 4.6), constrained_layout=True)
    sizes = np.array([r["n"] for r in rows])
    for key, style in _STYLES.items():
        have = [r for r in rows if f"{key}_ms" in r]
        if have:
            ax_t.loglog([r["n"] for r in have], [r[f"{key}_ms"] for r in have], style,
                        label=names[key])  # fmt: skip
    ax_t.set(xlabel="stored vectors N", ylabel="time per query [ms]",
             title=f"One query, top-{k}, d = {dim}")  # fmt: skip
    for key in ("ivf", "hnsw"):
        have = [r for r in rows if f"{key}_recall" in r]
        if have:
            ax_r.semilogx([r["n"] for r in have], [r[f"{key}_recall"] for r in have],
                          _STYLES[key], label=names[key])  # fmt: skip
    ax_r.axhline(min_recall, color="grey", ls="--", lw=1, label=f"{min_recall:g}")
    ax_r.set(
        xlabel="stored vectors N", ylabel=f"recall@{k} vs exact", ylim=(0, 1.05),
        title="Approximate search quality", xlim=(sizes.min() / 1.5, sizes.max() * 1.5),
    )  # fmt: skip
    ax_s.plot([p["ms"] for p in sweep], [p["recall"] for p in sweep], _STYLES["ivf"])
    for p in sweep:
        ax_s.annotate(f"{int(p['nprobe'])}", (p["ms"], p["recall"]), fontsize=7,
                      textcoords="offset points", xytext=(3, -9))  # fmt: skip
    flat_ms = rows[-1]["flat_ms"]
    ax_s.axvline(flat_ms, color="C0", ls="--", label=f"exact flat {flat_ms:.2f} ms")
    ax_s.axhline(min_recall, color="grey", ls=":", lw=1)
    ax_s.set_xscale("log")
    ax_s.set(xlabel="time per query [ms]", ylabel=f"recall@{k}", ylim=(0, 1.05),
             title=f"IVF at N = {int(rows[-1]['n']):,}, nlist {int(rows[-1]['ivf_nlist'])}: "
             "nprobe")  # fmt: skip
    for ax in (ax_t, ax_r, ax_s):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    for ax in (ax_t, ax_r):
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
    return fig
