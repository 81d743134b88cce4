"""Verification figures: error growth, scorecard, spectra."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure

from wxai.core.errors import ConfigError
from wxai.viz.verification import plot_error_growth, plot_scorecard, plot_spectra

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_error_growth_draws_one_curve_per_system_and_saves_png(tmp_path):
    leads = np.arange(6, 126, 6)
    scores = {
        "emulator": np.sqrt(leads),
        "persistence": 1.5 * np.sqrt(leads),
        "climatology": np.full(leads.shape, 12.0),
    }
    path = tmp_path / "figs" / "growth.png"
    fig = plot_error_growth(leads, scores, "t850", "K", path=path)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.get_lines()] == list(scores)
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), leads)
    assert ax.get_ylabel() == "RMSE [K]"
    assert "t850" in ax.get_title()
    assert path.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ConfigError, match=r"'bad'.*\(3,\)"):
        plot_error_growth(leads, {"bad": [1.0, 2.0, 3.0]}, "t850", "K")


def test_scorecard_has_one_annotated_cell_per_variable_and_lead(tmp_path):
    table = np.array([[0.8, 0.9, 1.1], [0.5, np.nan, 2.0]])
    path = tmp_path / "card.png"
    fig = plot_scorecard(table, [24, 72, 120], ["t850", "z500"], path=path)
    ax = fig.axes[0]
    meshes = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(meshes) == 1
    assert meshes[0].get_array().size == table.size
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["0.80", "0.90", "1.10", "0.50", "-", "2.00"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["t850", "z500"]
    # centred at 1: a ratio r and 1 / r get opposite colours of equal strength
    norm = meshes[0].norm
    assert norm(np.log(0.5)) == pytest.approx(1.0 - norm(np.log(2.0)))
    assert path.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ConfigError, match=r"\(2, 3\), got \(3, 2\)"):
        plot_scorecard(table.T, [24, 72, 120], ["t850", "z500"])


def test_spectra_are_log_log_without_wavenumber_zero(tmp_path):
    k = np.arange(33)
    spectra = {"truth": 1.0 / (1.0 + k) ** 3, "emulator 120 h": 0.5 / (1.0 + k) ** 3}
    path = tmp_path / "spectra.png"
    fig = plot_spectra(k, spectra, units="K", path=path)
    (ax,) = fig.axes
    assert ax.get_xscale() == ax.get_yscale() == "log"
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == list(spectra)
    assert lines[0].get_xdata().min() == 1
    assert len(lines[0].get_xdata()) == 32
    assert path.read_bytes()[:8] == PNG_MAGIC
