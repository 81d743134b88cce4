"""Prognostic models for data assimilation experiments (all satisfy ``PrognosticModel``)."""

from wxai.da.models.integrators import rk4_step, rk4_tangent
from wxai.da.models.lorenz63 import Lorenz63
from wxai.da.models.lorenz96 import Lorenz96
from wxai.da.models.toy1d import PeriodicAdvection1D, Toy1DCase, make_toy1d_case
from wxai.da.models.toy2d import Budget, Toy2D

__all__ = [
    "Budget",
    "Lorenz63",
    "Lorenz96",
    "PeriodicAdvection1D",
    "Toy1DCase",
    "Toy2D",
    "make_toy1d_case",
    "rk4_step",
    "rk4_tangent",
]
