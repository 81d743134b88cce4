"""wxai's classical DA methods on DAPPER's Lorenz-63/96 reference settings.

Usage: ``python benchmarks/da_dapper_reference.py [--seeds 20] [--obs-times 1000]
[--setting lorenz63 lorenz96]``. For every method the time-mean analysis RMSE after
burn-in (mean over the seeds that did not diverge) is printed next to the value
measured with DAPPER for the same setting, with the ratio wxai / DAPPER, the number
of diverged seeds and the CPU seconds of the cycling.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    from wxai.da.reference import DAPPER_RMSE, METHOD_SETTINGS, run_reference, summarize

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20, help="number of seeds (0, 1, ...)")
    parser.add_argument("--obs-times", type=int, default=1000)
    parser.add_argument("--setting", nargs="+", default=["lorenz63", "lorenz96"])
    args = parser.parse_args()
    seeds = list(range(args.seeds))
    worst = 0.0
    for name in args.setting:
        t0 = time.perf_counter()
        summary = summarize(run_reference(name, seeds, n_obs_times=args.obs_times))
        wall = time.perf_counter() - t0
        print(f"\n{name}: {args.obs_times} observation times, seeds {seeds} ({wall:.1f} s wall)")
        print(
            f"{'method':14s} {'settings':46s} {'wxai':>7s} {'DAPPER':>7s} {'ratio':>6s}"
            f" {'spread':>7s} {'div':>4s} {'CPU s':>7s}"
        )
        for label, row in summary.items():
            ref = DAPPER_RMSE[name][label]
            ratio = row["rmse"] / ref
            worst = max(worst, abs(ratio - 1))
            print(
                f"{label:14s} {METHOD_SETTINGS[name][label]:46s} {row['rmse']:7.3f} {ref:7.2f}"
                f" {ratio:6.2f} {row['spread']:7.3f} {int(row['diverged']):4d}"
                f" {row['cpu_seconds']:7.1f}"
            )
    print(f"\nlargest relative deviation from DAPPER: {worst:.1%} (target: within 10%)")


if __name__ == "__main__":
    main()
