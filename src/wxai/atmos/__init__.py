"""Formulas of the physics of the atmosphere, one implementation each.

Every function works element-wise on NumPy arrays and Python scalars; the
formulas built from arithmetic only (:func:`~wxai.atmos.comfort.wind_chill_index`)
also accept torch tensors. The package imports nothing of wxai above
:mod:`wxai.core`, so every layer may use it.

* :mod:`wxai.atmos.humidity`: saturation vapour pressure and dew point (Magnus);
* :mod:`wxai.atmos.thermo`: potential and equivalent potential temperature;
* :mod:`wxai.atmos.comfort`: the wind-chill index and its range of validity;
* :mod:`wxai.atmos.wind`: wind speed and meteorological direction from components;
* :mod:`wxai.atmos.accumulation`: interval amounts and mean rates from fields
  accumulated since the start of a forecast.
"""

from wxai.atmos.accumulation import interval_amounts, mean_rates
from wxai.atmos.comfort import wind_chill, wind_chill_applies, wind_chill_index
from wxai.atmos.humidity import dew_point, saturation_vapour_pressure
from wxai.atmos.thermo import equivalent_potential_temperature, potential_temperature
from wxai.atmos.wind import wind_components, wind_direction, wind_speed_direction

__all__ = [
    "dew_point",
    "equivalent_potential_temperature",
    "interval_amounts",
    "mean_rates",
    "potential_temperature",
    "saturation_vapour_pressure",
    "wind_chill",
    "wind_chill_applies",
    "wind_chill_index",
    "wind_components",
    "wind_direction",
    "wind_speed_direction",
]
