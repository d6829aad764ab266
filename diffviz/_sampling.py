r"""Reverse-process samplers: ancestral DDPM and DDIM, for any noise predictor.

The predictor protocol
----------------------
A sampler needs only a noise prediction :math:`\hat\varepsilon(x_t, t)`. Here that is a
function ``eps_fn(x_t, t) -> eps_hat`` where ``x_t`` is a float32 array of the sample
``shape`` (usually ``(n, d)``), ``t`` is an int32 *scalar* (a tracer inside the sampler)
and ``eps_hat`` has the shape of ``x_t``. Two ready-made predictors:

* :func:`exact_eps_fn` -- the exact :math:`\varepsilon^*` of Gaussian-mixture data
  (:func:`~diffviz.optimal_eps`): sampling with the true score, no training involved. What
  comes out is then only limited by the sampler itself.
* :func:`model_eps_fn` -- a trained (or untrained) denoiser network.

Compiled once
-------------
Each public sampler checks its arguments eagerly and then calls one module-level
``jax.jit`` kernel whose static arguments are the sample shape and the options. A predictor
is passed through ``jit`` as a :class:`jax.tree_util.Partial`: its *function* is static (part
of the cache key) and its *arguments* (a schedule, a mixture, network parameters) are
ordinary traced pytree leaves. So :func:`exact_eps_fn` or :func:`model_eps_fn` may be called
afresh for every sample, with new parameters after every training epoch, and the kernel is
compiled only once per shape and options. A plain callable is wrapped as ``Partial(fn)``,
which is cached by the identity of ``fn``: a new ``lambda`` (or a new
``functools.partial``) on every call compiles every time. For a predictor with data, build
``Partial(fn, *arrays)`` around a module-level ``fn(*arrays, x_t, t)`` instead.

Time layout
-----------
Trajectories use the same layout as :func:`~diffviz.run_forward_chain`: entry ``t`` of a
DDPM trajectory is :math:`x_t` (entry ``T`` is the starting noise, entry 0 the sample), so a
forward and a reverse path can be compared index by index.
"""

from __future__ import annotations

import functools
import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.tree_util import Partial

from diffviz import _validate as v
from diffviz._mixture import GaussianMixture, optimal_eps
from diffviz._model import apply_denoiser
from diffviz._posterior import _eps_to_x0, _posterior_mean, _x0_to_eps
from diffviz._reverse import _reverse_mean, _reverse_variance, variance_name
from diffviz._schedules import Schedule

# --------------------------------------------------------------------------------------------
# Predictors
# --------------------------------------------------------------------------------------------


def _exact_eps(schedule: Schedule, mix: GaussianMixture, x_t: jax.Array, t: jax.Array) -> jax.Array:
    return optimal_eps(schedule, mix, x_t, t)


def _model_eps(graphdef, params, x_t: jax.Array, t: jax.Array) -> jax.Array:
    return apply_denoiser(graphdef, params, x_t, t)


def exact_eps_fn(schedule: Schedule, mix: GaussianMixture) -> Partial:
    r"""The exact noise predictor :math:`\varepsilon^*(x_t, t) = E[\varepsilon \mid x_t]` of mixture data.

    .. math::
        \varepsilon^*(x_t, t) = -\sqrt{1-\bar\alpha_t}\,\nabla_{x_t}\log q_t(x_t),

    computed in closed form by :func:`~diffviz.optimal_eps`. A sampler run with it samples
    with the true score: any remaining error is the sampler's (discretisation, the
    :math:`\mathcal N(0, I)` start), never the network's.

    Args:
        schedule: the noise schedule the sampler will use.
        mix: the data distribution, a :class:`~diffviz.GaussianMixture` in ``d`` dimensions;
            sample shapes must then be ``(n, d)``.

    Returns:
        A :class:`jax.tree_util.Partial` ``eps_fn(x_t, t)``; ``schedule`` and ``mix`` are its
        (traced) arguments, so a new one for the same shapes does not recompile a sampler.
    """
    _check_schedule(schedule)
    if not isinstance(mix, GaussianMixture):
        raise ValueError(
            f"mix must be a GaussianMixture (see diffviz.gaussian_mixture); got {type(mix).__name__}"
        )
    return Partial(_exact_eps, schedule, mix)


