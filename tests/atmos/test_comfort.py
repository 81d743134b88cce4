"""Wind chill against the published Environment Canada and NWS charts."""

from __future__ import annotations

import numpy as np
import pytest

from wxai.atmos.comfort import wind_chill, wind_chill_applies, wind_chill_index
from wxai.core.errors import ConfigError


@pytest.mark.parametrize(
    ("t", "v", "table"),
    # Environment Canada wind-chill chart [degC, km/h], whole degrees
    [(5, 5, 4), (-5, 5, -7), (0, 10, -3), (-15, 10, -21), (-10, 20, -18),
     (-20, 30, -33), (-25, 40, -41), (-30, 50, -49), (-40, 60, -64)],
)  # fmt: skip
def test_wind_chill_matches_environment_canada_chart(t: float, v: float, table: float) -> None:
    assert float(wind_chill(t, v)) == pytest.approx(table, abs=0.5)


@pytest.mark.parametrize(
    ("t_f", "v_mph", "table_f"),
    # US National Weather Service chart [degF, mph]: the same formula in other units
    [(40, 5, 36), (40, 10, 34), (20, 10, 9), (20, 20, 4), (0, 15, -19),
     (0, 30, -26), (-20, 10, -41), (-20, 15, -45), (-10, 20, -35)],
)  # fmt: skip
def test_wind_chill_matches_nws_chart(t_f: float, v_mph: float, table_f: float) -> None:
    wct = float(wind_chill_index((t_f - 32) / 1.8, v_mph * 1.609344))
    assert wct * 1.8 + 32 == pytest.approx(table_f, abs=0.5)


def test_wind_chill_outside_validity() -> None:
    t = np.array([15.0, -5.0, -5.0, 10.0])
    v = np.array([30.0, 3.0, 20.0, 4.8])
    assert wind_chill_applies(t, v).tolist() == [False, False, True, True]
    out = wind_chill(t, v)
    np.testing.assert_array_equal(out[:2], t[:2])
    assert out[2] < -5.0
    nan = wind_chill(t, v, outside="nan")
    assert np.isnan(nan[:2]).all() and np.isfinite(nan[2:]).all()


def test_wind_chill_rejects_negative_wind_and_unknown_fallback() -> None:
    with pytest.raises(ConfigError, match="wind speed"):
        wind_chill(0.0, -3.0)
    with pytest.raises(ConfigError, match="outside"):
        wind_chill(0.0, 10.0, outside="zero")  # type: ignore[arg-type]


def test_wind_chill_index_on_tensors_matches_numpy() -> None:
    torch = pytest.importorskip("torch")
    t = torch.tensor([[-20.0], [0.0]], requires_grad=True)
    v = torch.tensor([[30.0], [10.0]])
    out = wind_chill_index(t, v)
    assert isinstance(out, torch.Tensor) and out.shape == (2, 1)
    np.testing.assert_allclose(
        out.detach().numpy(), wind_chill(t.detach().numpy(), v.numpy()), rtol=1e-6
    )
    out.sum().backward()  # dWCT/dT = 0.6215 + 0.3965 v^0.16
    np.testing.assert_allclose(t.grad.numpy(), 0.6215 + 0.3965 * v.numpy() ** 0.16, rtol=1e-6)
