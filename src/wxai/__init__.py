"""wxai: AI/ML for weather, climate and environmental services.

The package carries the observation -> forecast -> service chain of the course
"Python and AI/ML for Weather, Climate and Environmental Applications".
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("wxai")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
