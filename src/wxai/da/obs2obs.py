"""Obs-to-obs learning on the 2D toy atmosphere (lecture 20).

A forecast step is learned in observation space only:
``(y_sat(t), y_rs(t)) -> (y_sat(t+1), y_rs(t+1)(x_q, z_q))``. The satellite curtain
``y_sat[channel, x]`` is encoded by a periodic 1D CNN along x, the radiosonde points
``{(x_m, z_m, y_m)}`` by a permutation-invariant DeepSets encoder, and a query decoder
predicts the next value at any point ``(x_q, z_q)``; querying every grid point turns
the observation forecast into a full field at ``t+1``.

Two dataset modes set the radiosonde input of a training pair (the lecture's A/B switch):

- ``"A"``: points sampled at random from the truth at ``t`` plus noise (varied geometry);
- ``"B"``: exactly the stored radiosonde network ``yrs[t]`` (observations only).

Targets are always the next satellite curtain and the truth at random query points at
``t+1``. Coordinates fed to the network are ``x / L_x`` and ``z / L_z`` in ``[0, 1)``.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn

from wxai.core.errors import ConfigError
from wxai.nn.conv import ConvNet1d
from wxai.nn.mlp import MLP

Mode = Literal["A", "B"]
MODES: tuple[str, ...] = ("A", "B")


@dataclass(frozen=True)
class ObsDataset:
    """Truth snapshots of the 2D toy and its two observation types.

    Attributes
    ----------
    xtrue:
        Truth fields, ``(T, nz, nx)``.
    yrs:
        Radiosonde profiles ``yrs[t, station, level]``, ``(T, n_rs, n_vert)``.
    ysat:
        Satellite curtains ``ysat[t, channel, x]``, ``(T, n_sat, nx)``.
    t_snap:
        Snapshot times, ``(T,)``.
    rs_ix, rs_iz:
        Station column indices ``(n_rs,)`` and observed level indices ``(n_vert,)``.
    sat_w:
        Vertical weights of the channels, ``(n_sat, nz)``.
    x, z:
        Cell-centre coordinates, ``(nx,)`` and ``(nz,)``.
    length_x, length_z:
        Domain size (x is periodic).
    """

    xtrue: np.ndarray
    yrs: np.ndarray
    ysat: np.ndarray
    t_snap: np.ndarray
    rs_ix: np.ndarray
    rs_iz: np.ndarray
    sat_w: np.ndarray
    x: np.ndarray
    z: np.ndarray
    length_x: float
    length_z: float

    @property
    def n_times(self) -> int:
        """``T``."""
        return self.xtrue.shape[0]

    @property
    def shape(self) -> tuple[int, int]:
        """``(nz, nx)``."""
        return self.xtrue.shape[1], self.xtrue.shape[2]

    def save(self, path: str | Path) -> Path:
        """Write all arrays to ``path`` (``.npz``) through a temporary file and a rename."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
        os.close(fd)
        arrays = {k: np.asarray(v) for k, v in self.__dict__.items()}
        np.savez(tmp, **arrays)
        Path(tmp).replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> ObsDataset:
        """Read a dataset written by :meth:`save`."""
        with np.load(path) as data:
            kw = {k: data[k] for k in data.files}
        kw["length_x"], kw["length_z"] = float(kw["length_x"]), float(kw["length_z"])
        return cls(**kw)


