"""Data assimilation: models, observation operators, classical methods and AI-Var.

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
    AI-Var: increment networks trained with the variational cost (needs torch).
"""
