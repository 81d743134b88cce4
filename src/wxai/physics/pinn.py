"""Physics-informed neural networks (PINNs): a network trained on an equation, not on data.

A :class:`PinnProblem` holds the equation as a residual function, the box where it is
posed and its initial/boundary conditions. The network ``y_theta(x)`` is trained to make
the residual vanish at collocation points (mean square) and to meet the conditions
(mean square, times a weight); derivatives come from :mod:`torch.autograd`. Nothing here
is specific to one input dimension: an ODE has ``x = (t,)``, a PDE residual such as
``u_t + c u_x`` uses ``x = (x, t)`` and the same code.

Shapes: collocation points ``x`` are ``(n, d)`` with ``d`` the number of independent
variables; the network output ``y`` is ``(n, m)`` with ``m`` unknown functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch
from torch import nn

from wxai.core.errors import ConfigError, DataFormatError, UnknownNameError
from wxai.core.progress import ProgressCallback
from wxai.nn.fourier import FourierFeatures
from wxai.nn.mlp import MLP

#: ``residual(x, y, d)``: collocation points ``(n, d)``, network output ``(n, m)`` and
#: their :class:`Derivatives`; returns the equation's residual ``(n,)`` or ``(n, k)``.
ResidualFunction = Callable[[torch.Tensor, torch.Tensor, "Derivatives"], torch.Tensor]


# -- where the equation holds ---------------------------------------------------------------


@dataclass(frozen=True)
class Domain:
    """An axis-aligned box ``[lower_0, upper_0] x ... x [lower_{d-1}, upper_{d-1}]``.

    An interval is the box with ``d = 1``: ``Domain.interval(0, 2 * math.pi)``.
    """

    lower: tuple[float, ...]
    upper: tuple[float, ...]

    def __post_init__(self) -> None:
        lower, upper = tuple(map(float, self.lower)), tuple(map(float, self.upper))
        if not lower or len(lower) != len(upper):
            raise ConfigError(
                f"a domain needs one lower and one upper bound per axis, got lower={lower} "
                f"and upper={upper}"
            )
        if not all(math.isfinite(v) for v in lower + upper):
            raise ConfigError(f"domain bounds must be finite, got {lower} .. {upper}")
        empty = [axis for axis, (lo, hi) in enumerate(zip(lower, upper, strict=True)) if hi <= lo]
        if empty:
            raise ConfigError(
                f"empty domain: upper must exceed lower on every axis, but not on axis "
                f"{empty} ({lower} .. {upper})"
            )
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)

    @classmethod
    def interval(cls, lower: float, upper: float) -> Domain:
        """The 1-D domain ``[lower, upper]``."""
        return cls((lower,), (upper,))

    @property
    def dim(self) -> int:
        """Number of independent variables ``d``."""
        return len(self.lower)

    def stretched(self, factor: float) -> Domain:
        """The box with the same lower corner and every side ``factor`` times as long.

        ``Domain.interval(0, 2 pi).stretched(3)`` is ``[0, 6 pi]``: sampling there
        enforces the equation beyond the original interval.
        """
        if not factor > 0:
            raise ConfigError(f"stretch factor must be positive, got {factor}")
        upper = tuple(
            lo + factor * (hi - lo) for lo, hi in zip(self.lower, self.upper, strict=True)
        )
        return Domain(self.lower, upper)

    def grid(self, n_per_axis: int) -> torch.Tensor:
        """Evenly spaced points, edges included: ``(n_per_axis ** d, d)``."""
        if n_per_axis < 2:
            raise ConfigError(f"a grid needs at least 2 points per axis, got {n_per_axis}")
        axes = [
            torch.linspace(lo, hi, n_per_axis)
            for lo, hi in zip(self.lower, self.upper, strict=True)
        ]
        mesh = torch.meshgrid(*axes, indexing="ij")
        return torch.stack([m.reshape(-1) for m in mesh], dim=-1)

    def uniform(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` points drawn uniformly in the box: ``(n, d)``."""
        lower, upper = torch.tensor(self.lower), torch.tensor(self.upper)
        return lower + (upper - lower) * torch.rand(n, self.dim, generator=generator)


