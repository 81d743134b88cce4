"""Training of graph emulators with Lightning: configs, data windows, loss, checkpoints."""