def generate_dataset(
    model,
    *,
    n_snapshots: int,
    every: int,
    dt: float,
    spinup_steps: int,
    rs_columns: np.ndarray,
    rs_levels: np.ndarray,
    sat_peaks: np.ndarray,
    sat_width: float,
    sigma_rs: float,
    sigma_sat: float,
    rng: np.random.Generator,
) -> ObsDataset:
    """Run the toy model and observe every snapshot with radiosondes and satellite channels.

    Parameters
    ----------
    model:
        A :class:`wxai.da.models.Toy2D`.
    n_snapshots, every, dt:
        ``T`` snapshots, ``every`` RK4 steps of length ``dt`` apart.
    spinup_steps:
        Steps from rest before the first snapshot.
    rs_columns, rs_levels:
        Station columns ``(n_rs,)`` and observed levels ``(n_vert,)`` (grid indices).
    sat_peaks, sat_width:
        Peak heights of the Gaussian channel weights ``(n_sat,)`` and their width.
    sigma_rs, sigma_sat:
        Observation-error standard deviations.
    """
    from wxai.da.operators import radiosonde_columns, satellite_channels, satellite_weights

    if n_snapshots < 2 or every < 1:
        raise ConfigError("need n_snapshots >= 2 and every >= 1")
    x0 = np.zeros(model.state_size)
    if spinup_steps > 0:
        x0 = model.run(x0, spinup_steps, dt, every=spinup_steps)[0][-1]
    t0 = spinup_steps * dt
    states, budget = model.run(x0, (n_snapshots - 1) * every, dt, t0=t0, every=every)
    rs_columns, rs_levels = np.asarray(rs_columns, int), np.asarray(rs_levels, int)
    rs_op = radiosonde_columns(model.nx, model.nz, rs_columns, rs_levels, sigma_rs)
    weights = satellite_weights(model.z, np.asarray(sat_peaks, float), sat_width)
    sat_op = satellite_channels(model.nx, model.z, weights, sigma_sat)
    # Both error covariances are diagonal: draw the noise for all snapshots at once.
    yrs = rs_op(states) + sigma_rs * rng.standard_normal((states.shape[0], rs_op.n_obs))
    ysat = sat_op(states) + sigma_sat * rng.standard_normal((states.shape[0], sat_op.n_obs))
    n_t = states.shape[0]
    return ObsDataset(
        xtrue=model.field(states),
        yrs=yrs.reshape(n_t, rs_columns.size, rs_levels.size),
        ysat=ysat.reshape(n_t, weights.shape[0], model.nx),
        t_snap=budget.times,
        rs_ix=rs_columns,
        rs_iz=rs_levels,
        sat_w=weights,
        x=model.x,
        z=model.z,
        length_x=model.length_x,
        length_z=model.length_z,
    )


@dataclass(frozen=True)
class Normalizer:
    """Per-channel SAT statistics and global field (and RS) statistics.

    ``ysat_n = (ysat - sat_mean[c]) / sat_std[c]``; ``phi_n = (phi - phi_mean) / phi_std``,
    radiosondes use the field's statistics.
    """

    sat_mean: np.ndarray
    sat_std: np.ndarray
    phi_mean: float
    phi_std: float

    @classmethod
    def fit(cls, data: ObsDataset, times: np.ndarray | None = None) -> Normalizer:
        """Statistics over ``times`` (default all), ``sat_*`` of shape ``(n_sat,)``."""
        idx = np.arange(data.n_times) if times is None else np.asarray(times)
        sat = data.ysat[idx]
        phi = data.xtrue[idx]
        return cls(
            sat.mean(axis=(0, 2)), sat.std(axis=(0, 2)) + 1e-12, float(phi.mean()), float(phi.std())
        )

    def sat(self, y: np.ndarray) -> np.ndarray:
        """Normalise curtains ``(..., n_sat, nx)``."""
        return (y - self.sat_mean[:, None]) / self.sat_std[:, None]

    def phi(self, v: np.ndarray) -> np.ndarray:
        """Normalise field or radiosonde values (any shape)."""
        return (v - self.phi_mean) / self.phi_std

    def phi_inverse(self, v: np.ndarray) -> np.ndarray:
        """Physical values from normalised ones."""
        return v * self.phi_std + self.phi_mean


@dataclass
class Batch:
    """One batch of transitions ``t -> t+1`` as float32 tensors.

    Attributes
    ----------
    sat:
        Normalised curtains at ``t``, ``(B, n_sat, nx)``.
    rs:
        Radiosonde points ``(x / L_x, z / L_z, y_n)`` at ``t``, ``(B, N_in, 3)``.
    sat_next:
        Normalised curtains at ``t+1``, ``(B, n_sat, nx)``.
    query:
        Query positions ``(x / L_x, z / L_z)``, ``(B, N_q, 2)``.
    query_next:
        Normalised truth at the queries at ``t+1``, ``(B, N_q)``.
    """

    sat: torch.Tensor
    rs: torch.Tensor
    sat_next: torch.Tensor
    query: torch.Tensor
    query_next: torch.Tensor


def _points(data: ObsDataset, iz: np.ndarray, ix: np.ndarray) -> np.ndarray:
    """Normalised coordinates ``(..., 2)`` of grid points ``(iz, ix)``."""
    return np.stack([data.x[ix] / data.length_x, data.z[iz] / data.length_z], axis=-1)