@dataclass(frozen=True, eq=False)
class Condition:
    """An initial or boundary condition ``d^order y_output / d x_axis^order = value``.

    Parameters
    ----------
    points:
        Where it applies, ``(p, d)`` (a sequence of points, each a sequence of ``d``
        coordinates). ``[[0.0]]`` is ``x = 0`` of an ODE.
    value:
        Target: a number, ``p`` numbers, or a function of the points ``(p, d) -> (p,)``.
    order:
        Derivative order (0: the value itself, 1: ``y'``, ...).
    axis:
        Input axis the derivative is taken along (a PDE's ``t`` or ``x``).
    output:
        Which network output ``y_output`` the condition constrains.
    name:
        Label in loss histories, e.g. ``"y(0)"``.
    """

    points: Sequence[Sequence[float]] | np.ndarray
    value: float | Sequence[float] | np.ndarray | Callable[[np.ndarray], np.ndarray]
    order: int = 0
    axis: int = 0
    output: int = 0
    name: str = ""

    def __post_init__(self) -> None:
        points = np.asarray(self.points, dtype=float)
        if points.ndim != 2 or points.shape[0] == 0:
            raise ConfigError(
                f"condition {self.name!r}: points must be a non-empty (p, d) array, "
                f"got shape {points.shape}"
            )
        if self.order < 0:
            raise ConfigError(f"condition {self.name!r}: order must be >= 0, got {self.order}")
        target = np.asarray(self.value(points) if callable(self.value) else self.value, float)
        if target.size not in {1, points.shape[0]}:
            raise ConfigError(
                f"condition {self.name!r}: value must give one number per point ("
                f"{points.shape[0]}), got shape {target.shape}"
            )
        target = np.broadcast_to(target.reshape(-1), points.shape[:1]).copy()
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "_target", target)

    @property
    def target(self) -> np.ndarray:
        """The condition's values at its points, ``(p,)``."""
        return self._target  # type: ignore[attr-defined]


@dataclass(frozen=True, eq=False)
class PinnProblem:
    """An equation for a PINN: residual, domain, conditions.

    Parameters
    ----------
    residual:
        ``residual(x, y, d)`` -> ``(n,)`` or ``(n, k)``; zero where the equation holds.
        ``d(2)`` is ``y''`` (see :class:`Derivatives`): ``y'' + y = 0`` is
        ``lambda x, y, d: d(2) + y``.
    domain:
        The box where the equation is posed (samplers default to it).
    conditions:
        Initial/boundary conditions; at least one (without them the solution is not unique).
    n_outputs:
        Number of unknown functions ``m``.
    """

    residual: ResidualFunction
    domain: Domain
    conditions: tuple[Condition, ...]
    n_outputs: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "conditions", tuple(self.conditions))
        if not callable(self.residual):
            raise ConfigError(
                f"residual must be a function (x, y, d) -> residual, got {self.residual!r}"
            )
        if self.n_outputs < 1:
            raise ConfigError(f"n_outputs must be >= 1, got {self.n_outputs}")
        if not self.conditions:
            raise ConfigError(
                "a PINN problem needs at least one initial or boundary condition: the "
                "residual alone does not fix a unique solution"
            )
        for cond in self.conditions:
            where = f"condition {cond.name!r}"
            if cond.points.shape[1] != self.domain.dim:
                raise ConfigError(
                    f"{where}: points have {cond.points.shape[1]} coordinates, the domain "
                    f"has {self.domain.dim} axes"
                )
            if not 0 <= cond.axis < self.domain.dim:
                raise ConfigError(f"{where}: axis {cond.axis} outside 0..{self.domain.dim - 1}")
            if not 0 <= cond.output < self.n_outputs:
                raise ConfigError(f"{where}: output {cond.output} outside 0..{self.n_outputs - 1}")