def model_eps_fn(graphdef, params) -> Partial:
    """The noise predictor of a denoiser network, ``apply_denoiser(graphdef, params, x_t, t)``.

    Args:
        graphdef: the static architecture returned by :func:`init_denoiser`.
        params: its parameters (an ``nnx.State``), e.g. after training.

    Returns:
        A :class:`jax.tree_util.Partial` ``eps_fn(x_t, t)``. ``graphdef`` is part of its
        static structure and ``params`` are traced leaves: new parameters of the same
        architecture reuse the compiled sampler.
    """
    if graphdef is None or params is None:
        raise ValueError("graphdef and params must be the pair returned by init_denoiser; got None")
    return Partial(_model_eps, graphdef, params)


# --------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------


def _check_schedule(schedule) -> Schedule:
    if not isinstance(schedule, Schedule):
        raise ValueError(
            f"schedule must be a Schedule (e.g. diffviz.linear_schedule(1000)); got {type(schedule).__name__}"
        )
    return schedule


def _as_predictor(eps_fn) -> Partial:
    if isinstance(eps_fn, Partial):
        return eps_fn
    v.callable_arg("eps_fn", eps_fn, "eps_fn(x_t, t) -> eps_hat")
    return Partial(eps_fn)


def _sample_shape(shape) -> tuple[int, ...]:
    message = "shape must be a tuple of positive ints with at least one entry, e.g. (n, d)"
    if not isinstance(shape, (tuple, list)) or len(shape) == 0:
        raise ValueError(f"{message}; got {shape!r}")
    for size in shape:
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Integral) or size < 1:
            raise ValueError(f"{message}; got {tuple(shape)!r}")
    return tuple(int(size) for size in shape)


def _flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def _num_steps(num_steps, T: int) -> int:
    is_int = isinstance(num_steps, numbers.Integral) and not isinstance(num_steps, (bool, np.bool_))
    if not (is_int and 1 <= num_steps <= T):
        raise ValueError(f"num_steps must be an integer in 1..T = 1..{T}; got {num_steps!r}")
    return int(num_steps)


def _eta(eta) -> jax.Array:
    if isinstance(eta, (bool, np.bool_)) or not isinstance(eta, numbers.Real):
        raise ValueError(f"eta must be a number in [0, 1]; got {eta!r}")
    value = float(eta)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"eta must be a finite number in [0, 1]; got {value!r}")
    return jnp.asarray(value, jnp.float32)


# --------------------------------------------------------------------------------------------
# DDPM
# --------------------------------------------------------------------------------------------


