"""Graph config loading, save/load round trip, dataset checks and the inspection report."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from wxai.core.errors import ConfigError, DataFormatError
from wxai.emulator.graphs import (
    DATA,
    DECODER,
    ENCODER,
    HIDDEN,
    PROCESSOR,
    GraphConfig,
    build_graph,
    check_matches,
    format_inspection,
    inspect_graph,
    load_graph,
    load_graph_config,
    save_graph,
)


@pytest.fixture(scope="module")
def grid() -> tuple[np.ndarray, np.ndarray]:
    x, _ = np.polynomial.legendre.leggauss(32)
    lat, lon = np.meshgrid(np.rad2deg(np.arcsin(x)), np.arange(64) * 360.0 / 64, indexing="ij")
    return lat.ravel(), lon.ravel()


@pytest.fixture(scope="module")
def graph(grid):
    return build_graph(
        load_graph_config({"hidden": {"icosahedral": {"resolution": 2}}}), *grid, dataset="ds.zarr"
    )


def test_config_from_yaml(tmp_path):
    path = tmp_path / "graph.yaml"
    path.write_text(
        "hidden:\n  icosahedral: {resolution: 4}\nmulti_scale: false\n"
        "encoder: {knn: 9}\ndecoder: {cutoff: 0.7}\n"
    )
    cfg = load_graph_config(path)
    assert cfg.hidden.level == 4 and not cfg.multi_scale
    assert cfg.encoder.knn == 9 and cfg.decoder.cutoff == 0.7
    default = load_graph_config({})
    assert default == GraphConfig()
    assert default.encoder.cutoff == 0.6 and default.decoder.knn == 3 and default.multi_scale


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"hidden": {"icosahedral": {"resolution": 3}}, "extra": 1}, "extra"),
        ({"hidden": {"icosahedral": {"resolution": 3}, "icon": {"level": 3}}}, "exactly one"),
        ({"hidden": {"icosahedral": {"resolution": -1}}}, "resolution"),
        ({"hidden": {"icon": {"level": 2, "root": 2}}}, "root"),
        ({"encoder": {"cutoff": 0.6, "knn": 3}}, "encoder"),
    ],
)
def test_config_errors(data, match):
    with pytest.raises(ConfigError, match=match):
        load_graph_config(data)


def test_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_graph_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("hidden: [unclosed\n")
    with pytest.raises(ConfigError, match="YAML"):
        load_graph_config(bad)


def test_save_load_roundtrip(graph, tmp_path):
    path = save_graph(graph, tmp_path / "sub" / "graph.pt")
    assert path.is_file() and [p.name for p in path.parent.iterdir()] == ["graph.pt"]
    loaded = load_graph(path)
    assert set(loaded.node_types) == {DATA, HIDDEN}
    assert set(loaded.edge_types) == {ENCODER, PROCESSOR, DECODER}
    for t in (*loaded.node_types, *loaded.edge_types):
        before, after = graph[t].to_dict(), loaded[t].to_dict()
        assert before.keys() == after.keys()
        for key, value in before.items():
            if isinstance(value, torch.Tensor):
                assert torch.equal(value, after[key]) and value.dtype == after[key].dtype
            else:
                assert value == after[key]
    assert loaded.provenance == graph.provenance
    assert loaded.provenance["dataset"] == "ds.zarr"
    check_matches(loaded, *graph_grid(graph))


def graph_grid(graph):
    x = graph[DATA].x.double().numpy()
    return np.rad2deg(x[:, 0]), np.rad2deg(x[:, 1])


def test_load_errors(tmp_path, graph):
    with pytest.raises(DataFormatError, match="not found"):
        load_graph(tmp_path / "nothing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00not a torch file" * 10)
    with pytest.raises(DataFormatError, match="corrupt"):
        load_graph(junk)
    good = save_graph(graph, tmp_path / "g.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataFormatError, match="corrupt"):
        load_graph(truncated)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(DataFormatError, match="not a wxai emulator graph"):
        load_graph(other)


def test_check_matches(graph, grid):
    lat, lon = grid
    check_matches(graph, lat, lon)
    check_matches(graph, lat.astype(np.float32), lon.astype(np.float32))  # hash differs, same grid
    check_matches(graph, lat, lon - 360.0)  # same points, other longitude convention
    with pytest.raises(ConfigError, match="2048 data nodes but the dataset has 2047"):
        check_matches(graph, lat[:-1], lon[:-1])
    moved = lon.copy()
    moved[5] += 1.0
    with pytest.raises(ConfigError, match=r"at 1 of 2048 cells.*cell 5"):
        check_matches(graph, lat, moved)
    with pytest.raises(ConfigError, match="differ"):
        check_matches(graph, lat[::-1], lon[::-1])  # another cell order


def test_inspect(graph):
    report = inspect_graph(graph)
    assert report["nodes"][DATA]["count"] == 2048
    per_level = report["nodes"][HIDDEN]["per_level"]
    assert [v["cumulative"] for v in per_level.values()] == [12, 42, 162]
    proc = report["edges"]["processor"]
    assert proc["per_level"] == {0: 60, 1: 240, 2: 960}
    assert proc["in_degree"]["min"] == 6 and proc["in_degree"]["max"] == 5 + 5 + 5  # pentagons
    assert proc["in_degree"]["mean"] == pytest.approx(2 * (30 + 120 + 480) / 162)
    # level-0 edges: the icosahedron's edge, arctan(2) radians on the sphere
    assert proc["length_km"]["max"] == pytest.approx(np.arctan(2.0) * 6371.229, rel=1e-5)
    dec = report["edges"]["decoder"]
    assert dec["in_degree"] == {"min": 3.0, "mean": 3.0, "max": 3.0}
    assert report["unreached"]["data_not_encoded"]["count"] == 0
    assert report["unreached"]["data_not_decoded"]["count"] == 0
    text = format_inspection(report)
    assert "nodes hidden: 162" in text and "level 2: 960 edges" in text
    assert "data not encoded: 0" in text


def test_inspect_rejects_other_graphs():
    from torch_geometric.data import HeteroData

    g = HeteroData()
    g["data"].x = torch.zeros(3, 2)
    with pytest.raises(DataFormatError, match="hidden"):
        inspect_graph(g)