# -- derivatives by autograd ------------------------------------------------------------------


class Derivatives:
    """Partial derivatives of the network output ``y (n, m)`` at the inputs ``x (n, d)``.

    Computed by :func:`torch.autograd.grad` with ``create_graph=True`` (so the loss can
    be differentiated again) and cached: ``d(1)`` and ``d(2)`` share the first pass.
    Every returned tensor is ``(n, 1)``. The network must act pointwise (row ``i`` of ``y``
    depends only on row ``i`` of ``x``), which holds for an MLP.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x, self.y = x, y
        self._cache: dict[tuple[int, tuple[int, ...]], torch.Tensor] = {}

    def __call__(self, order: int = 1, axis: int = 0, output: int = 0) -> torch.Tensor:
        """``d^order y_output / d x_axis^order``, e.g. ``d(2)`` is ``y''`` of an ODE."""
        if order < 0:
            raise ConfigError(f"derivative order must be >= 0, got {order}")
        return self.partial(*([axis] * order), output=output)

    def partial(self, *axes: int, output: int = 0) -> torch.Tensor:
        """Mixed derivative along ``axes`` in turn: ``partial(0, 1)`` is ``d2 y / dx0 dx1``."""
        key = (output, axes)
        if key in self._cache:
            return self._cache[key]
        if not axes:
            if not 0 <= output < self.y.shape[1]:
                raise ConfigError(f"output {output} outside 0..{self.y.shape[1] - 1}")
            value = self.y[:, output : output + 1]
        else:
            if not 0 <= axes[-1] < self.x.shape[1]:
                raise ConfigError(f"axis {axes[-1]} outside 0..{self.x.shape[1] - 1}")
            inner = self.partial(*axes[:-1], output=output)
            value = _gradient(inner, self.x)[:, axes[-1] : axes[-1] + 1]
        self._cache[key] = value
        return value


def _gradient(f: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``d f_i / d x_i`` row by row for a pointwise ``f (n, 1)`` of ``x (n, d)``: ``(n, d)``."""
    if not f.requires_grad:  # f does not depend on the inputs (e.g. y'' of a linear net)
        return torch.zeros_like(x)
    (grad,) = torch.autograd.grad(f, x, torch.ones_like(f), create_graph=True, allow_unused=True)
    return torch.zeros_like(x) if grad is None else grad


# -- collocation sampling -------------------------------------------------------------------


class CollocationSampler(Protocol):
    """Supplies the collocation points ``(n, d)`` of each training epoch within ``domain``."""

    domain: Domain

    def points(self, epoch: int) -> torch.Tensor: ...


@dataclass
class UniformGrid:
    """The same evenly spaced points every epoch (edges included): ``n_per_axis ** d`` points."""

    domain: Domain
    n_per_axis: int

    def __post_init__(self) -> None:
        self._points = self.domain.grid(self.n_per_axis)

    def points(self, epoch: int) -> torch.Tensor:
        """The fixed grid, whatever the epoch."""
        return self._points


@dataclass
class RandomResampling:
    """``n`` new uniform random points each epoch (seeded, so a run is reproducible).

    Fresh points each epoch let the residual be checked between any fixed grid's nodes.
    """

    domain: Domain
    n: int
    seed: int = 0
    _generator: torch.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ConfigError(f"number of collocation points must be positive, got {self.n}")
        self._generator = torch.Generator().manual_seed(self.seed)

    def points(self, epoch: int) -> torch.Tensor:
        """A new draw (the draws follow each other; ``epoch`` is not used)."""
        return self.domain.uniform(self.n, self._generator)


_SAMPLERS = ("grid", "random")


