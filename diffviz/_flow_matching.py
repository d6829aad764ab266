r"""Part III: conditional flow matching, its minibatch optimal-transport coupling and velocity samplers.

With the interpolant :math:`x_t = a(t)\,x_0 + s(t)\,\varepsilon` (:mod:`diffviz._interpolants`;
data at :math:`t = 0`, noise at :math:`t = 1`) the conditional flow-matching loss of one
example is

.. math::
    \ell = \big\| v_\theta(x_t, t) - (a'(t)\,x_0 + s'(t)\,\varepsilon) \big\|^2 / d,
    \qquad t \sim \mathcal U(0, 1),\ \varepsilon \sim \mathcal N(0, I).

Its minimiser is the regression function :math:`v^*(x, t) = E[a'x_0 + s'\varepsilon \mid
x_t = x]`, which :func:`~diffviz.mixture_velocity` computes exactly for mixture data; the
loss of :math:`v^*` is not 0 but the irreducible variance
:math:`E\,\|a'x_0 + s'\varepsilon - v^*(x_t, t)\|^2/d`.

Couplings. ``"independent"`` pairs each data point with its own noise draw.
``"minibatch_ot"`` (Tong et al. 2024, Pooladian et al. 2023) re-pairs the batch's noise with
its data by the exact assignment that minimises :math:`\sum_i \|x_{0,i} - \varepsilon_{\pi(i)}\|^2`
(:func:`scipy.optimize.linear_sum_assignment`, called through :func:`jax.pure_callback`, so it
runs inside ``jit`` and ``lax.scan``; on the host, :math:`O(n^3)`). The paths cross less,
so the learned field is straighter; its minimiser is no longer :func:`~diffviz.mixture_velocity`.

Interpolants: ``"linear"`` (rectified flow), ``"cosine"`` and ``"vp"`` (DDPM's, with a
schedule). The VP slope :math:`s'(t) = \tfrac12\beta\bar\alpha/s` is infinite at
:math:`t = 0` (and the target's variance grows like :math:`1/t`), so for ``"vp"`` the
training times are drawn from :math:`\mathcal U(t_\min, 1)` with ``t_min = 1e-3`` by default
(the continuous samplers' smallest time), and its samplers stop at ``t_min``.

Reflow (Liu et al. 2023). :func:`reflow_pairs` integrates a velocity from noise to data and
keeps each pair (generated point, its starting noise); training on those fixed pairs
(``coupling="pairs"``) gives a new field whose paths are straighter, since the pairs come from
a deterministic map and their straight lines cross less. :func:`flow_straightness` measures
how far a field's paths are from straight.

A velocity network is the package's :class:`~diffviz.Denoiser` read as :math:`v(x, t)`, the
network seeing :math:`1000\,t` (as :func:`~diffviz.continuous_model_eps_fn` shows a
``T = 1000`` network :math:`tT`): :func:`model_velocity_fn`. Train it with
``make_train_step(graphdef, None, optimizer, loss=flow_matching_objective())`` and ``fit``.

The samplers integrate :math:`dx/dt = v(x, t)` from :math:`x \sim \mathcal N(0, I)` at
``grid[0]`` (normally 1) down to ``grid[-1]`` (0 is allowed: a velocity is defined there) by
Euler or Heun, in one jitted ``lax.scan``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.tree_util import Partial

from diffviz import _validate as v
from diffviz._continuous import check_schedule
from diffviz._continuous_sampling import SolverResult, _finish, _flag, _method, time_grid
from diffviz._interpolants import _coefficients, mixture_posterior
from diffviz._mixture import GaussianMixture
from diffviz._model import apply_denoiser
from diffviz._sampling import _as_predictor, _sample_shape

FLOW_INTERPOLANTS = ("linear", "cosine", "vp")
COUPLINGS = ("independent", "minibatch_ot", "pairs")
VP_T_MIN = 1e-3  # the smallest training time for "vp" (its s'(0) is infinite)
TIME_SCALE = 1000.0  # the network sees 1000 t, like a T = 1000 eps network at t T


def _choice(name: str, value, allowed) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


# --------------------------------------------------------------------------------------------
# The optimal-transport pairing
# --------------------------------------------------------------------------------------------


def _assignment_host(x0, eps) -> np.ndarray:
    from scipy.optimize import linear_sum_assignment

    x0, eps = np.asarray(x0, np.float64), np.asarray(eps, np.float64)
    cost = np.sum((x0[:, None, :] - eps[None, :, :]) ** 2, axis=-1)
    _, cols = linear_sum_assignment(cost)
    return cols.astype(np.int32)


def _ot_permutation(x0: jax.Array, eps: jax.Array) -> jax.Array:
    """Traceable: ``perm`` with ``eps[perm[i]]`` the partner of ``x0[i]`` (host callback)."""
    out = jax.ShapeDtypeStruct(x0.shape[:1], jnp.int32)
    return jax.pure_callback(_assignment_host, out, lax.stop_gradient(x0), lax.stop_gradient(eps), vmap_method="sequential")


def ot_pairing(x0, eps) -> jax.Array:
    r"""The exact minibatch optimal-transport pairing of data and noise.

    Returns the permutation ``perm`` (int32 ``(n,)``) minimising
    :math:`\sum_i \|x_{0,i} - \varepsilon_{\mathrm{perm}[i]}\|^2`: pair ``x0[i]`` with
    ``eps[perm[i]]``. Works inside ``jit`` (a host callback to SciPy).

    Raises:
        ValueError: ``x0`` or ``eps`` not finite ``(n, d)`` arrays of one shape.
    """
    x0 = v.points("x0", x0)
    eps = v.points("eps", eps)
    v.check_shape("eps", eps, x0.shape, "the shape of x0")
    return _ot_permutation(x0, eps)


# --------------------------------------------------------------------------------------------
# The loss
# --------------------------------------------------------------------------------------------


def _flow_loss_one(v_fn, interpolant: str, schedule, x0: jax.Array, t: jax.Array, eps: jax.Array) -> jax.Array:
    """The conditional flow-matching loss of one example ``x0: (d,)``: mean over d."""
    c = _coefficients(interpolant, t, schedule)
    x_t = c.a * x0 + c.s * eps
    target = c.da * x0 + c.ds * eps
    return jnp.mean((v.prediction("v_fn", v_fn, x_t, t) - target) ** 2)


def _flow_loss(key, v_fn, batch: jax.Array, interpolant: str, coupling: str, schedule=None, t_min: float = 0.0) -> jax.Array:
    k_t, k_eps = jax.random.split(key)
    if coupling == "pairs":  # each row is (x0, eps) side by side
        d = batch.shape[1] // 2
        x0, eps = batch[:, :d], batch[:, d:]
    else:
        x0 = batch
        eps = jax.random.normal(k_eps, x0.shape, jnp.float32)  # (n, d)
    t = jax.random.uniform(k_t, x0.shape[:1], jnp.float32, minval=t_min)  # (n,)
    if coupling == "minibatch_ot":
        eps = eps[_ot_permutation(x0, eps)]
    losses = jax.vmap(_flow_loss_one, in_axes=(None, None, None, 0, 0, 0))(v_fn, interpolant, schedule, x0, t, eps)
    return jnp.mean(losses)


def _interpolant_args(interpolant, schedule, t_min) -> tuple[str, object, float]:
    """Check ``interpolant``, its ``schedule`` (for ``"vp"``) and the smallest training time."""
    interpolant = _choice("interpolant", interpolant, FLOW_INTERPOLANTS)
    if interpolant == "vp":
        if schedule is None:
            raise ValueError('schedule must be a Schedule for interpolant="vp" (its alpha_bar(t)); got None')
        check_schedule(schedule)
    else:
        schedule = None
    if t_min is None:
        t_min = VP_T_MIN if interpolant == "vp" else 0.0
    if isinstance(t_min, (bool, np.bool_)) or not isinstance(t_min, (int, float)) or not 0.0 <= float(t_min) < 1.0:
        raise ValueError(f"t_min must be a number in [0, 1); got {t_min!r}")
    if interpolant == "vp" and t_min <= 0.0:
        raise ValueError(f't_min must be > 0 for interpolant="vp" (its s\'(0) is infinite); got {t_min!r}')
    return interpolant, schedule, float(t_min)


def _pairs_batch(name: str, batch) -> jax.Array:
    batch = v.points(name, batch)
    if batch.shape[1] % 2:
        raise ValueError(f"{name} must have shape (n, 2d) for coupling=\"pairs\" (x0 and eps side by side, as reflow_pairs makes); got {batch.shape}")
    return batch


def flow_matching_loss(
    key, v_fn, x0, *, interpolant: str = "linear", coupling: str = "independent", schedule=None, t_min: float | None = None
) -> jax.Array:
    r"""The mean conditional flow-matching loss of a batch ``x0: (n, d)`` (module docstring).

    One :math:`t \sim \mathcal U(t_\min, 1)` and one :math:`\varepsilon` per example; with
    ``coupling="minibatch_ot"`` the noise is re-paired with the data by :func:`ot_pairing`;
    with ``coupling="pairs"`` the batch is ``(n, 2d)``, each row a fixed pair
    :math:`(x_0, \varepsilon)` side by side (as :func:`reflow_pairs` makes), and no noise is drawn.

    Args:
        key: a JAX PRNG key.
        v_fn: the velocity ``v_fn(x, t) -> (d,)`` for one point ``x: (d,)`` and a float scalar ``t``.
        x0: the data batch, ``(n, d)`` (``(n, 2d)`` pairs for ``coupling="pairs"``).
        interpolant: ``"linear"``, ``"cosine"`` or ``"vp"``.
        coupling: ``"independent"``, ``"minibatch_ot"`` or ``"pairs"``.
        schedule: the :class:`~diffviz.Schedule` for ``"vp"``; ignored otherwise.
        t_min: the smallest training time; default 0, or 1e-3 for ``"vp"`` (which needs > 0).

    Raises:
        ValueError: a bad ``key``, an unknown ``interpolant`` or ``coupling``, no schedule for
            ``"vp"``, ``t_min`` outside [0, 1), ``x0`` not a finite ``(n, d)`` array (or
            ``(n, 2d)`` for pairs), or ``v_fn`` not callable or answering in another shape.
    """
    key = v.prng_key("key", key)
    interpolant, schedule, t_min = _interpolant_args(interpolant, schedule, t_min)
    coupling = _choice("coupling", coupling, COUPLINGS)
    v.callable_arg("v_fn", v_fn, "v_fn(x, t) -> velocity")
    x0 = _pairs_batch("x0", x0) if coupling == "pairs" else v.points("x0", x0)
    return _flow_loss(key, v_fn, x0, interpolant, coupling, schedule, t_min)


def _model_velocity(graphdef, params, x, t):
    return apply_denoiser(graphdef, params, x, t * TIME_SCALE)


def model_velocity_fn(graphdef, params) -> Partial:
    """A denoiser network read as a velocity ``v(x, t) = apply_denoiser(graphdef, params, x, 1000 t)``.

    Returns a :class:`jax.tree_util.Partial` for :func:`flow_matching_loss` (one point) and
    :func:`flow_sample` (a batch).
    """
    if graphdef is None or params is None:
        raise ValueError("graphdef and params must be the pair returned by init_denoiser; got None")
    return Partial(_model_velocity, graphdef, params)


def flow_matching_objective(*, interpolant: str = "linear", coupling: str = "independent", schedule=None, t_min: float | None = None):
    """The flow-matching loss for :func:`~diffviz.make_train_step`'s ``loss`` argument.

    Returns ``loss(key, graphdef, params, batch) -> scalar``: :func:`flow_matching_loss` of
    the network read by :func:`model_velocity_fn` (same arguments). With
    ``coupling="pairs"``, train on the array of :func:`reflow_pairs` (``fit(..., data=pairs)``
    draws rows of it).
    """
    interpolant, schedule, t_min = _interpolant_args(interpolant, schedule, t_min)
    coupling = _choice("coupling", coupling, COUPLINGS)

    def loss(key, graphdef, params, batch):
        return _flow_loss(key, Partial(_model_velocity, graphdef, params), batch, interpolant, coupling, schedule, t_min)

    return loss


# --------------------------------------------------------------------------------------------
# The exact velocity and the samplers
# --------------------------------------------------------------------------------------------


def _exact_velocity(interpolant, mix, schedule, x, t):
    c = _coefficients(interpolant, t, schedule)
    flat = x.reshape(-1, x.shape[-1])
    post = mixture_posterior(mix, flat, c.a, c.s)
    return (c.da * post.x0 + c.ds * post.eps).reshape(x.shape)


# one module-level function per interpolant: a Partial's function is static (no recompiling), its args are traced
_EXACT_VELOCITY = {name: functools.partial(_exact_velocity, name) for name in FLOW_INTERPOLANTS}


def exact_velocity_fn(mix: GaussianMixture, interpolant: str = "linear", schedule=None) -> Partial:
    """The exact :func:`~diffviz.mixture_velocity` as a traceable ``v_fn(x, t)`` (``x: (..., d)``, float ``t``).

    For ``"vp"`` pass the ``schedule`` and stop the sampler's grid above 0
    (``flow_time_grid(n, t_min=1e-3)``): the VP velocity is infinite at ``t = 0``.
    """
    if not isinstance(mix, GaussianMixture):
        raise ValueError(f"mix must be a GaussianMixture (see diffviz.gaussian_mixture); got {type(mix).__name__}")
    interpolant, schedule, _ = _interpolant_args(interpolant, schedule, None)
    return Partial(_EXACT_VELOCITY[interpolant], mix, schedule)


def flow_time_grid(num_steps: int, t_min: float = 0.0) -> jax.Array:
    """``num_steps + 1`` evenly spaced times from 1 down to ``t_min`` (default 0), float32."""
    num_steps = v.positive_int("num_steps", num_steps)
    if isinstance(t_min, (bool, np.bool_)) or not isinstance(t_min, (int, float)) or not 0.0 <= float(t_min) < 1.0:
        raise ValueError(f"t_min must be a number in [0, 1); got {t_min!r}")
    return _flow_grid(np.linspace(1.0, float(t_min), num_steps + 1))


def _flow_grid(grid) -> jax.Array:
    """A solver grid for a velocity field: the continuous samplers' check, t = 0 allowed."""
    return time_grid(grid, allow_zero=True)


