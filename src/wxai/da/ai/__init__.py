"""Learned assimilation: AI-Var (needs torch)."""