def collocation_sampler(kind: str, domain: Domain, n: int, seed: int = 0) -> CollocationSampler:
    """A sampler by name: ``"grid"`` (fixed, ``n`` per axis) or ``"random"`` (``n`` per epoch).

    To enforce the equation on a wider region, pass a wider domain, e.g.
    ``problem.domain.stretched(3)``.
    """
    if kind == "grid":
        return UniformGrid(domain, n)
    if kind == "random":
        return RandomResampling(domain, n, seed)
    raise UnknownNameError("collocation sampler", kind, _SAMPLERS)


# -- the network ----------------------------------------------------------------------------


class PinnNetwork(nn.Module):
    """``y_theta(x)``: an optional :class:`FourierFeatures` map, then a :class:`~wxai.nn.mlp.MLP`.

    Parameters
    ----------
    in_features, out_features:
        ``d`` and ``m``.
    hidden:
        MLP hidden sizes, e.g. ``(32, 32)``.
    act:
        Activation; a smooth one (``tanh``, ``silu``) since the residual needs second
        derivatives (ReLU's vanish).
    embedding:
        Fourier features applied to ``x`` (``None``: the MLP sees ``x / input_scale``).
    input_scale:
        Length scale of ``x`` without an embedding, e.g. the training interval's length,
        so that tanh units start unsaturated; Fourier frequencies carry their own scale.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: Sequence[int],
        act: str = "tanh",
        *,
        embedding: FourierFeatures | None = None,
        input_scale: float = 1.0,
    ) -> None:
        super().__init__()
        if not input_scale > 0 or (embedding is not None and input_scale != 1.0):
            raise ConfigError(
                f"input_scale must be positive and is only used without Fourier features "
                f"(their frequencies set the scale), got {input_scale}"
            )
        if embedding is not None and embedding.frequencies.shape[1] != in_features:
            raise ConfigError(
                f"Fourier features expect {embedding.frequencies.shape[1]} inputs, the network "
                f"has {in_features}"
            )
        self.in_features = in_features
        self.input_scale = float(input_scale)
        self.embedding = embedding
        width = in_features if embedding is None else embedding.out_features
        self.mlp = MLP(width, out_features, hidden, act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, d) -> (n, m)``."""
        return self.mlp(x / self.input_scale if self.embedding is None else self.embedding(x))


# -- loss and training ----------------------------------------------------------------------


@dataclass(frozen=True)
class PinnLoss:
    """``total = residual + weight * conditions`` (each a mean square; scalars)."""

    total: torch.Tensor
    residual: torch.Tensor
    conditions: torch.Tensor


def residual_at(model: nn.Module, problem: PinnProblem, x: torch.Tensor) -> torch.Tensor:
    """The problem's residual at collocation points ``x (n, d)``: ``(n, k)``."""
    x = x.detach().clone().requires_grad_(True)
    y = _forward(model, problem, x)
    r = problem.residual(x, y, Derivatives(x, y))
    if not isinstance(r, torch.Tensor):
        raise DataFormatError(
            f"the residual function must return a torch.Tensor, got {type(r).__name__}"
        )
    if r.ndim == 1:
        r = r[:, None]
    if r.ndim != 2 or r.shape[0] != x.shape[0]:
        raise DataFormatError(
            f"the residual function must return shape ({x.shape[0]},) or ({x.shape[0]}, k) "
            f"for {x.shape[0]} collocation points, got {tuple(r.shape)}; compute it pointwise "
            "from y and d(...) without reducing over the points"
        )
    return r


def _forward(model: nn.Module, problem: PinnProblem, x: torch.Tensor) -> torch.Tensor:
    y = model(x)
    if y.ndim != 2 or y.shape != (x.shape[0], problem.n_outputs):
        raise DataFormatError(
            f"the network must map (n, {problem.domain.dim}) to (n, {problem.n_outputs}), got "
            f"{tuple(x.shape)} -> {tuple(y.shape)}"
        )
    return y


