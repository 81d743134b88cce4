# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Day 5: data assimilation and physics with AI
#
# The last course day with `wxai`:
#
# 1. **Data assimilation** (unit U13): a cycled twin experiment on Lorenz-63 with 3D-Var and
#    an ensemble Kalman filter, scored against DAPPER's published RMSE; 3D-Var on a 1D
#    field (`da-3dvar-1d`) and AI-Var, a network trained on the variational cost alone
#    (`aivar-1d`).
# 2. **Physics and AI** (unit U14): a convolutional emulator of advection that conserves
#    mass by construction (`conservative-advection`), and causal discovery on two
#    precipitation/temperature scenarios (`causal-pt`).

# %% tags=["parameters"]
# SMOKE = True: the small "smoke" presets (seconds); False: the "full" presets (minutes).
SMOKE = True

# %%
import matplotlib.pyplot as plt
from IPython.display import Image, display

from wxai.core.paths import home_dir
from wxai.labs.framework.runner import run_lab
from wxai.labs.notebooks import preset_override, show_result

PRESET = preset_override(SMOKE)
WORK = home_dir() / "notebooks" / "day5"
WORK.mkdir(parents=True, exist_ok=True)
print("lab preset:", PRESET, "| files of this notebook go to", WORK)

# %% [markdown]
# ## 1. A cycled twin experiment
#
# A truth run of Lorenz-63 is observed every 25 model steps with noise; each method
# alternates forecast and analysis. `run_reference` uses DAPPER's `sakov2012` settings,
# so the time-mean analysis RMSE can be set beside DAPPER's (after a burn-in).

# %%
from wxai.da.reference import DAPPER_RMSE, reference_setting, run_reference, summarize
from wxai.viz.assimilation import figure_benchmark

n_obs_times = 400 if SMOKE else 1000
runs = run_reference("lorenz63", seeds=[0], n_obs_times=n_obs_times, methods=["3dvar", "enkf_sqrt"])
summary = summarize(runs)
for label, stats in summary.items():
    print(
        f"{label:10s} RMSE {stats['rmse']:.3f} (DAPPER {DAPPER_RMSE['lorenz63'][label]:.2f}), "
        f"spread {stats['spread']:.3f}, CPU {stats['cpu_seconds']:.1f} s"
    )

# %%
figure = figure_benchmark(
    {label: (r[0].times, r[0].rmse_a, r[0].score) for label, r in runs.items()},
    {label: stats["rmse"] for label, stats in summary.items()},
    {label: DAPPER_RMSE["lorenz63"][label] for label in runs},
    burn_in=reference_setting("lorenz63").setup.burn_in,
    title=f"Lorenz-63, {n_obs_times} analysis times",
)
figure.savefig(WORK / "lorenz63_cycles.png", dpi=80)
plt.close(figure)  # shown once, as the image below
display(Image(filename=WORK / "lorenz63_cycles.png", width=760))

# %% [markdown]
# ## 2. 3D-Var and AI-Var on a 1D field
#
# 3D-Var combines a background with observations weighted by their error covariances.
# AI-Var trains a network to output the analysis increment by minimising the same cost,
# with no analysis in its training data.

# %%
show_result(run_lab("da-3dvar-1d", [PRESET]))

# %%
show_result(run_lab("aivar-1d", [PRESET]))

# %% [markdown]
# ## 3. Physics and AI
#
# A network that predicts fluxes instead of values cannot create or lose mass: its drift
# stays at rounding level while an unconstrained one drifts visibly.

# %%
show_result(run_lab("conservative-advection", [PRESET]))

# %% [markdown]
# Regression on two variables can suggest a link that is not there; PCMCI tests
# conditional independence across time lags and recovers the true graph of each scenario.

# %%
show_result(run_lab("causal-pt", [PRESET]))

# %% [markdown]
# ## Next
#
# - `wxai lab run da-lorenz96-benchmark preset=full` scores EnKF, LETKF and 3D-Var on
#   Lorenz-96 against DAPPER; `ai-particle-filter`, `graph-assimilation`, `pinn-oscillator`,
#   `sindy-lorenz63` and `neural-rhs` are the further labs of the day.
# - The emulator of day 4 forecasts and is fine-tuned in `emulator-forecast` and
#   `emulator-transfer`.
# - `wxai lab report` collects every result of the week in one HTML gallery.