def _velocity(v_fn, x, t):
    out = jnp.asarray(v_fn(x, t))
    if out.shape != x.shape:
        raise ValueError(f"v_fn must return an array shaped like x {x.shape}; got shape {out.shape}")
    return out.astype(jnp.float32)


@functools.partial(jax.jit, static_argnames=("method", "trajectory"))
def _flow_kernel(v_fn, x_start, grid, method, trajectory):
    def step(x, times):
        t, t_next = times
        h = t_next - t
        f = _velocity(v_fn, x, t)
        x_next = x + h * f
        if method == "heun":
            x_next = x + 0.5 * h * (f + _velocity(v_fn, x_next, t_next))
        return x_next, (x_next if trajectory else None)

    return lax.scan(step, x_start, (grid[:-1], grid[1:]))


def flow_sample(key, v_fn, shape, grid, *, method: str = "heun", trajectory: bool = False) -> SolverResult:
    r"""Integrate :math:`dx/dt = v(x, t)` from :math:`x \sim \mathcal N(0, I)` at ``grid[0]`` to ``grid[-1]``.

    Euler :math:`x_{i+1} = x_i + h\,v(x_i, t_i)` (one call per step) or Heun (two calls,
    second order), :math:`h = t_{i+1} - t_i < 0`; compiled once per shape, grid length and method.

    Args:
        key: a JAX PRNG key (the starting noise).
        v_fn: ``v_fn(x, t)`` for ``x: (n, d)`` and a float scalar ``t``, e.g.
            :func:`model_velocity_fn` or :func:`exact_velocity_fn`; a :class:`~jax.tree_util.Partial`
            avoids recompiling.
        shape: the sample shape ``(n, d)``.
        grid: strictly decreasing times in [0, 1], e.g. :func:`flow_time_grid`.
        method: ``"euler"`` or ``"heun"``.
        trajectory: also return the state at every grid time.

    Returns:
        A :class:`~diffviz.SolverResult` ``(samples, nfe, path)``; ``nfe = N`` (Euler) or ``2N`` (Heun).
    """
    key = v.prng_key("key", key)
    if not isinstance(v_fn, Partial):
        v.callable_arg("v_fn", v_fn, "v_fn(x, t) -> velocity")
    v_fn = _as_predictor(v_fn)
    shape = _sample_shape(shape)
    grid = _flow_grid(grid)
    method = _method(method)
    trajectory = _flag("trajectory", trajectory)
    x_start = jax.random.normal(key, shape, jnp.float32)
    x_last, path = _flow_kernel(v_fn, x_start, grid, method, trajectory)
    steps = grid.shape[0] - 1
    return _finish(x_last, path, x_start, trajectory, steps * (2 if method == "heun" else 1))


