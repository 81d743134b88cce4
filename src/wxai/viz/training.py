"""Figures of training runs: loss curves, fitted functions, parameter counts, DataLoader
batches and a grid of tracked variants.

Axes-level helpers (``plot_*``) draw into an ``Axes`` the caller owns; the ``*_figure``
functions build a whole figure and return it for the caller to save.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_loss_curves(
    ax: Axes,
    curves: Mapping[str, Sequence[float]],
    *,
    styles: Mapping[str, str] | None = None,
    first: int = 1,
    xlabel: str = "epoch",
    ylabel: str = "training MSE",
    title: str = "Training loss",
    reference: tuple[float, str] | None = None,
    lw: float | None = None,
) -> None:
    """Loss curves on a logarithmic axis, one per entry of ``curves``.

    Parameters
    ----------
    curves:
        ``{label: loss per epoch (or step)}``; a legend is drawn when there is more
        than one curve or a reference line.
    styles:
        Matplotlib format per label (default ``C0``, ``C1``, ... in order).
    first:
        Number of the first epoch on the x axis (1 for epochs, 0 for steps).
    reference:
        ``(value, label)`` of a dotted horizontal line, e.g. the persistence MSE.
    """
    for index, (label, values) in enumerate(curves.items()):
        style = (styles or {}).get(label, f"C{index % 10}")
        kwargs = {} if lw is None else {"lw": lw}
        ax.semilogy(range(first, first + len(values)), values, style, label=label, **kwargs)
    if reference is not None:
        ax.axhline(reference[0], color="C7", ls=":", label=reference[1])
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    if len(curves) > 1 or reference is not None:
        ax.legend(fontsize=8)


def plot_function_fits(
    ax: Axes,
    x: np.ndarray,
    truth: np.ndarray,
    fits: Mapping[str, tuple[np.ndarray, str]],
    *,
    data: tuple[np.ndarray, np.ndarray] | None = None,
    truth_label: str = "target",
    xlabel: str = "x [rad]",
    title: str = "",
) -> None:
    """A 1D target function, fitted curves and optionally the training points.

    Parameters
    ----------
    x, truth:
        Abscissa ``(n,)`` and target values ``(n,)``.
    fits:
        ``{label: (values (n,), matplotlib format)}``.
    data:
        Training points ``(x, y)``, drawn as faint dots.
    """
    ax.plot(x, truth, "k-", lw=1.5, label=truth_label)
    for label, (values, style) in fits.items():
        ax.plot(x, values, style, lw=1.8, label=label)
    if data is not None:
        ax.scatter(data[0], data[1], s=5, c="C0", alpha=0.35, label="training data")
    ax.set(xlabel=xlabel, ylabel="y", title=title)
    ax.legend(loc="lower left", fontsize=8)


def plot_parameter_counts(
    ax: Axes, counts: Mapping[str, tuple[int, int]], *, title: str = ""
) -> None:
    """Horizontal bars of parameter counts, each annotated with its formula value.

    ``counts`` maps a network label (e.g. ``"1-16-16-1"``) to ``(counted, formula)``;
    a mismatch is marked with ``≠``.
    """
    labels = list(counts)
    positions = range(len(labels))
    ax.barh(positions, [counts[label][0] for label in labels], color="C0")
    for position, label in zip(positions, labels, strict=True):
        value, expected = counts[label]
        mark = "=" if value == expected else "\u2260"
        ax.text(value, position, f" {value} {mark} formula {expected}", va="center", fontsize=8)
    ax.set(
        yticks=list(positions),
        yticklabels=labels,
        xscale="log",
        xlabel="trainable parameters (log scale)",
        title=title,
    )
    ax.set_xlim(right=max(v for v, _ in counts.values()) * 30)
    ax.invert_yaxis()


def batch_maps_figure(
    tables: Mapping[str, np.ndarray], titles: Mapping[str, str], *, batch_size: int
) -> Figure:
    """Which batch carried each sample, epoch by epoch, for several loaders side by side.

    Parameters
    ----------
    tables:
        ``{name: (epochs, n_samples) int}`` batch number of each sample
        (:func:`wxai.train.batches.batch_number_map`); all of the same shape.
    titles:
        Panel title per name.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import BoundaryNorm

    first = next(iter(tables.values()))
    n_epochs, n_samples = first.shape
    n_batches = int(first.max()) + 1
    cmap = plt.get_cmap("Set3" if n_batches <= 12 else "tab20", n_batches)
    norm = BoundaryNorm(np.arange(n_batches + 1) - 0.5, n_batches)
    fig, axes = plt.subplots(1, len(tables), figsize=(12, 0.45 * n_epochs + 2.6), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, (name, table) in zip(axes, tables.items(), strict=True):
        image = ax.imshow(table, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
        if n_samples <= 40:
            for (row, col), number in np.ndenumerate(table):
                ax.text(col, row, str(number), ha="center", va="center", fontsize=7)
        ax.set(
            title=titles[name],
            xlabel="sample index (= its label)",
            ylabel="epoch",
            xticks=range(0, n_samples, 1 if n_samples <= 24 else 2),
            yticks=range(n_epochs),
            yticklabels=[str(e + 1) for e in range(n_epochs)],
        )
    bar = fig.colorbar(image, ax=axes, ticks=range(n_batches), fraction=0.03, pad=0.02)
    bar.set_label("batch number within the epoch (0 = first)")
    fig.suptitle(f"Which batch carries each sample ({n_samples} samples, batch size {batch_size})")
    return fig


def variant_runs_figure(
    names: Sequence[str],
    losses: Sequence[Sequence[float]],
    errors: Sequence[float],
    *,
    colours: Sequence[str],
    linestyles: Sequence[str],
    best: int,
    threshold: float,
    error_label: str = "RMSE",
) -> Figure:
    """Loss curves of a grid of trained variants and their final error, best highlighted.

    Parameters
    ----------
    names, losses, errors:
        Per variant: its name, loss per epoch and final error.
    colours, linestyles:
        Per variant, e.g. colour by one hyper-parameter and line style by another.
    best:
        Index of the best variant (thick line, green bar).
    threshold:
        Acceptance threshold of the error, a dashed line.
    """
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_bar) = plt.subplots(
        1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1.5, 1]}, layout="constrained"
    )
    for index, (name, curve) in enumerate(zip(names, losses, strict=True)):
        is_best = index == best
        ax_loss.semilogy(
            range(1, len(curve) + 1),
            curve,
            color=colours[index],
            ls=linestyles[index],
            lw=2.2 if is_best else 1.2,
            label=name + (" (best)" if is_best else ""),
        )
    ax_loss.set(
        xlabel="epoch",
        ylabel="training MSE",
        title=f"Per-epoch loss of {len(names)} child runs (colour: width, line: lr)",
    )
    ax_loss.grid(alpha=0.3)
    ax_loss.legend(fontsize=7, ncol=2)
    ax_bar.barh(
        range(len(names)), errors, color=["C2" if i == best else "0.6" for i in range(len(names))]
    )
    for position, error in enumerate(errors):
        ax_bar.text(error, position, f" {error:.3f}", va="center", fontsize=8)
    ax_bar.axvline(threshold, color="C3", ls="--", label=f"threshold {threshold}")
    ax_bar.set(
        yticks=range(len(names)),
        yticklabels=list(names),
        xlim=(0, 1.25 * max(*errors, threshold)),
        xlabel=error_label,
        title="Final error per child run (green: best)",
    )
    ax_bar.invert_yaxis()
    ax_bar.legend(fontsize=8)
    return fig
