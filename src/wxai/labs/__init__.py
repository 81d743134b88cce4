"""Labs: one module per course topic, each composing library code into a result.

The machinery (registry, config composition, runner, result store, report)
lives in :mod:`wxai.labs.framework`.
"""
