"""Feedback files: body expansion, index base, veri selection, O-B/O-A statistics, QC."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from wxai.core.errors import DataFormatError, UnknownNameError
from wxai.data.obs.feedback import (
    ACTIVE_STATES,
    VARNO,
    add_departures,
    expand_body_index,
    filter_active,
    innovation_statistics,
    read_feedback,
    veri_index,
)


def _oracle(i_body: np.ndarray, l_body: np.ndarray, base: int) -> tuple[list[int], list[int]]:
    reports, bodies = [], []
    for r in range(len(i_body)):
        for k in range(l_body[r]):
            reports.append(r)
            bodies.append(int(i_body[r]) - base + k)
    return reports, bodies


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 6), min_size=1, max_size=25),
    base=st.sampled_from([0, 1]),
    gap=st.integers(0, 2),
    seed=st.integers(0, 1000),
)
def test_expand_matches_loop(lengths: list[int], base: int, gap: int, seed: int) -> None:
    l_body = np.array(lengths)
    order = np.random.default_rng(seed).permutation(l_body.size)
    i_body = np.zeros_like(l_body)
    pos = 0
    for r in order:
        pos += gap
        i_body[r] = pos
        pos += l_body[r]
    if l_body.sum():
        i_body[l_body == 0] = 0  # empty reports may carry any start index
    report, body, used = expand_body_index(i_body + base, l_body, pos, index_base=base)
    want_r, want_b = _oracle(i_body + base, l_body, base)
    assert used == base
    np.testing.assert_array_equal(report, want_r)
    np.testing.assert_array_equal(body, want_b)


@pytest.mark.parametrize(
    ("base", "gap", "index_base"), [(0, 0, "auto"), (1, 0, "auto"), (0, 1, 0), (1, 1, 1)]
)
def test_read_feedback_expansion_and_base(
    tmp_path: Path, feedback_file, base: int, gap: int, index_base
) -> None:
    l_body = np.array([3, 0, 2, 5, 1, 4])
    arr = feedback_file(tmp_path / "fof.nc", l_body, base=base, gap=gap)
    ds = read_feedback(tmp_path / "fof.nc", index_base=index_base)
    assert ds.attrs["index_base"] == base
    assert ds.sizes["body"] == l_body.sum()
    # brute force: every report's entries with the report's header attributes
    k = 0
    for r in range(l_body.size):
        start = arr["i_body0"][r]
        for j in range(l_body[r]):
            b = start + j
            assert ds["report"].values[k] == r
            assert ds["body_index"].values[k] == b
            assert ds["obs"].values[k] == arr["obs"][b]
            assert ds["varno"].values[k] == arr["varno"][b]
            assert ds["obstype"].values[k] == arr["obstype"][r]
            assert ds["lat"].values[k] == arr["lat"][r]
            assert ds["statid"].values[k] == arr["statid"][r]
            np.testing.assert_array_equal(ds["veri_data"].values[:, k], arr["veri_data"][:, b])
            minutes = int(arr["time"][r])
            assert ds["time"].values[k] == np.datetime64("2024-01-15T12:00") + np.timedelta64(
                minutes, "m"
            )
            k += 1
    assert list(ds["veri_model"].values) == ["ICON", "ICON"]


def test_wrong_index_base_is_reported(tmp_path: Path, feedback_file) -> None:
    feedback_file(tmp_path / "fof.nc", np.array([2, 3]), base=1)
    with pytest.raises(DataFormatError, match="index_base"):
        read_feedback(tmp_path / "fof.nc", index_base=0)
    with pytest.raises(DataFormatError, match="overlapping"):
        expand_body_index(np.array([0, 1]), np.array([2, 2]), 4, index_base=0)


def test_veri_selection_rule(tmp_path: Path, feedback_file) -> None:
    feedback_file(
        tmp_path / "fof.nc",
        np.array([2, 2]),
        run_types=(0, 1, 3, 1, 4),
        members=(-1, 0, -1, -1, -1),
    )
    ds = read_feedback(tmp_path / "fof.nc")
    assert veri_index(ds, "first_guess") == 3  # deterministic preferred over ensemble mean
    assert veri_index(ds, "analysis") == 2  # VT_ANALYSIS before initialised analysis
    with pytest.raises(UnknownNameError):
        veri_index(ds, "guess")  # type: ignore[arg-type]
    feedback_file(tmp_path / "fc.nc", np.array([2]), run_types=(0,))
    with pytest.raises(DataFormatError, match="first_guess"):
        add_departures(read_feedback(tmp_path / "fc.nc"))


def _hand_made() -> xr.Dataset:
    obs = np.array([1.0, 2.0, 4.0, 3.0, 5.0, 7.0, 0.5, 9.0, 2.5, 6.0])
    fg = np.array([0.5, 2.5, 3.0, 3.0, 4.0, 8.0, 1.0, 7.0, 2.0, np.nan])
    an = np.array([0.8, 2.2, 3.6, 3.1, 4.5, 7.5, 0.6, 8.0, 2.4, 6.1])
    return xr.Dataset(
        {
            "obs": ("body", obs),
            "obstype": ("body", np.array([1, 1, 1, 2, 2, 2, 2, 2, 5, 2])),
            "varno": ("body", np.array([2, 2, 2, 2, 2, 3, 2, 2, 2, 2])),
            "level": ("body", np.array([1, 2, 3, 25, 35, 45, 55, 65, 75, 30]) * 1000.0),
            "state": ("body", np.array([0, 1, 1, 1, 1, 0, 7, 5, 1, 1])),
            "veri_data": (("veri", "body"), np.stack([an, fg])),
        },
        coords={
            "veri_run_type": ("veri", [3, 1]),
            "veri_ens_member": ("veri", [-1, -1]),
            "veri_forecast_time": ("veri", [0, 300]),
        },
    )


def test_statistics_equal_numpy() -> None:
    ds = _hand_made()
    edges = np.array([0.0, 50000.0, 100000.0])
    stats = innovation_statistics(ds, by=("obstype", "varno"), level_bins=edges)
    active = np.isin(ds["state"].values, ACTIVE_STATES)
    omb_all = ds["obs"].values - ds["veri_data"].values[1]
    oma_all = ds["obs"].values - ds["veri_data"].values[0]
    lev = ds["level"].values
    for ot in np.unique(ds["obstype"].values):
        for vn in np.unique(ds["varno"].values):
            for b in range(2):
                sel = (
                    active
                    & (ds["obstype"].values == ot)
                    & (ds["varno"].values == vn)
                    & (lev >= edges[b])
                    & (lev < edges[b + 1])
                )
                cell = stats.sel(obstype=ot, varno=vn).isel(level_bin=b)
                for name, dep in (("omb", omb_all), ("oma", oma_all)):
                    d = dep[sel & np.isfinite(dep)]
                    assert int(cell[f"{name}_count"]) == d.size
                    if d.size == 0:
                        assert np.isnan(float(cell[f"{name}_mean"]))
                        continue
                    np.testing.assert_allclose(float(cell[f"{name}_mean"]), d.mean())
                    np.testing.assert_allclose(float(cell[f"{name}_std"]), d.std())
                    np.testing.assert_allclose(float(cell[f"{name}_rms"]), np.sqrt((d**2).mean()))
    assert stats["level_lower"].values.tolist() == [0.0, 50000.0]
    # the NaN first guess at index 9 is excluded from omb but not from oma
    total_omb = int(stats["omb_count"].sum())
    assert total_omb == int((active & np.isfinite(omb_all)).sum())
    assert int(stats["oma_count"].sum()) == int(active.sum())


def test_statistics_by_type_only_without_qc() -> None:
    ds = add_departures(_hand_made())
    stats = innovation_statistics(ds, by=("obstype",), active_only=False)
    for ot in (1, 2, 5):
        d = ds["omb"].values[(ds["obstype"].values == ot) & np.isfinite(ds["omb"].values)]
        np.testing.assert_allclose(float(stats["omb_mean"].sel(obstype=ot)), d.mean())
        assert int(stats["omb_count"].sel(obstype=ot)) == d.size


def test_qc_filter_keeps_active_only() -> None:
    ds = _hand_made()
    kept = filter_active(ds)
    assert set(kept["state"].values.tolist()) <= {0, 1}
    assert kept.sizes["body"] == int(np.isin(ds["state"].values, [0, 1]).sum())
    passive = filter_active(ds, states=(5,))
    assert passive.sizes["body"] == 1


def test_varno_table_has_documented_numbers() -> None:
    assert VARNO[2][0] == "T" and VARNO[3][0] == "U" and VARNO[4][0] == "V"
    assert VARNO[29][0] == "RH" and VARNO[110][0] == "PS" and VARNO[39][0] == "T2M"


def test_corrupt_feedback_file(tmp_path: Path, feedback_file) -> None:
    good = tmp_path / "fof.nc"
    feedback_file(good, np.array([3, 4, 5]))
    bad = tmp_path / "fof_truncated.nc"
    bad.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(DataFormatError, match=r"fof_truncated\.nc"):
        read_feedback(bad)
