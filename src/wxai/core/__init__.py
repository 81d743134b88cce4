"""Foundations shared by every layer: errors, settings, paths, assets, devices."""
