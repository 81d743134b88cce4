"""The DAPPER reference settings and their published-by-measurement RMSE values.

Two twin experiments of DAPPER (Raanes et al.) are reproduced here with their exact
settings, so that wxai's methods can be checked against DAPPER's scores:

``lorenz63`` (``dapper.mods.Lorenz63.sakov2012``)
    sigma 10, rho 28, beta 8/3; RK4, dt 0.01; all three components observed every 25
    steps (0.25 time units) with ``R = 2 I``; prior ``N([1.509, -1.531, 25.46], 2 I)``;
    1000 observation times; the first 16 time units are burn-in.
``lorenz96`` (``dapper.mods.Lorenz96.sakov2008``)
    40 variables, F = 8; RK4, dt 0.05; all observed every step with ``R = I``; prior
    ``N(e_1, 0.001 I)``; 1000 observation times; 20 time units of burn-in.

:data:`DAPPER_RMSE` holds the time-mean analysis RMSE measured with DAPPER (mean over
seeds, 1000 observation times) for the method settings in :func:`reference_methods`.
"""

# ruff: noqa: N806 - matrix names (B, R, H, K, E) follow the DA literature

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from wxai.core.errors import UnknownNameError
from wxai.core.typing import AssimilationMethod
from wxai.da.cycling import CycleResult, TwinSetup, run_cycles, simulate_truth
from wxai.da.methods import LETKF, EnKF, ParticleFilter, Var3D
from wxai.da.models import Lorenz63, Lorenz96
from wxai.da.operators import partial_components

#: DAPPER's time-mean analysis RMSE per (setting, method label), as given in the
#: issue. For the Lorenz-63 perturbed-observation EnKF, DAPPER's ``sakov2012`` module
#: lists 0.65 and DAPPER 1.8.1 measured 0.652 +- 0.010 over 60 seeds on our machine;
#: its single seeds range from 0.55 to 0.90, so few-seed means scatter widely (DAPPER's
#: own 5-seed means: 0.60 to 0.72). Compare with many seeds (the benchmark's default).
DAPPER_RMSE: dict[str, dict[str, float]] = {
    "lorenz63": {"3dvar": 1.03, "enkf_sqrt": 0.60, "enkf_pertobs": 0.63, "pf": 0.37},
    "lorenz96": {"3dvar": 0.45, "enkf_sqrt": 0.18, "enkf_pertobs": 0.22, "letkf": 0.21},
}

#: The method settings behind :data:`DAPPER_RMSE`, for printing.
METHOD_SETTINGS: dict[str, dict[str, str]] = {
    "lorenz63": {
        "3dvar": "B = 0.1 cov(truth)",
        "enkf_sqrt": "N=10, inflation 1.02, random rotation",
        "enkf_pertobs": "N=10, inflation 1.04",
        "pf": "N=100, resample at N_eff <= 0.3 N, jitter 2.4",
    },
    "lorenz96": {
        "3dvar": "B = 0.02 cov(truth)",
        "enkf_sqrt": "N=40, inflation 1.02",
        "enkf_pertobs": "N=40, inflation 1.06",
        "letkf": "N=20, inflation 1.02, radius 4 (Gaspari-Cohn)",
    },
}


@dataclass(frozen=True)
class ReferenceSetting:
    """A named twin experiment: its setup and the 3D-Var background scaling."""

    name: str
    setup: TwinSetup
    b_scale: float

    def shortened(self, n_obs_times: int) -> ReferenceSetting:
        """The same setting with fewer observation times (burn-in unchanged)."""
        return replace(self, setup=replace(self.setup, n_obs_times=n_obs_times))


def lorenz63_sakov2012() -> ReferenceSetting:
    """The Lorenz-63 setting of DAPPER's ``sakov2012`` module."""
    setup = TwinSetup(
        model=Lorenz63(),
        dt=0.01,
        steps_per_obs=25,
        n_obs_times=1000,
        obs=partial_components(3, [0, 1, 2], variance=2.0),
        prior_mean=np.array([1.509, -1.531, 25.46]),
        prior_cov=2.0 * np.eye(3),
        burn_in=16.0,
    )
    return ReferenceSetting("lorenz63", setup, b_scale=0.1)


def lorenz96_sakov2008() -> ReferenceSetting:
    """The Lorenz-96 setting of DAPPER's ``sakov2008`` module."""
    n = 40
    setup = TwinSetup(
        model=Lorenz96(n=n, forcing=8.0),
        dt=0.05,
        steps_per_obs=1,
        n_obs_times=1000,
        obs=partial_components(n, list(range(n)), variance=1.0),
        prior_mean=np.eye(n)[0],
        prior_cov=0.001 * np.eye(n),
        burn_in=20.0,
    )
    return ReferenceSetting("lorenz96", setup, b_scale=0.02)