# --------------------------------------------------------------------------------------------
# Reflow and straightness
# --------------------------------------------------------------------------------------------


def reflow_pairs(key, v_fn, shape, grid, *, method: str = "heun") -> jax.Array:
    r"""One reflow's training set (Liu et al. 2023): noise and the point a velocity carries it to.

    Draws :math:`\varepsilon \sim \mathcal N(0, I)` with ``key`` (the same noise
    :func:`flow_sample` starts from with that key), integrates :math:`dx/dt = v(x, t)` along
    ``grid`` to :math:`\hat x_0`, and returns the pairs side by side,
    ``concatenate([x0_hat, eps], axis=1)`` of shape ``(n, 2d)``. Train a new velocity on them
    with ``flow_matching_objective(coupling="pairs")`` and ``fit(..., data=pairs)``: the
    pairs are a deterministic coupling, so the straight lines between them cross less than
    those of independent pairs and the new field's paths are straighter.

    Args: as :func:`flow_sample` (``shape = (n, d)``).

    Raises:
        ValueError: as :func:`flow_sample`.
    """
    res = flow_sample(key, v_fn, shape, grid, method=method)
    eps = jax.random.normal(key, res.samples.shape, jnp.float32)
    return jnp.concatenate([res.samples, eps], axis=1)