def network_points(data: ObsDataset, norm: Normalizer, t: int) -> np.ndarray:
    """The stored radiosonde network at time ``t`` as a point set ``(n_rs * n_vert, 3)``."""
    ix = np.repeat(data.rs_ix, data.rs_iz.size)
    iz = np.tile(data.rs_iz, data.rs_ix.size)
    return np.concatenate([_points(data, iz, ix), norm.phi(data.yrs[t]).reshape(-1, 1)], axis=1)


def make_batch(
    data: ObsDataset,
    norm: Normalizer,
    times: np.ndarray,
    *,
    mode: Mode,
    n_in: int,
    n_query: int,
    sigma_rs: float,
    rng: np.random.Generator,
) -> Batch:
    """Transitions ``times -> times + 1`` with mode ``"A"`` or ``"B"`` radiosonde input.

    Parameters
    ----------
    times:
        Start indices ``(B,)``, each ``< T - 1``.
    mode:
        ``"A"``: ``n_in`` random grid points of ``xtrue[t]`` plus ``N(0, sigma_rs^2)`` noise;
        ``"B"``: the stored network ``yrs[t]`` (``n_in`` is ignored).
    n_query:
        Random query points per transition; targets from ``xtrue[t+1]``.
    """
    if mode not in MODES:
        raise ConfigError(f"unknown dataset mode {mode!r}; valid modes: {', '.join(MODES)}")
    times = np.asarray(times, dtype=int)
    nz, nx = data.shape
    if mode == "A":
        iz = rng.integers(0, nz, size=(times.size, n_in))
        ix = rng.integers(0, nx, size=(times.size, n_in))
        values = data.xtrue[times[:, None], iz, ix] + sigma_rs * rng.standard_normal(iz.shape)
        rs = np.concatenate([_points(data, iz, ix), norm.phi(values)[..., None]], axis=-1)
    else:
        rs = np.stack([network_points(data, norm, t) for t in times])
    qz = rng.integers(0, nz, size=(times.size, n_query))
    qx = rng.integers(0, nx, size=(times.size, n_query))
    target = norm.phi(data.xtrue[times[:, None] + 1, qz, qx])

    def f32(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a), dtype=torch.float32)

    return Batch(
        f32(norm.sat(data.ysat[times])),
        f32(rs),
        f32(norm.sat(data.ysat[times + 1])),
        f32(_points(data, qz, qx)),
        f32(target),
    )


def _fourier(u: torch.Tensor, n_freq: int) -> torch.Tensor:
    """``[sin(2 pi k u), cos(2 pi k u)]`` for ``k = 1..n_freq``: ``(..., ) -> (..., 2 n_freq)``."""
    k = torch.arange(1, n_freq + 1, dtype=u.dtype, device=u.device)
    arg = 2 * math.pi * u[..., None] * k
    return torch.cat([torch.sin(arg), torch.cos(arg)], dim=-1)


