"""Graph configuration: hidden mesh, multi-scale processor edges, encoder and decoder edges.

YAML example (Anemoi's defaults: encoder cut-off 0.6 x the longest mesh edge, decoder 3-NN)::

    hidden:
      icosahedral: {resolution: 3}        # 10 * 4**3 + 2 = 642 nodes
    multi_scale: true                     # processor edges of levels 0..3
    encoder: {cutoff: 0.6}                # or {knn: 12}
    decoder: {knn: 3}                     # or {cutoff: 0.6}
    data_area_weight: voronoi             # or cos_latitude, uniform
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from wxai.core.composition import validation_message
from wxai.core.errors import ConfigError

__all__ = [
    "CutoffEdges",
    "GraphConfig",
    "HiddenMesh",
    "IconMesh",
    "IcosahedralMesh",
    "KnnEdges",
    "load_graph_config",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IcosahedralMesh(_Strict):
    """Refined icosahedron: level ``resolution`` has 10 * 4**resolution + 2 nodes."""

    resolution: int = Field(ge=0, le=9)


class IconMesh(_Strict):
    """The ICON-like R``root``B``level`` grid of :mod:`wxai.data.grids.icosahedral`.

    ``nodes="vertices"``: the 10 * 4**level + 2 grid vertices (multi-scale allowed, as
    AICON's multi-mesh); ``"cells"``: the 20 * 4**level cell circumcentres linked across
    cell edges (single level only). Only root 1 exists in :mod:`wxai.data.grids`.
    """

    root: Literal[1] = 1
    level: int = Field(ge=0, le=9)
    nodes: Literal["vertices", "cells"] = "vertices"


class HiddenMesh(_Strict):
    """Exactly one of ``icosahedral`` or ``icon``."""

    icosahedral: IcosahedralMesh | None = None
    icon: IconMesh | None = None

    @model_validator(mode="after")
    def _one(self) -> HiddenMesh:
        if (self.icosahedral is None) == (self.icon is None):
            raise ConfigError("hidden needs exactly one of 'icosahedral' or 'icon'")
        return self

    @property
    def level(self) -> int:
        """Finest refinement level."""
        return self.icosahedral.resolution if self.icosahedral else self.icon.level  # type: ignore[union-attr]

    @property
    def kind(self) -> str:
        """``icosahedral``, ``icon-vertices`` or ``icon-cells``."""
        return "icosahedral" if self.icosahedral else f"icon-{self.icon.nodes}"  # type: ignore[union-attr]


class CutoffEdges(_Strict):
    """Link every pair closer than ``cutoff`` x the longest hidden-mesh edge (great circle)."""

    cutoff: float = Field(gt=0.0, le=10.0)


class KnnEdges(_Strict):
    """Every target node receives edges from its ``knn`` nearest source nodes (as Anemoi)."""

    knn: int = Field(ge=1, le=64)


class GraphConfig(_Strict):
    """Everything :func:`~wxai.emulator.graphs.build.build_graph` needs besides the data grid."""

    hidden: HiddenMesh = HiddenMesh(icosahedral=IcosahedralMesh(resolution=3))
    multi_scale: bool = True
    encoder: CutoffEdges | KnnEdges = CutoffEdges(cutoff=0.6)
    decoder: CutoffEdges | KnnEdges = KnnEdges(knn=3)
    data_area_weight: Literal["voronoi", "cos_latitude", "uniform"] = "voronoi"

    @model_validator(mode="after")
    def _multi_scale_needs_nested_nodes(self) -> GraphConfig:
        if self.multi_scale and self.hidden.kind == "icon-cells":
            raise ConfigError(
                "multi_scale needs nested nodes: ICON cell centres of coarser levels are not "
                "cell centres of finer ones; use icon nodes 'vertices' or multi_scale: false"
            )
        return self


def load_graph_config(source: str | Path | dict) -> GraphConfig:
    """A :class:`GraphConfig` from a YAML file or a mapping.

    Raises
    ------
    ConfigError
        Missing or unparsable file, unknown keys, out-of-range values.
    """
    if isinstance(source, dict):
        data = source
        name = "graph config"
    else:
        path = Path(source)
        if not path.is_file():
            raise ConfigError(f"graph config not found: {path}")
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"graph config {path} is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"graph config {path} must be a mapping, got {type(data).__name__}")
        name = f"graph config {path}"
    try:
        return GraphConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{name} is invalid: {validation_message(exc)}") from exc
