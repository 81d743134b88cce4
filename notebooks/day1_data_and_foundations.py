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
# # Day 1: weather data and neural-network foundations
#
# A guided tour of the first course day with `wxai`:
#
# 1. **Weather data** (unit U2): GRIB and NetCDF files from the offline sample set,
#    read with `wxai.data.formats` and drawn on a map with `wxai.viz`.
# 2. **Labs on data**: `grib-inspect` (GRIB messages, decoded twice), `ifs-map`
#    (global fields on two projections), `synop-map` (station observations).
# 3. **Neural-network foundations** (unit U3): `sine-regression` (an MLP fits a curve)
#    and `classifier-gradients` (linear model vs MLP, input gradients).
#
# Every lab run is tracked in MLflow and stored under the wxai home
# (`~/.wxai/labs/<lab>/<time>/`), the same results that `wxai lab report` and the cockpit
# show. Nothing here downloads data: the sample files are synthetic and say so.

# %% tags=["parameters"]
# SMOKE = True: the small "smoke" presets (seconds); False: the "full" presets (minutes).
SMOKE = True

# %%
from IPython.display import Image, display

from wxai.core.paths import home_dir
from wxai.labs.framework.runner import run_lab
from wxai.labs.notebooks import preset_override, show_result

PRESET = preset_override(SMOKE)
WORK = home_dir() / "notebooks" / "day1"
print("lab preset:", PRESET, "| files of this notebook go to", WORK)

# %% [markdown]
# ## 1. Sample files: GRIB and NetCDF
#
# `write_samples` draws one synthetic atmosphere and writes it in the formats met in
# operations: an ICON-EU-like and an IFS-like GRIB2 forecast, an ICON native-grid file,
# SYNOP and feedback NetCDF, an ODIM_H5 radar composite and a cloud-top-height field.

# %%
from wxai.data.synthetic.samples import SAMPLE_FILES, write_samples

samples = write_samples(WORK / "samples", seed=0)
for key, (name, description) in SAMPLE_FILES.items():
    print(f"{key:12s} {name:44s} {description[:60]}")

# %% [markdown]
# `read_grib` turns every message of a GRIB file into an xarray tree (one node per level
# type and grid); `list_messages` is the `grib_ls` view of the same file.

# %%
from wxai.data.formats.grib import list_messages, read_grib

messages = list_messages(samples["ifs"])
print(len(messages), "messages, first:", messages[0])
tree = read_grib(samples["ifs"])
display(tree)

# %% [markdown]
# NetCDF files are read with `read_netcdf` (CF conventions, masked fill values).

# %%
from wxai.data.formats.netcdf import read_netcdf

display(read_netcdf(samples["cth"]))

# %% [markdown]
# `plot_file` is the function behind `wxai data plot`: one field of a GRIB, NetCDF or
# ODIM file on a cartopy map with offline coastlines.

# %%
from wxai.viz.quicklook import plot_file

png = plot_file(samples["icon_eu"], "t2m", projection="LambertConformal", out=WORK / "t2m.png")
display(Image(filename=png, width=640))

# %% [markdown]
# ## 2. Labs on weather data
#
# `run_lab(name, overrides)` composes the lab's Hydra config from its preset and the
# overrides, runs it, checks its acceptance figure against a stated baseline and stores
# the result. `show_result` prints the acceptance line and shows the figures. The
# override `data_dir=...` makes the labs read the sample files written above instead
# of drawing their own.

# %%
SAMPLES = f"data_dir={WORK / 'samples'}"
show_result(run_lab("grib-inspect", [PRESET, SAMPLES]))

# %%
show_result(run_lab("ifs-map", [PRESET, SAMPLES]))

# %%
show_result(run_lab("synop-map", [PRESET, SAMPLES]))

# %% [markdown]
# ## 3. Neural-network foundations
#
# A multilayer perceptron learns `sin(x)` from mini-batches; a linear classifier and an
# MLP separate two rotated ellipses, and the input gradients show what each relies on.

# %%
show_result(run_lab("sine-regression", [PRESET]))

# %%
show_result(run_lab("classifier-gradients", [PRESET]))

# %% [markdown]
# ## Next
#
# - `wxai lab list` shows every lab by course day; `wxai lab run NAME preset=full`
#   runs one from the shell.
# - `wxai lab report` builds the HTML gallery of the stored results.
# - Day 2 continues with network architectures, retrieval and multimodal data.
