"""Reusable neural-network layers and blocks."""
