"""Forecasts from trained emulators: initial states, rollouts, output files."""
