"""AI-Var inference time for a batch of 1D cases against the closed-form 3D-Var solves.

Usage: ``python benchmarks/aivar_inference.py [--cases 1000] [--n 128] [--train 2000]
[--epochs 20]``. A translation-equivariant increment CNN is trained with the 3D-Var
cost on random cases, then both analyses are computed for the same unseen cases
(each with its own observation layout): AI-Var as one batched forward pass, 3D-Var
as one ``(H B H^T + R)`` solve per case. Times are best of three; the ratio and the
analysis RMSE of both against the truth are printed.
"""

# ruff: noqa: N806 - matrix names (B, R, H) follow the DA literature

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    import torch

    from wxai.core.device import torch_threads
    from wxai.da.ai.aivar import (
        IncrementCNN1d,
        VarStatistics,
        aivar_analysis,
        closed_form_batch,
        train_aivar,
    )
    from wxai.da.covariance import gaussian_covariance_1d, spectral_regularization
    from wxai.da.models import make_toy1d_case

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--n", type=int, default=128)
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    n, sigma_o = args.n, 0.1
    B, B_inv, B_sqrt = spectral_regularization(gaussian_covariance_1d(n, n / 20, 0.5), 1e-4)
    stats = VarStatistics(B_inv, B_sqrt, sigma_o)
    rng = np.random.default_rng(0)

    def cases(k: int):
        cs = [
            make_toy1d_case(n, int(rng.integers(n // 12, n // 6)), sigma_o, rng, b_sqrt=B_sqrt)
            for _ in range(k)
        ]
        grids = [c.y_on_grid() for c in cs]
        return (
            np.array([c.background for c in cs]),
            np.array([g[0] for g in grids]),
            np.array([g[1] for g in grids]),
            np.array([c.truth for c in cs]),
        )

    xb, y_grid, mask, _ = cases(args.train)
    torch.manual_seed(0)
    model = IncrementCNN1d(32, (1, 2, 4, 8, 16), B_sqrt=stats.tensors()[1])
    history = train_aivar(
        model, stats, xb, y_grid, mask, epochs=args.epochs, lr=3e-3, batch_size=32
    )
    txb, ty, tmask, truth = cases(args.cases)

    def best(fn) -> tuple[float, np.ndarray]:
        times, out = [], None
        for _ in range(3):
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        return min(times), out

    with torch_threads(1):
        t_ai, ai = best(lambda: aivar_analysis(model, txb, ty, tmask))
    t_var, var = best(lambda: closed_form_batch(B, txb, ty, tmask, sigma_o))

    def rmse(a: np.ndarray) -> float:
        return float(np.sqrt(np.mean((a - truth) ** 2)))

    print(
        f"{args.cases} unseen cases, n = {n}; trained {history.seconds:.1f} s, {args.epochs} epochs"
    )
    print(f"3D-Var closed form (reference): {t_var * 1e3:9.1f} ms   RMSE {rmse(var):.4f}")
    print(f"AI-Var batched inference:       {t_ai * 1e3:9.1f} ms   RMSE {rmse(ai):.4f}")
    print(f"time ratio AI-Var / 3D-Var:     {t_ai / t_var:9.3f}")
    print(
        f"RMSE ratio AI-Var / 3D-Var:     {rmse(ai) / rmse(var):9.3f}  (background {rmse(txb):.4f})"
    )


if __name__ == "__main__":
    main()