def ddpm_sample(
    key, eps_fn, schedule: Schedule, shape, *, variance: str = "beta", trajectory: bool = False, clip_x0=None
) -> jax.Array:
    r"""Ancestral sampling (Ho et al. 2020): start from noise, step back one ``t`` at a time.

    Start from :math:`x_T \sim \mathcal N(0, I)`; then for :math:`t = T, \dots, 1`

    .. math::
        x_{t-1} = \frac{1}{\sqrt{\alpha_t}}\Big(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}
            \,\hat\varepsilon(x_t, t)\Big) + \sigma_t z_t, \qquad z_t \sim \mathcal N(0, I),

    with a fresh :math:`z_t` at every step, and no noise at the last step (:math:`\sigma_1 z_1`
    is dropped, so the sample is the predicted mean). Two choices of the variance, both from
    the paper:

    .. math::
        \sigma_t^2 = \beta_t \quad(\texttt{"beta"}) \qquad\text{or}\qquad
        \sigma_t^2 = \tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\,\beta_t
        \quad(\texttt{"beta\_tilde"}).

    Careful: :math:`\sigma_t` multiplies the noise, so it is a *standard deviation*, the
    square root of the variance :math:`\beta_t` or :math:`\tilde\beta_t`. Multiplying
    :math:`z_t` by :math:`\beta_t` itself is the most common bug in tutorial code; it adds
    far too little noise, and the samples shrink towards the centre (with the exact
    :math:`\varepsilon^*` of ``mixture_1d("bimodal")``, variance 0.48 instead of 0.99).

    Args:
        key: a JAX PRNG key (split in two: one half draws :math:`x_T`, the other gives
            each step its own key by folding in :math:`t`).
        eps_fn: the noise predictor ``eps_fn(x_t, t)``, see the module docstring
            (:func:`exact_eps_fn`, :func:`model_eps_fn`, or any callable).
        schedule: the noise schedule, with ``T`` steps.
        shape: the sample shape, a tuple of positive ints such as ``(n, d)``; it is the
            shape ``eps_fn`` receives.
        variance: ``"beta"`` or ``"beta_tilde"`` (see above).
        trajectory: also return every intermediate state.
        clip_x0: ``None`` (the default), or a pair ``(low, high)``: then every step first
            estimates the clean data, :math:`\hat x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,
            \hat\varepsilon)/\sqrt{\bar\alpha_t}`, clips it to ``[low, high]``, and takes
            the mean of the posterior :math:`q(x_{t-1} \mid x_t, \hat x_0)` (Ho et al.'s
            code does this for images, with ``(-1, 1)``). Unclipped, this is the same mean
            as above, rearranged. Clipping keeps a point that the network fails to pull
            back (far in the tails of :math:`x_T`, where it saw few training points) from
            drifting away, and the final sample lies in ``[low, high]``. Choose a range a
            little wider than the data's.

    Returns:
        float32 :math:`x_0` of shape ``shape``; or with ``trajectory=True`` an array of shape
        ``(T + 1, *shape)`` whose entry ``t`` is :math:`x_t` (entry ``T`` is the starting
        noise, entry 0 the sample), the layout of :func:`~diffviz.run_forward_chain`.

    Raises:
        ValueError: for a bad ``key``, ``eps_fn``, ``schedule``, ``shape``, ``variance``,
            ``trajectory`` or ``clip_x0``, or if ``eps_fn`` returns the wrong shape.
    """
    key = v.prng_key("key", key)
    eps_fn = _as_predictor(eps_fn)
    schedule = _check_schedule(schedule)
    shape = _sample_shape(shape)
    variance = variance_name(variance)
    trajectory = _flag("trajectory", trajectory)
    return _ddpm_kernel(key, eps_fn, schedule, shape, variance, trajectory, _clip_range(clip_x0))


def _clip_range(clip_x0) -> tuple[float, float] | None:
    return None if clip_x0 is None else v.finite_range("clip_x0", clip_x0, optional=True)


def _ddpm_stds(schedule: Schedule, variance: str) -> jax.Array:
    r""":math:`\sigma_t` for ``t = 0..T``, shape ``(T+1,)``, with :math:`\sigma_0 = \sigma_1 = 0`."""
    var = _reverse_variance(schedule, jnp.arange(1, schedule.T + 1), variance)  # (T,): t = 1..T
    var = jnp.concatenate([jnp.zeros((1,), jnp.float32), var])  # index 0 is unused
    std = jnp.sqrt(var)  # the square root: sigma_t is a standard deviation
    return std.at[:2].set(0.0)  # no noise on the final step t = 1


def _step_key(k_steps: jax.Array, t: jax.Array) -> jax.Array:
    """The noise key of the step that leaves time ``t``: ``fold_in(k_steps, t)``, distinct per ``t``.

    Both samplers use it (with ``x_T`` drawn from the other half of the same key), so DDIM
    with every step and ``eta = 1`` draws exactly the noise of DDPM. Folding ``t`` in inside
    the loop, rather than splitting ``T`` keys up front, also compiles faster.
    """
    return jax.random.fold_in(k_steps, t)


@functools.partial(jax.jit, static_argnames=("shape", "variance", "trajectory", "clip_x0"))
def _ddpm_kernel(key, eps_fn, schedule, shape, variance, trajectory, clip_x0):
    T = schedule.T
    k_start, k_steps = jax.random.split(key)
    x_T = jax.random.normal(k_start, shape, jnp.float32)
    stds = _ddpm_stds(schedule, variance)  # (T+1,)
    ts = jnp.arange(T, 0, -1, dtype=jnp.int32)  # (T,): T, T-1, ..., 1

    def step(x, t):
        eps = v.prediction("eps_fn", eps_fn, x, t)
        if clip_x0 is None:
            mean = _reverse_mean(schedule, eps, x, t)
        else:  # the posterior mean given the clipped estimate of x_0
            mean = _posterior_mean(schedule, jnp.clip(_eps_to_x0(schedule, x, eps, t), *clip_x0), x, t)
        z = jax.random.normal(_step_key(k_steps, t), shape, jnp.float32)
        x_prev = mean + stds[t] * z
        return x_prev, (x_prev if trajectory else None)

    x_0, path = lax.scan(step, x_T, ts)
    if not trajectory:
        return x_0
    # path[i] is x_{T-1-i}: x_{T-1}, ..., x_0. Put x_T in front, then reverse so index = t.
    return jnp.concatenate([x_T[None], path], axis=0)[::-1]


