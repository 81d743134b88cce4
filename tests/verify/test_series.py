"""Per-sample errors (wxai.verify.series) against the scalar RMSE."""

from __future__ import annotations

import numpy as np
import pytest

from wxai.core.errors import ConfigError
from wxai.verify.metrics import rmse
from wxai.verify.series import rmse_per_sample


@pytest.mark.parametrize("shape", [(4, 7), (3, 2, 5)])
def test_rmse_per_sample_is_the_rmse_of_each_sample(shape):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    per = rmse_per_sample(a, b)
    assert per.shape == (shape[0],)
    np.testing.assert_allclose(per, [rmse(x, y) for x, y in zip(a, b, strict=True)], rtol=1e-12)


def test_rmse_per_sample_of_a_constant_offset_is_the_offset():
    np.testing.assert_allclose(rmse_per_sample(np.full((3, 4), 2.5), np.zeros((3, 4))), 2.5)


@pytest.mark.parametrize("bad", [np.zeros(3), np.zeros((0, 3))])
def test_rmse_per_sample_needs_samples(bad):
    with pytest.raises(ConfigError):
        rmse_per_sample(bad, bad)
