"""Anemoi-style graph emulator: datasets, graphs, models, training."""
