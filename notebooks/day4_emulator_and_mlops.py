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
# # Day 4: the graph emulator and MLOps
#
# The fourth course day with `wxai`, along the Anemoi chain (unit U12):
#
# 1. **Dataset**: a recipe becomes a Zarr dataset of a Held-Suarez atmosphere
#    (`emulator-dataset`).
# 2. **Graph**: encoder, multi-mesh processor and decoder edges on the sphere, built here
#    directly with `wxai.emulator.graphs` and by the lab `emulator-graphs`.
# 3. **Training**: an encoder-processor-decoder network learns 6-hour steps
#    (`emulator-training`).
# 4. **MLOps** (unit U10): Hydra config variants compared in MLflow (`hydra-variants`).
#
# The same chain runs from the shell: `wxai emulator dataset create`, `wxai emulator graph
# create`, `wxai emulator train` (see the emulator guide).

# %% tags=["parameters"]
# SMOKE = True: the small "smoke" presets (seconds); False: the "full" presets (minutes).
SMOKE = True

# %%
import matplotlib.pyplot as plt
from IPython.display import Image, display

from wxai.core.paths import configs_dir, home_dir
from wxai.labs.framework.runner import run_lab
from wxai.labs.notebooks import preset_override, show_result

PRESET = preset_override(SMOKE)
WORK = home_dir() / "notebooks" / "day4"
WORK.mkdir(parents=True, exist_ok=True)
print("lab preset:", PRESET, "| files of this notebook go to", WORK)

# %% [markdown]
# ## 1. The dataset
#
# The lab builds (or reuses) the dataset of its recipe in the wxai home and checks dates,
# statistics and missing values. Its `config` names the recipe.

# %%
dataset_run = run_lab("emulator-dataset", [PRESET])
show_result(dataset_run)
recipe = dataset_run.config["recipe"]
print("recipe:", configs_dir() / "emulator" / "recipes" / f"{recipe}.yaml")

# %%
from wxai.emulator.datasets.build import build_dataset
from wxai.emulator.datasets.reader import open_dataset

# Reuses the store the lab built (same recipe, same target).
dataset_path = build_dataset(
    configs_dir() / "emulator" / "recipes" / f"{recipe}.yaml",
    home_dir() / "emulator" / "datasets" / f"{recipe}.zarr",
)
cells = open_dataset(dataset_path)
print(f"{dataset_path.name}: {len(cells.latitudes)} cells")

# %% [markdown]
# ## 2. The graph
#
# A graph config (YAML) names the hidden mesh and the edge rules. `build_graph` connects
# the dataset's cells to a refined icosahedron; `inspect_graph` counts nodes and edges,
# degrees and edge lengths, and reports any node no edge reaches.

# %%
from wxai.emulator.graphs import build_graph, format_inspection, inspect_graph, load_graph_config
from wxai.viz.graphs import plot_graph_levels

graph_config = load_graph_config(configs_dir() / "emulator" / "graphs" / "ico2.yaml")
graph = build_graph(graph_config, cells.latitudes, cells.longitudes, dataset=str(dataset_path))
print(format_inspection(inspect_graph(graph)))

# %%
figure = plot_graph_levels(graph)
figure.savefig(WORK / "ico2_levels.png", dpi=80)
plt.close(figure)  # shown once, as the image below
display(Image(filename=WORK / "ico2_levels.png", width=760))

# %% [markdown]
# The lab draws the graph its training uses (the finer `ico3` mesh).

# %%
show_result(run_lab("emulator-graphs", [PRESET]))

# %% [markdown]
# ## 3. Training
#
# PyTorch Lightning trains the network on the dataset and graph; the smoke preset checks
# that the validation loss falls, the full preset that the 6-hour forecast beats
# persistence.

# %%
show_result(run_lab("emulator-training", [PRESET]))

# %% [markdown]
# ## 4. MLOps: Hydra variants

# %%
show_result(run_lab("hydra-variants", [PRESET]))

# %% [markdown]
# ## Next
#
# - `wxai emulator forecast ...` rolls a trained model forward (lab `emulator-forecast`,
#   day 5), `forecast-archive` stores forecasts in Zarr.
# - `mlflow ui --backend-store-uri sqlite:///$HOME/.wxai/mlflow.db` browses every run.
# - Day 5: data assimilation and physics with AI.
