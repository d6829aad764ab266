r"""Training objectives: Ho et al.'s simple epsilon loss and the full variational bound.

Both are written for **one** example ``x0: (d,)`` and batched with ``jax.vmap``; a noise
predictor is any function ``eps_fn(x_t, t) -> eps_hat`` with ``x_t: (d,)`` and an integer
scalar ``t`` (for a network: ``lambda x, t: apply_denoiser(graphdef, params, x, t)``).

The simple loss draws :math:`t \sim \mathcal U\{1..T\}` and :math:`\varepsilon \sim
\mathcal N(0, I)` and regresses the noise:

.. math::
    L_\text{simple} = \big\| \varepsilon - \hat\varepsilon_\theta(\sqrt{\bar\alpha_t}x_0 +
    \sqrt{1-\bar\alpha_t}\,\varepsilon,\ t) \big\|^2 / d .

Its minimiser is :math:`\hat\varepsilon = E[\varepsilon \mid x_t]` (the regression function),
which :func:`diffviz.optimal_eps` computes exactly for mixture data.

The variational bound on :math:`-\log p_\theta(x_0)` (a density, for continuous data) is

.. math::
    L = \underbrace{\mathrm{KL}(q(x_T|x_0)\,\|\,\mathcal N(0,I))}_{L_T}
      + \sum_{t=2}^{T} \underbrace{E_q\,\mathrm{KL}(q(x_{t-1}|x_t,x_0)\,\|\,
        p_\theta(x_{t-1}|x_t))}_{L_{t-1}}
      \underbrace{-\,E_q \log p_\theta(x_0|x_1)}_{L_0},

with :math:`p_\theta(x_{t-1}|x_t) = \mathcal N(\mu_\theta(x_t,t), \sigma_t^2 I)`,
:math:`\mu_\theta = (x_t - \beta_t\hat\varepsilon/\sqrt{1-\bar\alpha_t})/\sqrt{\alpha_t}`,
and a Gaussian decoder :math:`p_\theta(x_0|x_1) = \mathcal N(\mu_\theta(x_1, 1), \beta_1 I)`.

Where the pieces live: the closed form :math:`x_t` in :mod:`diffviz._forward`, the posterior
:math:`q(x_{t-1}|x_t,x_0)` in :mod:`diffviz._posterior`, the reverse step :math:`\mu_\theta,
\sigma_t^2` in :mod:`diffviz._reverse`; this module calls their private kernels and adds the
Gaussian KL and the decoder's log-density. The public functions check their arguments
(under ``jit`` only shapes and dtypes, see :mod:`diffviz._validate`); the kernels do not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from diffviz import _validate as v
from diffviz._forward import _closed_form, _prior_kl
from diffviz._posterior import _posterior_mean, _posterior_variance
from diffviz._reverse import _reverse_mean, _reverse_variance, variance_name
from diffviz._schedules import Schedule

EpsFn = Callable[[jax.Array, jax.Array], jax.Array]

# --------------------------------------------------------------------------------------------
# Kernels: no checks, so they trace cheaply inside vmap, grad and the training loop
# --------------------------------------------------------------------------------------------


def _eps_loss(eps_fn: EpsFn, schedule: Schedule, x0: jax.Array, t, eps: jax.Array) -> jax.Array:
    """The simple loss of one example: mean over ``d`` of (prediction - eps)^2."""
    x_t = _closed_form(schedule, x0, t, eps)
    return jnp.mean((v.prediction("eps_fn", eps_fn, x_t, t) - eps) ** 2)


def _batch_eps_loss(key, eps_fn: EpsFn, schedule: Schedule, x0: jax.Array) -> jax.Array:
    """The mean simple loss of a batch ``(n, d)``, one ``t`` and one noise draw per example."""
    k_t, k_eps = jax.random.split(key)
    t = jax.random.randint(k_t, x0.shape[:1], 1, schedule.T + 1)  # (n,)
    eps = jax.random.normal(k_eps, x0.shape, jnp.float32)  # (n, d)
    return jnp.mean(jax.vmap(_eps_loss, in_axes=(None, None, 0, 0, 0))(eps_fn, schedule, x0, t, eps))


def _gauss_kl(m1, var1, m2, var2) -> jax.Array:
    """KL(N(m1, var1 I) || N(m2, var2 I)) summed over the entries; var1, var2 scalars."""
    return 0.5 * jnp.sum(var1 / var2 + (m1 - m2) ** 2 / var2 - 1.0 + jnp.log(var2) - jnp.log(var1))


def _gauss_nll(x, mean, var) -> jax.Array:
    """-log N(x; mean, var I) summed over the entries; var a scalar."""
    return 0.5 * jnp.sum((x - mean) ** 2 / var + jnp.log(2 * jnp.pi * var))


def _bound_terms(key, eps_fn: EpsFn, schedule: Schedule, x0: jax.Array, variance: str) -> jax.Array:
    """``[L_0, L_1, ..., L_{T-1}]`` for one example, shape ``(T,)``."""
    ts = jnp.arange(1, schedule.T + 1, dtype=jnp.int32)  # (T,)
    eps = jax.random.normal(key, (schedule.T,) + x0.shape, jnp.float32)  # (T, d)

    def term(t, e):
        x_t = _closed_form(schedule, x0, t, e)
        mu = _reverse_mean(schedule, v.prediction("eps_fn", eps_fn, x_t, t), x_t, t)
        # posterior q(x_{t-1} | x_t, x0); at t = 1 it is a point mass and the decoder term applies.
        post_mean = _posterior_mean(schedule, x0, x_t, t)
        post_var = jnp.maximum(_posterior_variance(schedule, t), 1e-30)
        kl = _gauss_kl(post_mean, post_var, mu, _reverse_variance(schedule, t, variance))
        nll = _gauss_nll(x0, mu, schedule.betas[t])
        return jnp.where(t == 1, nll, kl)

    return jax.vmap(term)(ts, eps)  # (T,)


# --------------------------------------------------------------------------------------------
# Public functions: check the arguments, then call the kernels
# --------------------------------------------------------------------------------------------


def _example(name: str, x) -> jax.Array:
    """One example: a finite float32 array of shape ``(d,)``."""
    x = v.data_array(name, x)
    if x.ndim != 1:
        raise ValueError(f"{name} must be one example of shape (d,) (use jax.vmap for a batch); got shape {x.shape}")
    return x


def eps_loss(eps_fn: EpsFn, schedule: Schedule, x0, t, eps) -> jax.Array:
    r"""The simple epsilon loss for one example ``x0: (d,)`` at step ``t`` with noise ``eps: (d,)``.

    .. math::
        \big\| \varepsilon - \hat\varepsilon(\sqrt{\bar\alpha_t}x_0 +
        \sqrt{1-\bar\alpha_t}\,\varepsilon,\ t) \big\|^2 / d .

    Deterministic given ``(t, eps)``, so it is easy to test and to ``vmap``; a scalar.

    Raises:
        ValueError: for an ``eps_fn`` that is not callable or answers in another shape, a
            ``t`` outside ``1..T``, an ``x0`` that is not ``(d,)``, an ``eps`` of another
            shape, or NaN/infinity in the input.
    """
    v.callable_arg("eps_fn", eps_fn, "eps_fn(x_t, t) -> eps_hat")
    t = v.timestep("t", t, schedule.T, lo=1)
    x0 = _example("x0", x0)
    eps = v.data_array("eps", eps)
    v.check_shape("eps", eps, x0.shape, "the shape of x0")
    return _eps_loss(eps_fn, schedule, x0, t, eps)


def batch_eps_loss(key, eps_fn: EpsFn, schedule: Schedule, x0) -> jax.Array:
    r"""Mean of :func:`eps_loss` over a batch ``x0: (n, d)``, batched with ``jax.vmap``.

    Draws :math:`t \sim \mathcal U\{1..T\}` and :math:`\varepsilon \sim \mathcal N(0, I)` for
    the whole batch from two independent keys (one vectorised draw each: cheaper than a key
    per example) and averages the per-example losses.

    Raises:
        ValueError: for a bad ``key``, an ``eps_fn`` that is not callable or answers in
            another shape, an ``x0`` that is not ``(n, d)`` with ``n >= 1``, or NaN/infinity.
    """
    key = v.prng_key("key", key)
    v.callable_arg("eps_fn", eps_fn, "eps_fn(x_t, t) -> eps_hat")
    x0 = v.points("x0", x0)
    return _batch_eps_loss(key, eps_fn, schedule, x0)


class BoundTerms(NamedTuple):
    """The three parts of the variational bound for one example, each in nats (scalars)."""

    prior: jax.Array  # L_T
    diffusion: jax.Array  # sum_{t=2}^T L_{t-1}
    decoder: jax.Array  # L_0

    @property
    def total(self) -> jax.Array:
        """The bound on :math:`-\\log p_\\theta(x_0)`, nats."""
        return self.prior + self.diffusion + self.decoder


def variational_bound(key, eps_fn: EpsFn, schedule: Schedule, x0, *, variance: str = "beta") -> BoundTerms:
    r"""An unbiased one-sample estimate of the bound's terms for one example ``x0: (d,)``.

    Every term :math:`L_{t-1}`, :math:`t = 2..T`, is evaluated (one draw of :math:`x_t \sim
    q(x_t|x_0)` each, all ``T`` predictions in one ``vmap``); the KL between the Gaussian
    posterior and the Gaussian reverse step is exact given that draw:

    .. math::
        L_{t-1} = \mathrm{KL}\big(\mathcal N(\tilde\mu_t, \tilde\beta_t I)\,\|\,
            \mathcal N(\mu_\theta, \sigma_t^2 I)\big), \qquad
        L_0 = -\log \mathcal N(x_0;\ \mu_\theta(x_1, 1),\ \beta_1 I).

    Average over examples (and keys) for :math:`E_{x_0}`; divide by :math:`d \ln 2` for bits
    per dimension.

    Args:
        key: PRNG key.
        eps_fn: noise predictor for one example.
        schedule: the noise schedule (needs ``T >= 2``).
        x0: one example ``(d,)``.
        variance: reverse-step variance :math:`\sigma_t^2`, ``"beta"`` or ``"beta_tilde"``
            (the decoder always uses :math:`\beta_1`, since :math:`\tilde\beta_1 = 0`).

    Raises:
        ValueError: for a bad ``key``, ``eps_fn`` or ``variance``, a schedule with ``T < 2``,
            an ``x0`` that is not ``(d,)``, or NaN/infinity in ``x0``.
    """
    variance = variance_name(variance)
    if schedule.T < 2:
        raise ValueError(f"schedule.T must be >= 2 for the variational bound; got {schedule.T}")
    key = v.prng_key("key", key)
    v.callable_arg("eps_fn", eps_fn, "eps_fn(x_t, t) -> eps_hat")
    x0 = _example("x0", x0)
    terms = _bound_terms(key, eps_fn, schedule, x0, variance)  # (T,)
    return BoundTerms(prior=_prior_kl(schedule, x0, schedule.T), diffusion=jnp.sum(terms[1:]), decoder=terms[0])


def nats_to_bits_per_dim(nats, dim: int) -> jax.Array:
    """Convert a per-example negative log-likelihood in nats to bits per dimension: ``nats / (dim ln 2)``.

    Raises:
        ValueError: for a ``dim`` that is not an integer >= 1, or NaN/infinity in ``nats``.
    """
    nats = v.data_array("nats", nats)
    dim = v.positive_int("dim", dim)
    return nats / (dim * jnp.log(2.0))
