#!/usr/bin/env bash
# Open a wxai emulator dataset with anemoi-datasets itself (compatibility check).
#
# anemoi-datasets pins zarr <= 2.18.7, so it cannot live in wxai's environment
# (zarr 3): this script uses a throwaway virtual environment.
#
# Usage: scripts/check-anemoi-dataset.sh DATASET.zarr [VENV]   (VENV default /tmp/anemoi-venv)
set -euo pipefail
dataset=${1:?usage: $0 DATASET.zarr [VENV]}
venv=${2:-/tmp/anemoi-venv}
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet anemoi-datasets "zarr<=2.18.7"
fi
"$venv/bin/python" - "$dataset" <<'PY'
import sys

import numpy as np
from anemoi.datasets import open_dataset

ds = open_dataset(sys.argv[1])
print("anemoi-datasets opened", sys.argv[1])
print("shape", ds.shape, "(dates, variables, ensemble, cells)")
print("variables", ds.variables)
print("dates", ds.dates[0], "..", ds.dates[-1], "frequency", ds.frequency, "count", len(ds.dates))
print("resolution", ds.resolution, "field_shape", ds.field_shape)
print("missing", sorted(ds.missing))
stats = ds.statistics
for name in ("mean", "stdev", "minimum", "maximum"):
    assert stats[name].shape == (len(ds.variables),), name
print("statistics (first 4 variables)")
for i, v in enumerate(ds.variables[:4]):
    print(f"  {v:14s}", *(f"{stats[k][i]:12.5g}" for k in ("mean", "stdev", "minimum", "maximum")))
x = ds[0]
assert x.shape == ds.shape[1:], x.shape
np.testing.assert_array_equal(ds.latitudes.shape, (ds.shape[-1],))
sub = open_dataset(sys.argv[1], select=ds.variables[:2], start=str(ds.dates[0])[:10])
print("select/start subset shape", sub.shape)
print("OK")
PY
