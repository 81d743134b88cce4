"""The ``wxai`` command line."""
