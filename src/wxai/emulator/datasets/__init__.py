"""Emulator datasets: recipes, sources (Held-Suarez simulator, GRIB/NetCDF), Anemoi-layout Zarr.

Modules: :mod:`.recipe` (YAML recipe schema), :mod:`.simulator` (dinosaur
Held-Suarez runs), :mod:`.sources`, :mod:`.forcings`, :mod:`.targets` (target
grids and remapping), :mod:`.build` (:func:`build_dataset`), :mod:`.reader`
(:func:`open_dataset`), :mod:`.inspect` (:func:`inspect_dataset`).
"""
