"""Per-node vectors carried to another graph: inverse-distance weights on the sphere."""

from __future__ import annotations

import numpy as np

from wxai.data.grids.icosahedral import icosahedron, subdivide
from wxai.emulator.training.transfer import interpolation_weights


def test_nested_icosahedral_meshes_keep_coarse_vectors_and_blend_the_new_ones():
    coarse, faces = icosahedron()
    fine, _ = subdivide(coarse, faces)  # 12 + 30 edge midpoints
    index, weight = interpolation_weights(coarse, fine)
    assert index.shape == weight.shape == (42, 3)
    np.testing.assert_allclose(weight.sum(axis=1), 1.0)
    # the 12 coarse vertices are the fine mesh's first nodes and take only themselves
    np.testing.assert_array_equal(index[:12, 0], np.arange(12))
    np.testing.assert_allclose(weight[:12], np.tile([1.0, 0.0, 0.0], (12, 1)))
    # a midpoint: both ends of its edge weigh the same and more than the third nearest
    np.testing.assert_allclose(weight[12:, 0], weight[12:, 1])
    assert (weight[12:, 1] > weight[12:, 2]).all()


def test_weights_are_inverse_chord_distances_brute_force():
    rng = np.random.default_rng(3)
    source = rng.normal(size=(50, 3))
    source /= np.linalg.norm(source, axis=1, keepdims=True)
    target = rng.normal(size=(20, 3))
    target /= np.linalg.norm(target, axis=1, keepdims=True)
    index, weight = interpolation_weights(source, target, k=4)
    chord = np.linalg.norm(target[:, None] - source[None], axis=-1)  # (T, S)
    nearest = np.argsort(chord, axis=1)[:, :4]
    np.testing.assert_array_equal(np.sort(index, axis=1), np.sort(nearest, axis=1))
    expected = 1.0 / np.take_along_axis(chord, index, axis=1)
    np.testing.assert_allclose(weight, expected / expected.sum(axis=1, keepdims=True))
    # fewer sources than k: every source is used
    small_index, small_weight = interpolation_weights(source[:2], target, k=3)
    assert small_index.shape == (20, 2)
    np.testing.assert_allclose(small_weight.sum(axis=1), 1.0)
