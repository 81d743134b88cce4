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
# # Day 3: agents, generative models and weather products
#
# The third course day with `wxai`:
#
# 1. **Agents** (unit U7): a request router decides what to do with a request, and the
#    weather workflow answers a forecast question from data, saying where every number
#    comes from.
# 2. **Generative models** (unit U3): a denoising diffusion model (`ddpm`) learns to sample
#    a distribution.
# 3. **Weather products** (unit U9): warning polygons learned from forecast fields
#    (`warning-polygons`).
# 4. **MLOps** (unit U10): parallel MLflow child runs of a small training
#    (`mlflow-parallel-sine`).
#
# The agents here run on rules and offline data; no language model is needed.

# %% tags=["parameters"]
# SMOKE = True: the small "smoke" presets (seconds); False: the "full" presets (minutes).
SMOKE = True

# %%
from datetime import datetime
from zoneinfo import ZoneInfo

from IPython.display import Image, Markdown, display

from wxai.core.paths import home_dir
from wxai.labs.framework.runner import run_lab
from wxai.labs.notebooks import preset_override, show_result

PRESET = preset_override(SMOKE)
WORK = home_dir() / "notebooks" / "day3"
WORK.mkdir(parents=True, exist_ok=True)
# A fixed "now" keeps the answers reproducible; drop it to ask about the real tomorrow.
NOW = datetime(2026, 12, 3, 17, 20, tzinfo=ZoneInfo("Europe/Berlin"))
print("lab preset:", PRESET, "| files of this notebook go to", WORK)

# %% [markdown]
# ## 1. Agents
#
# `route_request` is the cockpit's first step: rules pick an action (ask back, write a
# report, write code, call a calculation tool, run the weather workflow, answer directly);
# a language model is asked only when no rule decides.

# %%
from wxai.assistant.agents.router import route_request

for request in [
    "What is the weather tomorrow at 3pm in Frankfurt?",
    "Wind chill at -6 C and 25 km/h?",
    "Dew point at 20 C and 60 % humidity",
    "Write a Python function that converts hPa to inHg",
]:
    decision = route_request(request, now=NOW)
    print(f"{request!r:52} -> {decision.action:8} {decision.target:14} ({decision.reason})")

# %% [markdown]
# The weather workflow (a LangGraph graph) resolves time, place and variable, picks the
# model run, fetches the data (offline: the local cache, else a synthetic run that says
# so), extracts the point values and draws a map. Every step is an event.

# %%
from wxai.assistant.agents.weather.graph import run_weather_workflow

result = run_weather_workflow(
    "Wie warm wird es morgen um 15 Uhr in München?", now=NOW, offline=True, figure_dir=WORK
)
print("steps:", " -> ".join(e.node for e in result.events if e.kind == "node_finished"))
display(Markdown(result.answer))
if result.figure:
    display(Image(filename=result.figure, width=560))

# %% [markdown]
# ## 2. Diffusion
#
# The forward process adds Gaussian noise step by step; a small network learns to undo
# one step, and sampling runs the chain backwards from pure noise. The score compares
# samples and target with the energy distance, against a Gaussian fitted to the target.

# %%
show_result(run_lab("ddpm", [PRESET]))

# %% [markdown]
# ## 3. Weather products: warning polygons

# %%
show_result(run_lab("warning-polygons", [PRESET]))

# %% [markdown]
# ## 4. MLOps: parallel runs tracked in MLflow
#
# Four trainings with different settings run in parallel, each an MLflow child run of
# one parent; the best one is picked from the tracked metrics.

# %%
show_result(run_lab("mlflow-parallel-sine", [PRESET]))

# %% [markdown]
# ## Next
#
# - `wxai agent forecast "Wind in Kiel heute Abend" --offline -v` runs the workflow from
#   the shell and prints every step.
# - Labs `coding-agent` and `agent-report` (a sandboxed coding agent, a multi-role report)
#   and `front-detection` take a minute or more each: `wxai lab run NAME preset=smoke`.
# - Day 4: the graph emulator and MLOps.
