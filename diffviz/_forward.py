r"""The forward (noising) process of DDPM: one step, the whole chain, and its closed form.

One step adds a little Gaussian noise and shrinks the signal a little:

.. math::
    q(x_t \mid x_{t-1}) = \mathcal N\big(\sqrt{1 - \beta_t}\, x_{t-1},\ \beta_t I\big).

Composing ``t`` such steps gives the closed-form marginal

.. math::
    q(x_t \mid x_0) = \mathcal N\big(\sqrt{\bar\alpha_t}\, x_0,\ (1 - \bar\alpha_t) I\big),

i.e. :math:`x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon` with
:math:`\varepsilon \sim \mathcal N(0, I)`. Note the *standard deviation* is the square root
of :math:`1 - \bar\alpha_t`, and the mean involves :math:`x_0`, not :math:`x_{t-1}`.

Shapes: ``x`` may have any shape (one example, or a batch that shares the same ``t``); every
function works elementwise. ``t`` is a scalar integer; for one ``t`` per example use
``jax.vmap``. All functions accept concrete or traced input (see :mod:`diffviz._validate`
for what is checked under ``jit``).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from diffviz import _validate as v
from diffviz._schedules import Schedule


def _step_scales(beta: jax.Array) -> tuple[jax.Array, jax.Array]:
    r"""``(sqrt(1 - beta_t), sqrt(beta_t))``: the shrink factor and the noise std of one forward step (no checks)."""
    return jnp.sqrt(1.0 - beta), jnp.sqrt(beta)


def forward_step_params(schedule: Schedule, x_prev, t) -> tuple[jax.Array, jax.Array]:
    r"""Mean and standard deviation of one forward step :math:`q(x_t \mid x_{t-1})`.

    Args:
        schedule: the noise schedule.
        x_prev: :math:`x_{t-1}`, any shape.
        t: the step being taken, an integer in ``1..T``.

    Returns:
        ``(mean, std)``: ``mean`` has the shape of ``x_prev`` and equals
        :math:`\sqrt{1-\beta_t}\,x_{t-1}`; ``std`` is the scalar :math:`\sqrt{\beta_t}`.
    """
    t = v.timestep("t", t, schedule.T, lo=1)
    x_prev = v.data_array("x_prev", x_prev)
    shrink, std = _step_scales(schedule.betas[t])
    return shrink * x_prev, std


def sample_forward_step(key, schedule: Schedule, x_prev, t) -> jax.Array:
    r"""Draw :math:`x_t \sim q(x_t \mid x_{t-1})` with shape of ``x_prev``; ``t`` in ``1..T``."""
    key = v.prng_key("key", key)
    mean, std = forward_step_params(schedule, x_prev, t)
    return mean + std * jax.random.normal(key, mean.shape, jnp.float32)


def run_forward_chain(
    key,
    schedule: Schedule,
    x0,
    *,
    num_steps: int | None = None,
    drift: bool = True,
    trajectory: bool = False,
) -> jax.Array:
    r"""Simulate the forward chain step by step with ``lax.scan`` (no closed form used).

    Each step draws fresh noise (one key per step, split from ``key``):

    .. math::
        x_t = \sqrt{1-\beta_t}\,x_{t-1} + \sqrt{\beta_t}\,\varepsilon_t .

    With ``drift=False`` the shrink factor is dropped, :math:`x_t = x_{t-1} + \sqrt{\beta_t}\,
    \varepsilon_t`: a Gaussian random walk whose variance grows as
    :math:`\mathrm{Var}(x_0) + \sum_s \beta_s` instead of settling at 1. That variant exists
    to show *why* the :math:`\sqrt{1-\beta_t}` factor is there.

    Args:
        key: a JAX PRNG key.
        schedule: the noise schedule.
        x0: the clean data, any shape (e.g. ``(n, d)`` particles).
        num_steps: how many steps to take, ``0..T`` (a static int); default ``T``.
        drift: keep the :math:`\sqrt{1-\beta_t}` factor (the real forward process).
        trajectory: also return every intermediate state.

    Returns:
        :math:`x_{\text{num\_steps}}` with the shape of ``x0``; or, with ``trajectory=True``,
        an array of shape ``(num_steps + 1, *x0.shape)`` whose entry ``t`` is :math:`x_t`
        (entry 0 is ``x0``).
    """
    key = v.prng_key("key", key)
    x0 = v.data_array("x0", x0)
    n = schedule.T if num_steps is None else v.positive_int("num_steps", num_steps, minimum=0)
    if n > schedule.T:
        raise ValueError(f"num_steps must be in 0..T = 0..{schedule.T}; got {n}")

    return _chain_kernel(key, schedule.betas, x0, n, drift, trajectory)


@functools.partial(jax.jit, static_argnames=("num_steps", "drift", "trajectory"))
def _chain_kernel(key, betas, x0, num_steps: int, drift: bool, trajectory: bool):
    """The scan behind :func:`run_forward_chain`, compiled once per shape and option set."""

    def step(x, inputs):
        k, beta = inputs
        shrink, std = _step_scales(beta)
        if not drift:
            shrink = jnp.ones((), jnp.float32)
        x = shrink * x + std * jax.random.normal(k, x.shape, jnp.float32)
        return x, (x if trajectory else None)

    keys = jax.random.split(key, num_steps)
    x_last, path = lax.scan(step, x0, (keys, betas[1 : num_steps + 1]))
    if trajectory:
        return jnp.concatenate([x0[None], path], axis=0)
    return x_last


def _marginal_scales(schedule: Schedule, t) -> tuple[jax.Array, jax.Array]:
    r"""``(sqrt(abar_t), sqrt(1 - abar_t))``: how much signal and how much noise :math:`x_t` holds.

    The one place these two square roots are taken; ``t`` may be a scalar or an array of
    steps (no checks: callers validate at the public boundary).
    """
    return jnp.sqrt(schedule.alpha_bars[t]), jnp.sqrt(schedule.one_minus_alpha_bars[t])


def _closed_form(schedule: Schedule, x0: jax.Array, t, eps: jax.Array) -> jax.Array:
    r""":math:`x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon`, the one home of the closed form.

    Every part of the package that makes :math:`x_t` from :math:`x_0` and a noise draw calls
    this (:func:`sample_marginal`, the losses). No checks.
    """
    signal, noise = _marginal_scales(schedule, t)
    return signal * x0 + noise * eps


def marginal_params(schedule: Schedule, x0, t) -> tuple[jax.Array, jax.Array]:
    r"""Mean and standard deviation of the closed form :math:`q(x_t \mid x_0)`.

    .. math::
        \text{mean} = \sqrt{\bar\alpha_t}\, x_0, \qquad \text{std} = \sqrt{1 - \bar\alpha_t}.

    Args:
        x0: the clean data, any shape.
        t: an integer in ``0..T`` (``t = 0`` gives ``mean = x0``, ``std = 0``).

    Returns:
        ``(mean, std)``: ``mean`` has the shape of ``x0``; ``std`` is a scalar.
    """
    t = v.timestep("t", t, schedule.T)
    x0 = v.data_array("x0", x0)
    signal, noise = _marginal_scales(schedule, t)
    return signal * x0, noise


def sample_marginal(key, schedule: Schedule, x0, t) -> tuple[jax.Array, jax.Array]:
    r"""Jump straight to step ``t``: :math:`x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon`.

    Returns:
        ``(x_t, eps)``, both with the shape of ``x0``; ``eps`` is the standard normal noise
        that was used (the regression target of the epsilon loss).
    """
    key = v.prng_key("key", key)
    t = v.timestep("t", t, schedule.T)
    x0 = v.data_array("x0", x0)
    eps = jax.random.normal(key, x0.shape, jnp.float32)
    return _closed_form(schedule, x0, t, eps), eps


def prior_kl(schedule: Schedule, x0, t=None) -> jax.Array:
    r"""KL divergence from :math:`q(x_t \mid x_0)` to :math:`\mathcal N(0, I)`, in nats.

    .. math::
        \mathrm{KL} = \tfrac12 \sum_i \big(\bar\alpha_t x_{0,i}^2 + (1-\bar\alpha_t) - 1
        - \log(1 - \bar\alpha_t)\big).

    At ``t = T`` this is the :math:`L_T` term of the variational bound: how far the end of
    the chain is from the standard normal that sampling starts from. If it is not close to
    0, ``T`` is too small for the schedule.

    Args:
        x0: one example, any shape; the sum runs over all its entries.
        t: an integer in ``1..T``; default ``T``.

    Returns:
        A float32 scalar.
    """
    t = schedule.T if t is None else t
    t = v.timestep("t", t, schedule.T, lo=1)
    x0 = v.data_array("x0", x0)
    return _prior_kl(schedule, x0, t)


def _prior_kl(schedule: Schedule, x0: jax.Array, t) -> jax.Array:
    """The KL of :func:`prior_kl`, its one home (no checks)."""
    abar, one_minus = schedule.alpha_bars[t], schedule.one_minus_alpha_bars[t]
    # -log(1 - abar): from the stored 1 - abar while abar is large, from log1p(-abar) once it
    # is small (there 1 - abar rounds to 1 in float32 and the KL would read as exactly 0).
    neg_log_var = jnp.where(abar < 0.5, -jnp.log1p(-abar), -jnp.log(one_minus))
    return 0.5 * jnp.sum(abar * x0**2 - abar + neg_log_var)