SETTINGS = {"lorenz63": lorenz63_sakov2012, "lorenz96": lorenz96_sakov2008}


def reference_setting(name: str, n_obs_times: int | None = None) -> ReferenceSetting:
    """The named setting (``"lorenz63"`` or ``"lorenz96"``), optionally shortened."""
    try:
        setting = SETTINGS[name]()
    except KeyError:
        raise UnknownNameError("DA reference setting", name, SETTINGS) from None
    return setting.shortened(n_obs_times) if n_obs_times else setting


def reference_methods(
    setting: ReferenceSetting, truth_states: np.ndarray
) -> dict[str, AssimilationMethod]:
    """The methods scored in :data:`DAPPER_RMSE`, keyed by label.

    3D-Var's ``B`` is the scaled covariance of the truth trajectory (as DAPPER's ``Var3D``).
    """
    B = setting.b_scale * np.cov(truth_states.T)
    if setting.name == "lorenz63":
        return {
            "3dvar": Var3D(B),
            "enkf_sqrt": EnKF(10, "sqrt", inflation=1.02, rotate=True),
            "enkf_pertobs": EnKF(10, "pertobs", inflation=1.04),
            "pf": ParticleFilter(100, resample_threshold=0.3, jitter=2.4),
        }
    return {
        "3dvar": Var3D(B),
        "enkf_sqrt": EnKF(40, "sqrt", inflation=1.02),
        "enkf_pertobs": EnKF(40, "pertobs", inflation=1.06),
        "letkf": LETKF(20, radius=4.0, inflation=1.02),
    }


def run_reference(
    name: str,
    seeds: Sequence[int],
    *,
    n_obs_times: int | None = None,
    methods: Sequence[str] | None = None,
) -> dict[str, list[CycleResult]]:
    """Run the named setting for every seed and method.

    Each seed draws one truth (and observations) shared by all methods; every method
    then runs with its own generator derived from the seed.

    Returns
    -------
    dict
        ``label -> [CycleResult per seed]``.
    """
    setting = reference_setting(name, n_obs_times)
    results: dict[str, list[CycleResult]] = {}
    for seed in seeds:
        truth = simulate_truth(setting.setup, np.random.default_rng(seed))
        available = reference_methods(setting, truth.states)
        chosen = list(methods) if methods is not None else list(available)
        for label in chosen:
            if label not in available:
                raise UnknownNameError("method", label, available)
            rng = np.random.default_rng([seed, 1 + sorted(available).index(label)])
            results.setdefault(label, []).append(
                run_cycles(available[label], setting.setup, truth, rng)
            )
    return results


def summarize(results: dict[str, list[CycleResult]]) -> dict[str, dict[str, float]]:
    """Per method: mean score over non-diverged seeds, spread, divergences, CPU seconds."""
    summary = {}
    for label, runs in results.items():
        scores = [r.score for r in runs if not r.diverged]
        summary[label] = {
            "rmse": float(np.mean(scores)) if scores else float("nan"),
            "spread": float(np.mean([r.mean_spread for r in runs if not r.diverged] or [np.nan])),
            "diverged": float(sum(r.diverged for r in runs)),
            "runs": float(len(runs)),
            "cpu_seconds": float(sum(r.cpu_seconds for r in runs)),
        }
    return summary


def compare_with_dapper(name: str, summary: dict[str, dict[str, float]]) -> dict[str, float]:
    """Flat metrics of a :func:`summarize` result next to :data:`DAPPER_RMSE`.

    Parameters
    ----------
    name:
        The setting, ``"lorenz63"`` or ``"lorenz96"``.
    summary:
        Output of :func:`summarize` (method label -> statistics).

    Returns
    -------
    dict
        Per method ``rmse_``, ``ratio_`` (to DAPPER), ``spread_``, ``diverged_`` and
        ``cpu_seconds_<label>``, and ``max_relative_deviation``: the largest
        ``|ratio - 1|`` over the methods (infinite if a method has no finite score).
    """
    if name not in DAPPER_RMSE:
        raise UnknownNameError("DA reference setting", name, DAPPER_RMSE)
    metrics: dict[str, float] = {}
    worst = 0.0
    for label, row in summary.items():
        ratio = row["rmse"] / DAPPER_RMSE[name][label]
        metrics[f"rmse_{label}"] = row["rmse"]
        metrics[f"ratio_{label}"] = ratio
        metrics[f"spread_{label}"] = row["spread"]
        metrics[f"diverged_{label}"] = row["diverged"]
        metrics[f"cpu_seconds_{label}"] = row["cpu_seconds"]
        worst = max(worst, abs(ratio - 1) if np.isfinite(ratio) else np.inf)
    metrics["max_relative_deviation"] = worst
    return metrics
