"""Which variable of an emulator a request means: a parameter, and a level mapped to its levels.

An emulator's variables are ``{param}_{level}`` (``t_8``, ``u_4``) and surface fields
(``sp``). Held-Suarez datasets have *sigma model levels*: level ``k`` of ``L`` equidistant
layers has sigma ``(k - 0.5) / L`` (level 1 is the top). People ask for pressure
levels ("850 hPa temperature"); with a surface pressure of 1000 hPa, pressure ``p``
[hPa] is sigma ``p / 1000``, and the nearest model level of that parameter is used.
Datasets on pressure levels (hPa) pick the nearest pressure level instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from wxai.core.errors import ConfigError, UnknownNameError

__all__ = ["REFERENCE_SURFACE_HPA", "LevelChoice", "choose_variable", "model_layers"]

#: Surface pressure [hPa] that turns a pressure into sigma (p / p_s).
REFERENCE_SURFACE_HPA = 1000.0
#: Layers of a model-level dataset whose recipe does not say (the Held-Suarez default).
DEFAULT_LAYERS = 8

_MODEL_LEVTYPES = {"ml", "hybrid", "model_level", "sigma"}
_PRESSURE_LEVTYPES = {"isobaricInhPa", "pressure_level", "pl"}

#: How people name the parameters of the Held-Suarez emulator.
ALIASES = {
    "temperature": "t",
    "air temperature": "t",
    "zonal wind": "u",
    "u wind": "u",
    "u-wind": "u",
    "eastward wind": "u",
    "meridional wind": "v",
    "v wind": "v",
    "v-wind": "v",
    "northward wind": "v",
    "surface pressure": "sp",
    "surface air pressure": "sp",
}


@dataclass(frozen=True)
class LevelChoice:
    """The model variable a request maps to.

    Attributes
    ----------
    name:
        The model's variable, e.g. ``t_8``.
    param:
        Its parameter, e.g. ``t``.
    kind:
        ``model`` (sigma model level), ``pressure`` (hPa) or ``surface``.
    level:
        Model level number, or pressure [hPa]; None at the surface.
    sigma:
        Sigma of a model level (0 top, 1 surface); None otherwise.
    note:
        One sentence saying how the requested level was mapped ("" if nothing was).
    layers:
        Sigma layers of the model.
    """

    name: str
    param: str
    kind: Literal["model", "pressure", "surface"]
    level: float | None
    sigma: float | None
    note: str
    layers: int = DEFAULT_LAYERS

    @property
    def label(self) -> str:
        """``model level 8 of 8 (sigma 0.9375)``, ``850 hPa`` or ``surface``."""
        if self.kind == "model" and self.level is not None and self.sigma is not None:
            return f"model level {self.level:g} of {self.layers} (sigma {self.sigma:.4g})"
        if self.kind == "pressure" and self.level is not None:
            return f"{self.level:g} hPa"
        return "surface"


def model_layers(dataset_attrs: Mapping[str, Any]) -> int:
    """Number of sigma layers of the dataset's model (its recipe's ``source.layers``, else 8)."""
    source = (dataset_attrs.get("recipe") or {}).get("source") or {}
    return int(source.get("layers") or DEFAULT_LAYERS)


def _sigma(level: float, layers: int) -> float:
    return (level - 0.5) / layers


def _kind(levtype: str, levels: Sequence[float], layers: int) -> Literal["model", "pressure"]:
    """Model levels or pressure levels: by level type, else integer levels within 1..layers."""
    if levtype in _MODEL_LEVTYPES:
        return "model"
    if levtype in _PRESSURE_LEVTYPES:
        return "pressure"
    small = all(float(lv).is_integer() and 1 <= lv <= layers for lv in levels)
    return "model" if small else "pressure"


def _requested(level: float) -> tuple[float, str]:
    """Sigma of a requested level (hPa above 1, else sigma) and how to say it."""
    if level <= 0:
        raise ConfigError(
            f"level {level:g}: give a pressure in hPa (e.g. 850) or a sigma in (0, 1]"
        )
    if level > 1.0:
        sigma = level / REFERENCE_SURFACE_HPA
        surface = f"{REFERENCE_SURFACE_HPA:g} hPa"
        return sigma, f"{level:g} hPa (sigma {sigma:.3g} for a surface pressure of {surface})"
    return level, f"sigma {level:g}"


def _pick(
    param: str,
    candidates: list[str],
    metadata: Mapping[str, Mapping[str, Any]],
    level: float | None,
    layers: int,
) -> LevelChoice:
    levels = {name: float(metadata[name]["level"]) for name in candidates}
    kind = _kind(str(metadata[candidates[0]].get("levtype", "")), list(levels.values()), layers)
    listed = ", ".join(f"{lv:g}" for lv in sorted(levels.values()))
    if kind == "model":
        sigmas = {name: _sigma(lv, layers) for name, lv in levels.items()}
        if level is None:
            name = max(sigmas, key=sigmas.__getitem__)
            note = f"no level given: the lowest model level of {param} ({listed} of {layers})"
        else:
            target, said = _requested(level)
            name = min(sigmas, key=lambda n: abs(sigmas[n] - target))
            note = (
                f"{said} is nearest to model level {levels[name]:g} of {layers} "
                f"(sigma {sigmas[name]:.4g}) among the levels of {param} ({listed})"
            )
        return LevelChoice(name, param, "model", levels[name], sigmas[name], note, layers)
    if level is None:
        name = max(levels, key=levels.__getitem__)
        note = f"no level given: the lowest pressure level of {param} ({listed} hPa)"
    else:
        target = level if level > 1.0 else _requested(level)[0] * REFERENCE_SURFACE_HPA
        name = min(levels, key=lambda n: abs(levels[n] - target))
        note = f"{level:g} is nearest to {levels[name]:g} hPa of the levels of {param} ({listed})"
    return LevelChoice(name, param, "pressure", levels[name], None, note)


def choose_variable(
    metadata: Mapping[str, Mapping[str, Any]],
    variables: Sequence[str],
    variable: str,
    level: float | None,
    layers: int = DEFAULT_LAYERS,
) -> LevelChoice:
    """The variable of ``variables`` that ``variable`` at ``level`` means.

    Parameters
    ----------
    metadata:
        Per model variable: ``param``, ``level``, ``levtype``, ``units``.
    variables:
        The variables to choose from (the model's prognostic ones).
    variable:
        A model variable (``t_8``), a parameter (``t``) or its name ("temperature").
    level:
        Pressure [hPa] when above 1 (850), sigma in (0, 1] otherwise; None: the level
        nearest the surface.
    layers:
        Sigma layers of the model (:func:`model_layers`).

    Raises
    ------
    UnknownNameError
        Listing the model's variables and parameters.
    ConfigError
        A level that is neither a pressure nor a sigma.
    """
    key = variable.strip()
    if key in variables:
        meta = metadata.get(key, {})
        lev = meta.get("level")
        note = "" if level is None else f"{key} names its level; level {level:g} is not used"
        if lev is None:
            return LevelChoice(key, str(meta.get("param", key)), "surface", None, None, note)
        param = str(meta.get("param", key))
        same = [n for n in variables if metadata.get(n, {}).get("param") == param]
        levels = [float(metadata[n]["level"]) for n in same]
        kind = _kind(str(meta.get("levtype", "")), levels, layers)
        sigma = _sigma(float(lev), layers) if kind == "model" else None
        return LevelChoice(key, param, kind, float(lev), sigma, note, layers)
    param = ALIASES.get(" ".join(key.lower().split()), key.lower())
    candidates = [n for n in variables if metadata.get(n, {}).get("param", n) == param]
    if not candidates:
        params = {str(metadata.get(n, {}).get("param", n)) for n in variables}
        raise UnknownNameError(
            "variable",
            variable,
            sorted({*variables, *params}),
            hint="Ask for a parameter with a level (t at 850 hPa) or a model variable (t_8)",
        )
    if metadata.get(candidates[0], {}).get("level") is None:
        note = "" if level is None else f"{param} is a surface field; level {level:g} is not used"
        return LevelChoice(candidates[0], param, "surface", None, None, note)
    return _pick(param, candidates, metadata, level, layers)
