"""Classical assimilation methods; each is a small dataclass satisfying ``AssimilationMethod``."""

from wxai.da.methods.base import FilterState, mean_preserving_rotation, post_process
from wxai.da.methods.enkf import EnKF
from wxai.da.methods.kalman import KalmanFilter, kalman_gain
from wxai.da.methods.letkf import LETKF
from wxai.da.methods.particle import ParticleFilter, systematic_resample
from wxai.da.methods.var import Var3D, var3d_analysis, var3d_control_cg, var3d_cost

__all__ = [
    "LETKF",
    "EnKF",
    "FilterState",
    "KalmanFilter",
    "ParticleFilter",
    "Var3D",
    "kalman_gain",
    "mean_preserving_rotation",
    "post_process",
    "systematic_resample",
    "var3d_analysis",
    "var3d_control_cg",
    "var3d_cost",
]
