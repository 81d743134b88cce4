"""Language models: providers, streaming, tool calling and the from-scratch tinylm."""
