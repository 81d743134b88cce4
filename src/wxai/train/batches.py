"""What a DataLoader hands out, epoch by epoch: record and compare the batches.

A loader over a data set whose first tensor holds the sample ids (``TensorDataset(ids,
...)``) is run for several epochs; :func:`epoch_batches` records the ids of every
batch, and the comparisons tell whether two epochs saw the same batches in the same
order (:func:`same_order`) or at least the same batches (:func:`same_composition`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import torch
    from torch.utils.data import DataLoader

#: Sample ids of the batches of one epoch, in the order the loader yields them.
Batches = list[tuple[int, ...]]


def epoch_batches(loader: Iterable[tuple[Any, ...]], epochs: int) -> list[Batches]:
    """Sample ids of every batch of every epoch, ``[epoch][batch] -> ids``.

    The first element of each batch must hold the sample ids.
    """
    return [[tuple(int(i) for i in batch[0]) for batch in loader] for _ in range(epochs)]


def same_order(a: Batches, b: Batches) -> bool:
    """The same batches in the same order."""
    return a == b


def same_composition(a: Batches, b: Batches) -> bool:
    """The same batches (as sets of samples), in any order."""
    return {frozenset(batch) for batch in a} == {frozenset(batch) for batch in b}


def pair_fraction(epochs: list[Batches], same: Callable[[Batches, Batches], bool]) -> float:
    """Fraction of epoch pairs ``(i < j)`` for which ``same(epoch_i, epoch_j)`` holds.

    Needs at least two epochs.
    """
    pairs = list(itertools.combinations(epochs, 2))
    if not pairs:
        from wxai.core.errors import ConfigError

        raise ConfigError(f"comparing epochs needs at least 2 of them, got {len(epochs)}")
    return sum(same(a, b) for a, b in pairs) / len(pairs)


def is_permutation(batches: Batches, n_samples: int) -> bool:
    """The epoch visits every sample id ``0 .. n_samples - 1`` exactly once."""
    return sorted(i for batch in batches for i in batch) == list(range(n_samples))


def batch_number_map(epochs: list[Batches], n_samples: int) -> list[list[int]]:
    """``[epoch][sample] -> number of the batch that carried the sample`` (-1: none)."""
    table = []
    for batches in epochs:
        row = [-1] * n_samples
        for number, batch in enumerate(batches):
            for sample in batch:
                row[sample] = number
        table.append(row)
    return table


def tensor_loader(
    *arrays: np.ndarray | torch.Tensor,
    batch_size: int,
    shuffle: bool = True,
    seed: int | None = None,
) -> DataLoader:
    """A DataLoader over equally long arrays or tensors, yielding tuples of batches.

    NumPy arrays are wrapped without copying. With ``seed`` the shuffling has its own
    seeded generator (repeatable whatever else draws random numbers); without it,
    shuffling draws from torch's global generator.
    """
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    tensors = [torch.from_numpy(a) if not isinstance(a, torch.Tensor) else a for a in arrays]
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    return DataLoader(
        TensorDataset(*tensors), batch_size=batch_size, shuffle=shuffle, generator=generator
    )
