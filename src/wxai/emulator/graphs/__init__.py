"""Anemoi-graphs-like encoder-processor-decoder graphs on the sphere.

Modules: :mod:`~.config` (:class:`GraphConfig`, YAML), :mod:`~.mesh` (refined icosahedra,
ICON meshes), :mod:`~.edges` (cut-off and k-NN edges, edge attributes), :mod:`~.nodes`
(positions, area weights), :mod:`~.build` (:func:`build_graph`), :mod:`~.io` (save, load,
check against a dataset), :mod:`~.inspect` (counts, degrees, lengths, coverage).
"""

from wxai.emulator.graphs.build import DATA, DECODER, ENCODER, HIDDEN, PROCESSOR, build_graph
from wxai.emulator.graphs.config import GraphConfig, load_graph_config
from wxai.emulator.graphs.inspect import format_inspection, inspect_graph
from wxai.emulator.graphs.io import check_matches, load_graph, save_graph

__all__ = [
    "DATA",
    "DECODER",
    "ENCODER",
    "HIDDEN",
    "PROCESSOR",
    "GraphConfig",
    "build_graph",
    "check_matches",
    "format_inspection",
    "inspect_graph",
    "load_graph",
    "load_graph_config",
    "save_graph",
]
