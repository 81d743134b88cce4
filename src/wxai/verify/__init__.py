"""Verification metrics shared by training, labs and tools."""