def condition_loss(model: nn.Module, problem: PinnProblem) -> torch.Tensor:
    """Sum over conditions of the mean square misfit of each (a scalar)."""
    param = next(model.parameters())
    total = torch.zeros((), dtype=param.dtype, device=param.device)
    for cond in problem.conditions:
        x = torch.as_tensor(cond.points, dtype=param.dtype, device=param.device)
        x.requires_grad_(True)
        y = _forward(model, problem, x)
        value = Derivatives(x, y)(cond.order, cond.axis, cond.output)[:, 0]
        target = torch.as_tensor(cond.target, dtype=value.dtype, device=param.device)
        total = total + ((value - target) ** 2).mean()
    return total


def pinn_loss(
    model: nn.Module, problem: PinnProblem, x: torch.Tensor, weight: float = 1.0
) -> PinnLoss:
    """Mean square residual at ``x (n, d)`` plus ``weight`` times the condition misfits."""
    _check_weight(weight)
    residual = (residual_at(model, problem, x) ** 2).mean()
    conditions = condition_loss(model, problem)
    return PinnLoss(residual + weight * conditions, residual, conditions)


def _check_weight(weight: float) -> None:
    if not (math.isfinite(weight) and weight >= 0):
        raise ConfigError(f"condition weight must be a finite number >= 0, got {weight}")


@dataclass
class PinnHistory:
    """Loss per Adam epoch, then per L-BFGS loss evaluation (line-search calls included).

    ``adam_epochs`` marks where the L-BFGS part of the lists starts.
    """

    total: list[float] = field(default_factory=list)
    residual: list[float] = field(default_factory=list)
    conditions: list[float] = field(default_factory=list)
    adam_epochs: int = 0

    def record(self, loss: PinnLoss) -> None:
        """Append one evaluation."""
        self.total.append(float(loss.total.detach()))
        self.residual.append(float(loss.residual.detach()))
        self.conditions.append(float(loss.conditions.detach()))