class Obs2ObsNet(nn.Module):
    """CNN(SAT) + DeepSets(RS) + query decoder.

    Parameters
    ----------
    n_sat:
        Satellite channels.
    cnn_channels, kernel_size:
        Hidden widths of the periodic 1D CNN along x and its kernel size.
    set_hidden, set_size:
        Hidden widths of the per-point network ``psi`` and the set-embedding size.
    decoder_hidden:
        Hidden widths of the query decoder ``g``.
    n_freq:
        Fourier frequencies used to embed ``x`` and ``z`` (``x`` periodic).

    Shapes
    ------
    ``forward(sat (B, n_sat, nx), rs (B, N, 3), query (B, Q, 2))`` ->
    ``(sat_next (B, n_sat, nx), rs_next (B, Q))``.
    """

    def __init__(
        self,
        n_sat: int,
        *,
        cnn_channels: list[int],
        kernel_size: int = 5,
        set_hidden: list[int],
        set_size: int = 32,
        decoder_hidden: list[int],
        n_freq: int = 4,
    ) -> None:
        super().__init__()
        self.n_freq = n_freq
        features = cnn_channels[-1]
        self.cnn = ConvNet1d(
            [n_sat + 2, *cnn_channels], kernel_size, padding_mode="circular", act="gelu"
        )
        self.sat_head = nn.Conv1d(features, n_sat, 1)
        self.psi = MLP(4 * n_freq + 1, set_size, set_hidden, act="gelu")
        self.rho = MLP(set_size, set_size, [set_size], act="gelu")
        self.decoder = MLP(features + set_size + 4 * n_freq, 1, decoder_hidden, act="gelu")

    def encode_sat(self, sat: torch.Tensor) -> torch.Tensor:
        """CNN features ``(B, F, nx)`` of curtains ``(B, n_sat, nx)`` (x position appended)."""
        nx = sat.shape[-1]
        x = (torch.arange(nx, dtype=sat.dtype, device=sat.device) + 0.5) / nx
        pos = torch.stack([torch.sin(2 * math.pi * x), torch.cos(2 * math.pi * x)])
        return self.cnn(torch.cat([sat, pos.expand(sat.shape[0], -1, -1)], dim=1))

    def encode_set(self, rs: torch.Tensor) -> torch.Tensor:
        """Permutation-invariant embedding ``(B, set_size)`` of points ``(B, N, 3)``."""
        e = self.psi(torch.cat([self._embed(rs[..., :2]), rs[..., 2:]], dim=-1))
        return self.rho(e.mean(dim=1))

    def _embed(self, xz: torch.Tensor) -> torch.Tensor:
        return torch.cat([_fourier(xz[..., 0], self.n_freq), _fourier(xz[..., 1], self.n_freq)], -1)

    @staticmethod
    def sample_columns(features: torch.Tensor, xq: torch.Tensor) -> torch.Tensor:
        """Linear periodic interpolation of ``features (B, F, nx)`` at ``xq (B, Q)`` in [0, 1).

        Returns ``(B, Q, F)``; at cell centres it reads the column exactly.
        """
        nx = features.shape[-1]
        pos = xq * nx - 0.5
        i0 = torch.floor(pos)
        w = (pos - i0)[..., None]
        i0 = i0.long() % nx
        i1 = (i0 + 1) % nx
        f = features.transpose(1, 2)  # (B, nx, F)
        b = torch.arange(f.shape[0], device=f.device)[:, None]
        return (1 - w) * f[b, i0] + w * f[b, i1]

    def forward(
        self, sat: torch.Tensor, rs: torch.Tensor, query: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Next curtains ``(B, n_sat, nx)`` and next values at the queries ``(B, Q)``."""
        feat = self.encode_sat(sat)
        sat_next = sat + self.sat_head(feat)
        ctx = self.encode_set(rs)
        cols = self.sample_columns(feat, query[..., 0])
        z = torch.cat([cols, ctx[:, None].expand(-1, query.shape[1], -1), self._embed(query)], -1)
        return sat_next, self.decoder(z).squeeze(-1)


def joint_loss(
    sat_pred: torch.Tensor,
    sat_target: torch.Tensor,
    rs_pred: torch.Tensor,
    rs_target: torch.Tensor,
    alpha: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``L = L_sat + alpha L_rs`` with mean-squared errors; returns ``(L, L_sat, L_rs)``."""
    l_sat = torch.mean((sat_pred - sat_target) ** 2)
    l_rs = torch.mean((rs_pred - rs_target) ** 2)
    return l_sat + alpha * l_rs, l_sat, l_rs


@dataclass
class TrainHistory:
    """Per-epoch mean losses and wall time of :func:`train_obs2obs`."""

    loss: list[float] = field(default_factory=list)
    loss_sat: list[float] = field(default_factory=list)
    loss_rs: list[float] = field(default_factory=list)
    seconds: float = 0.0


def train_obs2obs(
    net: Obs2ObsNet,
    data: ObsDataset,
    norm: Normalizer,
    train_times: np.ndarray,
    *,
    mode: Mode,
    epochs: int,
    batch_size: int,
    lr: float,
    alpha: float = 1.0,
    n_in: int = 64,
    n_query: int = 256,
    sigma_rs: float = 0.0,
    seed: int = 0,
    progress: Callable[[float, str], None] | None = None,
) -> TrainHistory:
    """Fit ``net`` to transitions starting at ``train_times`` with the joint loss.

    Each epoch visits every start time once in random batches; mode ``"A"`` draws new
    radiosonde points and every epoch draws new query points. Adam with cosine decay.
    """
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1))
    history = TrainHistory()
    start = time.perf_counter()
    train_times = np.asarray(train_times, dtype=int)
    net.train()
    for epoch in range(epochs):
        order = rng.permutation(train_times)
        sums = np.zeros(3)
        for i in range(0, order.size, batch_size):
            batch = make_batch(
                data,
                norm,
                order[i : i + batch_size],
                mode=mode,
                n_in=n_in,
                n_query=n_query,
                sigma_rs=sigma_rs,
                rng=rng,
            )
            sat_pred, rs_pred = net(batch.sat, batch.rs, batch.query)
            loss, l_sat, l_rs = joint_loss(
                sat_pred, batch.sat_next, rs_pred, batch.query_next, alpha
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            sums += [loss.item(), l_sat.item(), l_rs.item()]
        sched.step()
        n_batches = math.ceil(order.size / batch_size)
        history.loss.append(sums[0] / n_batches)
        history.loss_sat.append(sums[1] / n_batches)
        history.loss_rs.append(sums[2] / n_batches)
        if progress is not None and (epoch + 1) % max(1, epochs // 20) == 0:
            progress(
                (epoch + 1) / epochs, f"epoch {epoch + 1}/{epochs} loss {history.loss[-1]:.4f}"
            )
    history.seconds = time.perf_counter() - start
    net.eval()
    return history


@torch.no_grad()
def predict_next(
    net: Obs2ObsNet,
    data: ObsDataset,
    norm: Normalizer,
    times: np.ndarray,
    *,
    columns: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Forecast ``t -> t+1`` from the observations at ``t`` only (SAT + stored RS network).

    Parameters
    ----------
    times:
        Start indices ``(B,)``.
    columns:
        Column indices to query at every level (default: all, i.e. the full field).

    Returns
    -------
    tuple
        Physical fields at ``t+1`` on the queried columns ``(B, nz, n_cols)`` and the
        predicted curtains ``(B, n_sat, nx)`` (physical units).
    """
    times = np.asarray(times, dtype=int)
    nz, nx = data.shape
    cols = np.arange(nx) if columns is None else np.asarray(columns, dtype=int)
    iz, ix = np.meshgrid(np.arange(nz), cols, indexing="ij")
    query = torch.as_tensor(_points(data, iz.ravel(), ix.ravel()), dtype=torch.float32)
    sat = torch.as_tensor(norm.sat(data.ysat[times]), dtype=torch.float32)
    rs = torch.as_tensor(
        np.stack([network_points(data, norm, t) for t in times]), dtype=torch.float32
    )
    sat_next, values = net(sat, rs, query.expand(times.size, -1, -1))
    fields = norm.phi_inverse(values.numpy()).reshape(times.size, nz, cols.size)
    curtains = sat_next.numpy() * norm.sat_std[:, None] + norm.sat_mean[:, None]
    return fields, curtains


def most_changing_unobserved_column(data: ObsDataset, times: np.ndarray) -> int:
    """The column without a radiosonde whose profile changes most over one step.

    Parameters
    ----------
    times:
        Start indices ``(B,)``; the change is the mean square of ``x(t+1) - x(t)``.
    """
    times = np.asarray(times, dtype=int)
    change = ((data.xtrue[times + 1] - data.xtrue[times]) ** 2).mean(axis=(0, 1))
    change[data.rs_ix] = -1.0
    return int(np.argmax(change))


def forecast_scores(
    data: ObsDataset, pred: np.ndarray, times: np.ndarray, column: int, prefix: str = ""
) -> dict[str, float]:
    """RMSE of predicted fields at ``t+1`` and of persistence: full field, one column, unseen.

    Parameters
    ----------
    pred:
        Predicted fields at ``times + 1``, ``(B, nz, nx)``.
    times:
        Start indices ``(B,)``.
    column:
        The column scored on its own (e.g. :func:`most_changing_unobserved_column`).
    prefix:
        Prepended to the keys of the prediction's scores (not persistence's).

    Returns
    -------
    dict
        ``<prefix>rmse_{field,profile,unseen_columns}``, the same for ``persistence_``,
        the ratios ``<prefix>ratio_*`` of the two and ``<prefix>ratio_worst``, the larger
        of the field and profile ratios.
    """
    from wxai.verify.metrics import rmse

    times = np.asarray(times, dtype=int)
    truth, persistence = data.xtrue[times + 1], data.xtrue[times]
    unseen = np.setdiff1d(np.arange(data.shape[1]), data.rs_ix)
    m = {}
    for name, forecast in ((prefix, pred), ("persistence_", persistence)):
        m[f"{name}rmse_field"] = rmse(forecast, truth)
        m[f"{name}rmse_profile"] = rmse(forecast[..., column], truth[..., column])
        m[f"{name}rmse_unseen_columns"] = rmse(forecast[..., unseen], truth[..., unseen])
    for what in ("field", "profile", "unseen_columns"):
        m[f"{prefix}ratio_{what}"] = m[f"{prefix}rmse_{what}"] / m[f"persistence_rmse_{what}"]
    m[f"{prefix}ratio_worst"] = max(m[f"{prefix}ratio_field"], m[f"{prefix}ratio_profile"])
    return m
