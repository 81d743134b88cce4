"""Data assimilation: models, observation operators, classical and learned methods.

Submodules
----------
models
    Lorenz-63, Lorenz-96, the periodic 1D toy and the 2D (x, z) toy atmosphere.
operators
    Linear observation operators (points, components, columns, satellite channels, graphs).
methods
    3D-Var, Kalman filter, EnKF (perturbed obs, square root), LETKF, particle filter.
cycling
    The cycling driver with burn-in, RMSE/spread statistics and divergence detection.
reference
    The DAPPER reference settings (Lorenz-63 ``sakov2012``, Lorenz-96 ``sakov2008``).
ai
    AI-Var, the AI particle filter and graph-based assimilation (need torch).
origen
    ORIGEN: iterative reconstruction from random partial observations, learned models.
obs2obs
    Obs-to-obs learning: satellite and radiosonde observations at t to those at t+1.
"""