def train_pinn(
    model: nn.Module,
    problem: PinnProblem,
    sampler: CollocationSampler,
    *,
    epochs: int,
    lr: float = 1e-3,
    weight: float = 1.0,
    lbfgs_iterations: int = 0,
    progress: ProgressCallback | None = None,
) -> PinnHistory:
    """Fit ``model`` to ``problem``: Adam over ``epochs``, then optionally L-BFGS.

    Parameters
    ----------
    sampler:
        Collocation points per epoch (its domain is where the residual is enforced).
    epochs, lr:
        Full-batch Adam steps and learning rate.
    weight:
        Weight of the condition losses (``>= 0``).
    lbfgs_iterations:
        L-BFGS iterations (strong-Wolfe line search) on one draw of the sampler after
        Adam; 0 skips it. Adam finds the basin, L-BFGS drives the residual down by
        orders of magnitude on small problems.
    """
    _check_weight(weight)
    if epochs < 0 or lbfgs_iterations < 0 or epochs + lbfgs_iterations == 0:
        raise ConfigError(
            f"need epochs >= 0 and lbfgs_iterations >= 0, not both 0; got {epochs} and "
            f"{lbfgs_iterations}"
        )
    device = next(model.parameters()).device
    report = progress or (lambda fraction, message="": None)
    history = PinnHistory(adam_epochs=epochs)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for epoch in range(epochs):
        loss = pinn_loss(model, problem, sampler.points(epoch).to(device), weight)
        optimizer.zero_grad()
        loss.total.backward()
        optimizer.step()
        history.record(loss)
        if epoch % max(epochs // 20, 1) == 0:
            report(epoch / (epochs + lbfgs_iterations), f"Adam epoch {epoch}")
    if lbfgs_iterations:
        x = _lbfgs_grid(sampler).to(device)
        _lbfgs(model, problem, x, weight=weight, iterations=lbfgs_iterations, history=history)
    report(1.0, "trained")
    return history


def _lbfgs_grid(sampler: CollocationSampler) -> torch.Tensor:
    """A fixed grid as dense as one draw of ``sampler``: L-BFGS on one random draw can fit
    the residual at those points only, with steep features between them."""
    n = sampler.points(0).shape[0]
    return sampler.domain.grid(max(round(n ** (1 / sampler.domain.dim)), 2))


def _lbfgs(model, problem, x, *, weight, iterations: int, history: PinnHistory) -> None:
    optimizer = torch.optim.LBFGS(
        model.parameters(),
        lr=1.0,
        max_iter=iterations,
        history_size=50,
        tolerance_grad=1e-12,
        tolerance_change=1e-15,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = pinn_loss(model, problem, x, weight)
        loss.total.backward()
        history.record(loss)
        return loss.total

    optimizer.step(closure)


# -- evaluation -----------------------------------------------------------------------------


def predict(model: nn.Module, x: np.ndarray) -> np.ndarray:
    """The network at points ``x`` (``(n,)`` for 1-D or ``(n, d)``): ``(n, m)``."""
    points = np.asarray(x, dtype=float)
    points = points[:, None] if points.ndim == 1 else points
    param = next(model.parameters())
    with torch.no_grad():
        x_t = torch.as_tensor(points, dtype=param.dtype, device=param.device)
        return model(x_t).cpu().double().numpy()


@dataclass(frozen=True)
class SolutionError:
    """Absolute error against the exact solution at ``n`` points: max and root mean square."""

    max: float
    rms: float


def solution_error(
    model: nn.Module,
    exact: Callable[[np.ndarray], np.ndarray],
    lower: float | Sequence[float],
    upper: float | Sequence[float],
    n_per_axis: int = 2001,
) -> SolutionError:
    """Error of the network against ``exact`` on the grid of the box ``[lower, upper]``.

    ``exact`` maps points ``(n, d)`` to values broadcastable to ``(n, m)``; any box
    counts, inside or outside the training domain.
    """
    box = Domain(tuple(np.atleast_1d(lower)), tuple(np.atleast_1d(upper)))
    x = box.grid(n_per_axis).double().numpy()
    y = predict(model, x)
    truth = np.asarray(exact(x), dtype=float)
    if truth.ndim == 1:
        truth = truth[:, None]
    if truth.shape[0] != y.shape[0]:
        raise DataFormatError(
            f"exact solution returned {truth.shape[0]} values for {y.shape[0]} points"
        )
    err = np.abs(y - truth)
    return SolutionError(max=float(err.max()), rms=float(np.sqrt(np.mean(err**2))))


# -- the harmonic oscillator ----------------------------------------------------------------


def oscillator_problem(
    upper: float = 2 * math.pi, omega: float = 1.0, y0: float = 0.0, dy0: float = 1.0
) -> PinnProblem:
    """``y'' + omega^2 y = 0`` on ``[0, upper]`` with ``y(0) = y0``, ``y'(0) = dy0``."""
    if not omega > 0:
        raise ConfigError(f"omega must be positive, got {omega}")
    return PinnProblem(
        residual=lambda x, y, d: d(2) + omega**2 * y,
        domain=Domain.interval(0.0, upper),
        conditions=(
            Condition([[0.0]], y0, order=0, name="y(0)"),
            Condition([[0.0]], dy0, order=1, name="y'(0)"),
        ),
        name="harmonic oscillator",
    )


def oscillator_solution(
    x: np.ndarray, omega: float = 1.0, y0: float = 0.0, dy0: float = 1.0
) -> np.ndarray:
    """Exact ``y(x) = y0 cos(omega x) + dy0 / omega sin(omega x)``, same shape as ``x``."""
    x = np.asarray(x, dtype=float)
    return y0 * np.cos(omega * x) + dy0 / omega * np.sin(omega * x)