# --------------------------------------------------------------------------------------------
# DDIM
# --------------------------------------------------------------------------------------------


def _timestep_grid(T: int, num_steps: int) -> np.ndarray:
    """``floor(i T / num_steps)`` for ``i = 1..num_steps``: distinct, increasing, ends at ``T``."""
    i = np.arange(1, num_steps + 1, dtype=np.int64)
    return (i * T // num_steps).astype(np.int32)


def ddim_timesteps(T: int, num_steps: int) -> jax.Array:
    r"""The time steps a DDIM run with ``num_steps`` steps visits, in increasing order.

    .. math::
        \tau_i = \Big\lfloor \frac{i\,T}{\text{num\_steps}} \Big\rfloor, \qquad
        i = 1, \dots, \text{num\_steps},

    evenly spaced in ``1..T``, strictly increasing (consecutive :math:`iT/S` differ by at
    least 1) and ending at :math:`\tau_S = T`. With ``T = 1000`` and 50 steps: 20, 40, ...,
    1000. The sampler goes :math:`\tau_S \to \tau_{S-1} \to \dots \to \tau_1 \to 0`.

    Args:
        T: the number of steps of the schedule, an integer >= 1.
        num_steps: how many steps to take, an integer in ``1..T``.

    Returns:
        int32 array of shape ``(num_steps,)``.
    """
    T = v.positive_int("T", T)
    num_steps = _num_steps(num_steps, T)
    return jnp.asarray(_timestep_grid(T, num_steps))


def ddim_sample(
    key, eps_fn, schedule: Schedule, shape, *, num_steps: int, eta=0.0, trajectory: bool = False, clip_x0=None
) -> jax.Array:
    r"""DDIM sampling (Song et al. 2021) on a coarse grid of steps, from noise to :math:`t = 0`.

    Start from :math:`x_{\tau_S} \sim \mathcal N(0, I)` with :math:`\tau_S = T` and step
    from :math:`t = \tau_i` to :math:`s = \tau_{i-1}` (:math:`s = 0` at the end), see
    :func:`ddim_timesteps`. Each step predicts the clean point, then re-noises it to level
    :math:`s`, reusing the predicted noise for the deterministic part:

    .. math::
        \hat x_0 = \frac{x_t - \sqrt{1-\bar\alpha_t}\,\hat\varepsilon(x_t, t)}{\sqrt{\bar\alpha_t}},
        \qquad
        x_s = \sqrt{\bar\alpha_s}\,\hat x_0 + \sqrt{1-\bar\alpha_s-\sigma_{t\to s}^2}\;
            \hat\varepsilon(x_t, t) + \sigma_{t\to s}\, z, \qquad z \sim \mathcal N(0, I),

    .. math::
        \sigma_{t\to s} = \eta\,\sqrt{\frac{1-\bar\alpha_s}{1-\bar\alpha_t}}\,
            \sqrt{1-\frac{\bar\alpha_t}{\bar\alpha_s}} .

    With :math:`\eta = 0` the sampler is deterministic given :math:`x_T` (an ODE
    discretisation); with :math:`\eta = 1` and every step (``num_steps = T``),
    :math:`\sigma_{t\to t-1}^2 = \tilde\beta_t`, the ancestral sampler with the posterior
    variance. The last step (:math:`s = 0`, :math:`\bar\alpha_0 = 1`) has
    :math:`\sigma = 0` and returns :math:`\hat x_0`.

    Args:
        key: a JAX PRNG key (split in two: one half draws :math:`x_T`, the other gives
            each step its own key by folding in :math:`t`).
        eps_fn: the noise predictor ``eps_fn(x_t, t)`` (see the module docstring).
        schedule: the noise schedule, with ``T`` steps.
        shape: the sample shape, a tuple of positive ints such as ``(n, d)``.
        num_steps: number of steps, an integer in ``1..T`` (static: one compilation each).
        eta: the noise level :math:`\eta`, a number in [0, 1] (traced: changing it does not
            recompile).
        trajectory: also return the state at every visited time step.
        clip_x0: ``None`` (the default), or a pair ``(low, high)``: then :math:`\hat x_0` is
            clipped to ``[low, high]`` and the noise estimate is recomputed from it,
            :math:`\hat\varepsilon \leftarrow (x_t - \sqrt{\bar\alpha_t}\,\hat x_0)/
            \sqrt{1-\bar\alpha_t}`, before the step above, so that the pair still adds up to
            :math:`x_t`. With ``eta = 1`` and every step this is :func:`ddpm_sample` with
            ``variance="beta_tilde"`` and the same ``clip_x0``; the sample lies in
            ``[low, high]``.

    Returns:
        float32 :math:`x_0` of shape ``shape``; or with ``trajectory=True`` an array of shape
        ``(num_steps + 1, *shape)`` whose entry ``i`` is the state at time
        ``[0, *ddim_timesteps(T, num_steps)][i]`` (entry 0 the sample, the last the noise).

    Raises:
        ValueError: for a bad ``key``, ``eps_fn``, ``schedule``, ``shape``, ``num_steps``,
            ``eta``, ``trajectory`` or ``clip_x0``, or if ``eps_fn`` returns the wrong shape.
    """
    key = v.prng_key("key", key)
    eps_fn = _as_predictor(eps_fn)
    schedule = _check_schedule(schedule)
    shape = _sample_shape(shape)
    num_steps = _num_steps(num_steps, schedule.T)
    eta = _eta(eta)
    trajectory = _flag("trajectory", trajectory)
    return _ddim_kernel(key, eps_fn, schedule, shape, num_steps, eta, trajectory, _clip_range(clip_x0))


@functools.partial(jax.jit, static_argnames=("shape", "num_steps", "trajectory", "clip_x0"))
def _ddim_kernel(key, eps_fn, schedule, shape, num_steps, eta, trajectory, clip_x0):
    grid = _timestep_grid(schedule.T, num_steps)  # (S,) static, increasing
    ts = jnp.asarray(grid[::-1].copy())  # (S,): tau_S = T, ..., tau_1
    ss = jnp.asarray(np.concatenate([[0], grid[:-1]])[::-1].astype(np.int32))  # (S,): tau_{S-1}, ..., 0
    k_start, k_steps = jax.random.split(key)
    x_T = jax.random.normal(k_start, shape, jnp.float32)

    def step(x, inputs):
        t, s = inputs
        abar_s = schedule.alpha_bars[s]
        om_t, om_s = schedule.one_minus_alpha_bars[t], schedule.one_minus_alpha_bars[s]
        eps = v.prediction("eps_fn", eps_fn, x, t)
        x0_hat = _eps_to_x0(schedule, x, eps, t)
        if clip_x0 is not None:  # clip, then the noise that goes with the clipped estimate
            x0_hat = jnp.clip(x0_hat, *clip_x0)
            eps = _x0_to_eps(schedule, x, x0_hat, t)
        # 1 - abar_t / abar_s = ((1 - abar_t) - (1 - abar_s)) / abar_s, without cancellation
        var = eta**2 * (om_s / om_t) * ((om_t - om_s) / abar_s)
        dir_coef = jnp.sqrt(jnp.maximum(om_s - var, 0.0))
        z = jax.random.normal(_step_key(k_steps, t), shape, jnp.float32)
        x_s = jnp.sqrt(abar_s) * x0_hat + dir_coef * eps + jnp.sqrt(var) * z
        return x_s, (x_s if trajectory else None)

    x_0, path = lax.scan(step, x_T, (ts, ss))
    if not trajectory:
        return x_0
    # path holds x at tau_{S-1}, ..., tau_1, 0; prepend x_T and reverse to increasing time.
    return jnp.concatenate([x_T[None], path], axis=0)[::-1]
