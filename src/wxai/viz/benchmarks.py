"""Figures of compute benchmarks: cost per element of kernel backends, their agreement
with a reference, and matrix-product throughput per device and precision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_grouped_bars(
    ax: Axes,
    groups: Sequence[str],
    values: Mapping[str, Sequence[float]],
    *,
    colours: Mapping[str, str],
    names: Mapping[str, str] | None = None,
    floor: float | None = None,
    bar_labels: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Bars grouped by ``groups``, one bar per series of ``values`` in each group.

    Parameters
    ----------
    values:
        ``{series: one value per group}``.
    colours, names:
        Colour and legend name per series (default name: the key).
    floor:
        Values below it are drawn at ``floor`` (for zeros on a log axis).
    bar_labels:
        Text above each bar per series (default: the value to 2 significant digits).
    """
    width = 0.8 / len(values)
    positions = np.arange(len(groups))
    for j, (series, heights) in enumerate(values.items()):
        drawn = [max(v, floor) for v in heights] if floor is not None else list(heights)
        bars = ax.bar(
            positions + (j - (len(values) - 1) / 2) * width,
            drawn,
            width,
            label=(names or {}).get(series, series),
            color=colours[series],
        )
        texts = (bar_labels or {}).get(series, [f"{v:.2g}" for v in heights])
        ax.bar_label(bars, labels=list(texts), fontsize=7, padding=1)
    ax.set_xticks(positions, list(groups))


def plot_backend_curves(
    ax: Axes,
    x: np.ndarray,
    reference: np.ndarray,
    others: Mapping[str, np.ndarray],
    *,
    colours: Mapping[str, str],
    markers: Mapping[str, str],
    every: int = 8,
    reference_label: str = "NumPy",
) -> None:
    """A reference curve and other backends' results at every ``every``-th point as markers."""
    ax.plot(x, reference, "k-", lw=2, label=reference_label)
    for name, values in others.items():
        ax.plot(
            x[::every],
            values[::every],
            markers[name],
            color=colours[name],
            ms=6,
            mfc="none",
            label=name,
        )
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)


def matmul_figure(
    timings: Sequence[Any],
    *,
    sizes: Sequence[int],
    repeats: int,
    tolerance: float,
    skipped: Mapping[str, str] | None = None,
) -> Figure:
    """Throughput and error of square matrix products against the matrix size.

    Parameters
    ----------
    timings:
        Objects with ``device``, ``dtype``, ``n``, ``tflops`` and ``rel_error``
        attributes (:class:`wxai.train.throughput.MatmulTiming`); one line per
        (device, dtype), coloured by device, styled by dtype.
    sizes:
        Sizes for the x ticks.
    skipped:
        ``{what: why}`` noted under the figure.
    """
    import matplotlib.pyplot as plt

    fig, (ax_rate, ax_err) = plt.subplots(1, 2, figsize=(12, 4.4))
    styles = {"float32": "o-", "float16": "s--", "bfloat16": "^-."}
    series: dict[tuple[str, str], list[Any]] = {}
    for timing in timings:
        series.setdefault((timing.device, timing.dtype), []).append(timing)
    devices = list(dict.fromkeys(device for device, _ in series))
    for (device, dtype), points in series.items():
        colour = f"C{devices.index(device)}"
        n = [p.n for p in points]
        label = f"{device} {dtype}"
        style = styles.get(dtype, "o-")
        ax_rate.plot(n, [p.tflops for p in points], style, color=colour, label=label)
        ax_err.plot(n, [p.rel_error for p in points], style, color=colour, label=label)
    ticks = sorted(set(sizes))
    for ax in (ax_rate, ax_err):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(ticks, [str(n) for n in ticks])
        ax.minorticks_off()
        ax.grid(alpha=0.3, which="both")
        ax.set_xlabel("matrix size n (n x n times n x n)")
    ax_rate.set(
        ylabel="throughput [TFLOP/s] = 2 n\u00b3 / t / 1e12",
        title=f"Matrix-product throughput (best of {repeats})",
    )
    ax_err.axhline(tolerance, color="C3", lw=1, ls=":", label=f"float32 tolerance {tolerance:g}")
    ax_err.set(
        ylabel="max |C - C_ref| / max |C_ref|",
        title="Error vs NumPy float64 product of the same matrices",
    )
    ax_rate.legend(fontsize=8)
    ax_err.legend(fontsize=8)
    if skipped:
        note = "skipped: " + "; ".join(f"{k} ({v})" for k, v in skipped.items())
        fig.text(0.01, -0.02, note, fontsize=8, color="0.35", ha="left", va="top", wrap=True)
    fig.tight_layout()
    return fig
