"""Synthetic weather: one atmosphere (moving cyclones with fronts) and sample files."""

from wxai.data.synthetic.atmosphere import Cyclone, Domain, SyntheticAtmosphere

__all__ = ["Cyclone", "Domain", "SyntheticAtmosphere"]
