"""VectorIndex against brute force: exact flat search, IVF/HNSW recall, removal, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wxai.assistant.rag.vector_index import VectorIndex
from wxai.core.errors import ConfigError

DIM = 32


def _clustered(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, DIM))
    x = centres[rng.integers(0, 40, n)] + 0.6 * rng.normal(size=(n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _brute(q: np.ndarray, x: np.ndarray, ids: np.ndarray, k: int):
    sims = q @ x.T
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, order, axis=1), ids[order]


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])
    )


def test_flat_matches_brute_force_exactly():
    x = _clustered(500)
    ids = np.arange(500, dtype=np.int64) * 3 + 11
    index = VectorIndex(DIM, kind="flat")
    index.add(ids[:200], x[:200])
    index.add(ids[200:], x[200:])
    q = _clustered(20, seed=1)
    scores, found = index.search(q, 10)
    ref_scores, ref_ids = _brute(q, x, ids, 10)
    assert index.kind == "flat" and index.ntotal == 500
    np.testing.assert_array_equal(found, ref_ids)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-5, atol=1e-6)


def test_search_pads_when_fewer_than_k():
    index = VectorIndex(DIM)
    index.add(np.array([7]), _clustered(1))
    scores, ids = index.search(_clustered(2, seed=3), 3)
    assert ids.shape == (2, 3)
    assert (ids[:, 0] == 7).all() and (ids[:, 1:] == -1).all()
    assert np.isneginf(scores[:, 1:]).all()


@pytest.mark.parametrize("kind", ["ivf", "hnsw", "auto"])
def test_approximate_index_above_exact_max_has_high_recall(kind):
    n = 3000
    x = _clustered(n)
    ids = np.arange(n, dtype=np.int64)
    index = VectorIndex(DIM, exact_max=1000, kind=kind)
    index.add(ids[:800], x[:800])
    assert index.kind == "flat"
    index.add(ids[800:1500], x[800:1500])  # crosses exact_max: trained here, once
    expected = "hnsw" if kind == "hnsw" else "ivf"
    assert index.kind == expected
    if expected == "ivf":
        assert index.nlist == min(int(4 * np.sqrt(1500)), 1500 // 39)
    index.add(ids[1500:], x[1500:])
    assert index.ntotal == n
    q = _clustered(100, seed=5)
    _, found = index.search(q, 10)
    _, truth = _brute(q, x, ids, 10)
    assert _recall(found, truth) >= 0.9


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_remove_for_each_kind(kind, tmp_path: Path):
    n = 1200
    x = _clustered(n, seed=2)
    ids = np.arange(n, dtype=np.int64) + 100
    index = VectorIndex(DIM, exact_max=400, kind=kind)
    index.add(ids, x)
    assert index.kind == kind
    gone = ids[:100]
    assert index.remove(gone) == 100
    assert index.remove(gone) == 0  # already removed
    assert index.ntotal == n - 100
    # Querying with the removed vectors themselves never returns them.
    _, found = index.search(x[:100], 5)
    assert not np.isin(found, gone).any()
    keep_x, keep_ids = x[100:], ids[100:]
    _, truth = _brute(x[:100], keep_x, keep_ids, 5)
    assert _recall(found, truth) >= 0.9
    if kind == "hnsw":
        # Past a quarter of tombstones the graph is rebuilt from the live vectors.
        index.remove(ids[100:400])
        assert index.ntotal == n - 400
        _, found = index.search(x[:400], 5)
        assert not np.isin(found, ids[:400]).any()
    # Re-adding a removed id works.
    index.add(gone[:1], x[:1])
    _, found = index.search(x[:1], 1)
    assert found[0, 0] == gone[0]


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_save_load_round_trip(kind, tmp_path: Path):
    x = _clustered(900, seed=4)
    ids = np.arange(900, dtype=np.int64) * 2
    index = VectorIndex(DIM, exact_max=300, kind=kind, nprobe=8)
    index.add(ids, x)
    index.remove(ids[:10])
    path = index.save(tmp_path / "v.faiss", store_version=12)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left
    loaded = VectorIndex.load(path)
    assert loaded.kind == index.kind and loaded.ntotal == index.ntotal == 890
    assert loaded.meta["store_version"] == 12
    q = _clustered(30, seed=9)
    s1, i1 = index.search(q, 7)
    s2, i2 = loaded.search(q, 7)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_allclose(s1, s2)
    # A loaded index keeps growing.
    loaded.add(np.array([10_001]), x[:1])
    assert loaded.search(x[:1], 1)[1][0, 0] in (10_001, 0)


def test_bad_input():
    with pytest.raises(ConfigError, match="kind"):
        VectorIndex(DIM, kind="lsh")  # type: ignore[arg-type]
    index = VectorIndex(DIM)
    with pytest.raises(ConfigError, match="shape"):
        index.add(np.array([1]), np.zeros((1, DIM + 1), np.float32))


def test_nprobe_and_ef_search_apply_to_the_built_index(tmp_path: Path):
    n = 4000
    x = _clustered(n, seed=6)
    ids = np.arange(n, dtype=np.int64)
    q = _clustered(50, seed=7)
    _, truth = _brute(q, x, ids, 10)
    ivf = VectorIndex(DIM, exact_max=0, kind="ivf", nprobe=1)
    ivf.add(ids, x)
    one_cell = _recall(ivf.search(q, 10)[1], truth)
    ivf.nprobe = ivf.nlist  # every cell: exact
    assert ivf.nprobe == ivf.nlist
    assert _recall(ivf.search(q, 10)[1], truth) == 1.0 > one_cell
    ivf.nprobe = 10 * ivf.nlist  # clipped to nlist, still exact
    assert _recall(ivf.search(q, 10)[1], truth) == 1.0
    # The setting survives save/load.
    ivf.nprobe = 3
    loaded = VectorIndex.load(ivf.save(tmp_path / "ivf.faiss"))
    assert loaded.nprobe == 3
    np.testing.assert_array_equal(loaded.search(q, 10)[1], ivf.search(q, 10)[1])

    hnsw = VectorIndex(DIM, exact_max=0, kind="hnsw", hnsw_m=4, ef_search=1)
    hnsw.add(ids, x)
    narrow = _recall(hnsw.search(q, 10)[1], truth)
    hnsw.ef_search = 400
    assert _recall(hnsw.search(q, 10)[1], truth) > narrow
    with pytest.raises(ConfigError, match="nprobe"):
        ivf.nprobe = 0


def test_ivf_trains_on_a_seeded_sample_and_keeps_recall():
    n = 6000
    x = _clustered(n, seed=8)
    ids = np.arange(n, dtype=np.int64)
    q = _clustered(100, seed=9)
    _, truth = _brute(q, x, ids, 10)
    found = []
    for per_cell in (39, 39, 256):
        index = VectorIndex(DIM, exact_max=0, kind="ivf", nprobe=16, train_per_cell=per_cell)
        index.add(ids, x)
        assert index.ntotal == n
        assert index.trained_on == min(n, per_cell * index.nlist)
        found.append(index.search(q, 10)[1])
    assert 39 * index.nlist < n  # the first two trained on a sample
    np.testing.assert_array_equal(found[0], found[1])  # same seed, same index
    sampled, everything = _recall(found[0], truth), _recall(found[2], truth)
    assert sampled >= 0.9 and sampled >= everything - 0.02
    with pytest.raises(ConfigError, match="train_per_cell"):
        VectorIndex(DIM, train_per_cell=10)


def test_thread_settings_are_scoped_to_each_call():
    import faiss

    from wxai.assistant.rag.vector_index import faiss_threads

    before = faiss.omp_get_max_threads()
    with faiss_threads(1):
        assert faiss.omp_get_max_threads() == 1
    assert faiss.omp_get_max_threads() == before
    index = VectorIndex(DIM, exact_max=100, threads=1)
    x = _clustered(300)
    index.add(np.arange(300), x)  # trains IVF on one thread
    index.search(x[:1], 3)  # one query: one thread
    index.search(x, 3)  # a batch: `threads`
    assert faiss.omp_get_max_threads() == before


def test_default_nprobe_grows_with_the_number_of_cells():
    from wxai.assistant.rag.vector_index import auto_nprobe

    assert [auto_nprobe(n) for n in (0, 256, 2048, 2049, 4000)] == [16, 16, 16, 17, 32]
    index = VectorIndex(8)
    assert index.nprobe == 16
    index.nprobe = 5
    assert index.nprobe == 5
    index.nprobe = None
    assert index.nprobe == 16
