"""Physics and AI (U14, lecture 19): where known equations and learning meet.

- :mod:`wxai.physics.pinn`: physics-informed networks that solve a known ODE from its
  residual and initial conditions (collocation sampling, autograd derivatives).
- :mod:`wxai.physics.sindy`: sparse identification of the equations behind a
  trajectory (PySINDy), with derivatives from finite differences or from a smooth
  network fit (neural SINDy, :mod:`wxai.physics.smoothing`).
- :mod:`wxai.physics.neural_rhs`: a learned right-hand side ``x' = f_theta(x)``
  integrated with RK4 and usable wherever a prognostic model is.
- :mod:`wxai.physics.advection`: periodic advection as truth for emulators that
  conserve mass by construction.
- :mod:`wxai.physics.causal`: telling cause from correlation in coupled time series.
"""
