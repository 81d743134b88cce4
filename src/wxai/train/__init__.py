"""Training support: loops, losses, callbacks and experiment tracking."""
