"""Seeding of every random number generator a run uses."""

from __future__ import annotations

import random

import numpy as np

from wxai.core.errors import ConfigError


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and (if installed) PyTorch; return a NumPy generator.

    Parameters
    ----------
    seed:
        Non-negative integer seed.
    """
    if seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed}")
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)
