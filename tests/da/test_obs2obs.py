"""Obs-to-obs building blocks: dataset, normalization, A/B batches, DeepSets, query decoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from wxai.core.errors import ConfigError
from wxai.da.models import Toy2D
from wxai.da.obs2obs import (
    Normalizer,
    Obs2ObsNet,
    ObsDataset,
    generate_dataset,
    joint_loss,
    make_batch,
    network_points,
    predict_next,
)

NX, NZ = 24, 10


@pytest.fixture(scope="module")
def data() -> ObsDataset:
    model = Toy2D(nx=NX, nz=NZ)
    return generate_dataset(
        model,
        n_snapshots=12,
        every=5,
        dt=0.1,
        spinup_steps=100,
        rs_columns=np.array([2, 9, 17]),
        rs_levels=np.arange(0, NZ, 3),
        sat_peaks=np.array([0.5, 1.5, 2.5]),
        sat_width=0.4,
        sigma_rs=1e-9,
        sigma_sat=1e-9,
        rng=np.random.default_rng(0),
    )


def _net(n_sat: int = 3) -> Obs2ObsNet:
    torch.manual_seed(0)
    return Obs2ObsNet(
        n_sat, cnn_channels=[8, 8], kernel_size=3, set_hidden=[8], set_size=6, decoder_hidden=[16]
    )


def test_dataset_applies_the_radiosonde_and_satellite_operators(data):
    assert data.xtrue.shape == (12, NZ, NX)
    assert data.yrs.shape == (12, 3, 4) and data.ysat.shape == (12, 3, NX)
    np.testing.assert_allclose(data.t_snap, 10.0 + 0.5 * np.arange(12))
    # yrs[t, s, k] = phi(x_s, z_k, t); ysat[t, c, x] = sum_j w_c(z_j) phi(x, z_j, t) dz.
    expect_rs = data.xtrue[:, data.rs_iz][:, :, data.rs_ix].transpose(0, 2, 1)
    np.testing.assert_allclose(data.yrs, expect_rs, atol=1e-7)
    dz = data.z[1] - data.z[0]
    expect_sat = np.einsum("cj,tjx->tcx", data.sat_w, data.xtrue) * dz
    np.testing.assert_allclose(data.ysat, expect_sat, atol=1e-7)
    # A non-trivial field: the pulsed source has filled the domain.
    assert data.xtrue.std() > 0.05


def test_dataset_save_load_round_trip(data, tmp_path):
    path = data.save(tmp_path / "sub" / "dyn_truth_obs.npz")
    back = ObsDataset.load(path)
    for name, value in data.__dict__.items():
        np.testing.assert_array_equal(np.asarray(getattr(back, name)), np.asarray(value))
    assert list(tmp_path.joinpath("sub").iterdir()) == [path]


def test_normalizer_per_channel_sat_and_global_phi(data):
    norm = Normalizer.fit(data)
    sat = norm.sat(data.ysat)
    np.testing.assert_allclose(sat.mean(axis=(0, 2)), 0.0, atol=1e-9)
    np.testing.assert_allclose(sat.std(axis=(0, 2)), 1.0, atol=1e-6)
    phi = norm.phi(data.xtrue)
    assert abs(phi.mean()) < 1e-9 and abs(phi.std() - 1) < 1e-9
    np.testing.assert_allclose(norm.phi_inverse(phi), data.xtrue, atol=1e-12)


def _indices(data: ObsDataset, xz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dx, dz = data.length_x / NX, data.length_z / NZ
    ix = np.rint(xz[..., 0] * data.length_x / dx - 0.5).astype(int)
    iz = np.rint(xz[..., 1] * data.length_z / dz - 0.5).astype(int)
    return iz, ix


def test_mode_b_uses_only_the_stored_network(data):
    norm = Normalizer.fit(data)
    times = np.array([0, 4, 7])
    batch = make_batch(
        data, norm, times, mode="B", n_in=5, n_query=30, sigma_rs=0.0, rng=np.random.default_rng(1)
    )
    assert batch.rs.shape == (3, 12, 3)
    for b, t in enumerate(times):
        np.testing.assert_allclose(batch.rs[b].numpy(), network_points(data, norm, t), atol=1e-6)
        iz, ix = _indices(data, batch.rs[b, :, :2].numpy())
        assert set(ix) == set(data.rs_ix) and set(iz) == set(data.rs_iz)
    # Targets: SAT at t+1 and the truth at the queries at t+1.
    np.testing.assert_allclose(batch.sat_next.numpy(), norm.sat(data.ysat[times + 1]), atol=1e-5)
    iz, ix = _indices(data, batch.query.numpy())
    expect = norm.phi(data.xtrue[times[:, None] + 1, iz, ix])
    np.testing.assert_allclose(batch.query_next.numpy(), expect, atol=1e-5)


def test_mode_a_samples_random_points_of_the_truth(data):
    norm = Normalizer.fit(data)
    times = np.array([1, 2])
    batch = make_batch(
        data, norm, times, mode="A", n_in=40, n_query=8, sigma_rs=0.0, rng=np.random.default_rng(2)
    )
    assert batch.rs.shape == (2, 40, 3)
    iz, ix = _indices(data, batch.rs[..., :2].numpy())
    expect = norm.phi(data.xtrue[times[:, None], iz, ix])
    np.testing.assert_allclose(batch.rs[..., 2].numpy(), expect, atol=1e-5)
    assert len(set(ix.ravel())) > 10  # geometry is not the station network
    noisy = make_batch(
        data, norm, times, mode="A", n_in=40, n_query=8, sigma_rs=0.5, rng=np.random.default_rng(2)
    )
    assert not np.allclose(noisy.rs[..., 2].numpy(), expect, atol=0.05)
    with pytest.raises(ConfigError, match="valid modes: A, B"):
        make_batch(data, norm, times, mode="C", n_in=4, n_query=4, sigma_rs=0.0, rng=None)  # type: ignore[arg-type]


def test_set_encoder_is_permutation_invariant_and_sees_the_values():
    net = _net()
    rs = torch.rand(2, 15, 3)
    perm = torch.randperm(15)
    torch.testing.assert_close(net.encode_set(rs), net.encode_set(rs[:, perm]))
    other = rs.clone()
    other[..., 2] += 1.0
    assert not torch.allclose(net.encode_set(rs), net.encode_set(other))
    # Variable set size: the same network takes 7 or 40 points.
    assert net.encode_set(torch.rand(2, 7, 3)).shape == net.encode_set(torch.rand(2, 40, 3)).shape


def test_query_sampling_reads_columns_and_wraps_periodically():
    feats = torch.randn(2, 4, NX)
    centres = (torch.arange(NX, dtype=torch.float32) + 0.5) / NX
    got = Obs2ObsNet.sample_columns(feats, centres.expand(2, -1))
    torch.testing.assert_close(got, feats.transpose(1, 2))
    # x = 0 lies halfway between the last and the first column.
    mid = Obs2ObsNet.sample_columns(feats, torch.zeros(2, 1))
    torch.testing.assert_close(mid[:, 0], 0.5 * (feats[..., 0] + feats[..., -1]))


def test_forward_shapes_and_joint_loss():
    net = _net()
    sat, rs, query = torch.randn(4, 3, NX), torch.rand(4, 9, 3), torch.rand(4, 21, 2)
    sat_next, values = net(sat, rs, query)
    assert sat_next.shape == (4, 3, NX) and values.shape == (4, 21)
    target_sat, target_rs = torch.randn(4, 3, NX), torch.randn(4, 21)
    total, l_sat, l_rs = joint_loss(sat_next, target_sat, values, target_rs, alpha=2.5)
    torch.testing.assert_close(l_sat, ((sat_next - target_sat) ** 2).mean())
    torch.testing.assert_close(l_rs, ((values - target_rs) ** 2).mean())
    torch.testing.assert_close(total, l_sat + 2.5 * l_rs)


def test_predict_next_returns_physical_fields_and_columns(data):
    norm = Normalizer.fit(data)
    net = _net()
    fields, curtains = predict_next(net, data, norm, np.array([0, 3]))
    assert fields.shape == (2, NZ, NX) and curtains.shape == (2, 3, NX)
    cols, _ = predict_next(net, data, norm, np.array([0, 3]), columns=np.array([5, 11]))
    np.testing.assert_allclose(cols, fields[..., [5, 11]], rtol=1e-5, atol=1e-6)
