"""Recording DataLoader batches: shuffled epochs differ, unshuffled ones repeat."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from wxai.core.errors import ConfigError
from wxai.train.batches import (
    batch_number_map,
    epoch_batches,
    is_permutation,
    pair_fraction,
    same_composition,
    same_order,
    tensor_loader,
)


def test_comparisons_on_hand_made_epochs():
    a = [(0, 1), (2, 3)]
    b = [(2, 3), (0, 1)]
    c = [(0, 2), (1, 3)]
    assert same_order(a, a) and not same_order(a, b)
    assert same_composition(a, b) and not same_composition(a, c)
    assert pair_fraction([a, b, c], same_composition) == pytest.approx(1 / 3)
    assert is_permutation(c, 4) and not is_permutation([(0, 0), (1, 3)], 4)
    assert batch_number_map([a, c], 4) == [[0, 0, 1, 1], [0, 1, 0, 1]]
    with pytest.raises(ConfigError):
        pair_fraction([a], same_order)


def test_tensor_loader_seeded_shuffle_repeats_and_unshuffled_is_in_order():
    ids = np.arange(12)
    values = torch.arange(12.0).unsqueeze(1)
    plain = epoch_batches(tensor_loader(ids, values, batch_size=4, shuffle=False), 3)
    assert plain == [[(0, 1, 2, 3), (4, 5, 6, 7), (8, 9, 10, 11)]] * 3
    shuffled = epoch_batches(tensor_loader(ids, values, batch_size=4, seed=7), 3)
    again = epoch_batches(tensor_loader(ids, values, batch_size=4, seed=7), 3)
    assert shuffled == again
    assert pair_fraction(shuffled, same_order) == 0.0
    assert all(is_permutation(epoch, 12) for epoch in shuffled)
    x, y = next(iter(tensor_loader(ids, values, batch_size=5, shuffle=False)))
    assert x.dtype == torch.int64 and torch.equal(y[:, 0], x.float())