@jax.jit
def _straightness_kernel(v_fn, x_start, grid):
    def step(x, times):
        t, t_next = times
        f = _velocity(v_fn, x, t)
        return x + (t_next - t) * f, f

    x_end, fs = lax.scan(step, x_start, (grid[:-1], grid[1:]))
    w = jnp.abs(jnp.diff(grid))  # (N,)
    span = jnp.sum(w)
    mean_v = (x_start - x_end) / span  # the velocity of the straight line between the ends
    spread = jnp.sum((fs - mean_v[None]) ** 2, axis=-1)  # (N, n)
    return jnp.sum(w[:, None] * spread, axis=0).mean() / span


def flow_straightness(key, v_fn, shape, grid) -> jax.Array:
    r"""How far a velocity field's paths are from straight lines (Liu et al. 2023).

    .. math::
        S = \frac{1}{L}\int E\,\big\|v(x_t, t) - \bar v\big\|^2\,dt, \qquad
        \bar v = \frac{x_{\text{start}} - x_{\text{end}}}{L},

    along the Euler paths of :func:`flow_sample` (``grid``, of length
    :math:`L = \text{grid}[0] - \text{grid}[-1]`), averaged over paths from
    :math:`\varepsilon \sim \mathcal N(0, I)`: the time-weighted spread of the velocity along
    each path about its mean. :math:`S = 0` exactly when every path is a straight line
    travelled at constant speed, and then one Euler step lands where many do.

    Args:
        key: a JAX PRNG key (the starting noise).
        v_fn: ``v_fn(x, t)`` for ``x: (n, d)``.
        shape: ``(n, d)``.
        grid: strictly decreasing times in [0, 1] (a fine one: the measure is its Euler sum).

    Returns:
        A float32 scalar, the squared norm summed over the ``d`` coordinates.
    """
    key = v.prng_key("key", key)
    if not isinstance(v_fn, Partial):
        v.callable_arg("v_fn", v_fn, "v_fn(x, t) -> velocity")
    v_fn = _as_predictor(v_fn)
    shape = _sample_shape(shape)
    grid = _flow_grid(grid)
    return _straightness_kernel(v_fn, jax.random.normal(key, shape, jnp.float32), grid)
