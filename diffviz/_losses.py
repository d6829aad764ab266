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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from diffviz import _validate as v
from diffviz._forward import prior_kl
from diffviz._schedules import Schedule

EpsFn = Callable[[jax.Array, jax.Array], jax.Array]

_VARIANCES = ("beta", "beta_tilde")


def eps_loss(eps_fn: EpsFn, schedule: Schedule, x0: jax.Array, t: jax.Array, eps: jax.Array) -> jax.Array:
    r"""The simple epsilon loss for one example ``x0: (d,)`` at step ``t`` with noise ``eps: (d,)``.

    Deterministic given ``(t, eps)``, so it is easy to test and to ``vmap``; a scalar.
    """
    x_t = jnp.sqrt(schedule.alpha_bars[t]) * x0 + jnp.sqrt(schedule.one_minus_alpha_bars[t]) * eps
    return jnp.mean((eps_fn(x_t, t) - eps) ** 2)


def batch_eps_loss(key, eps_fn: EpsFn, schedule: Schedule, x0: jax.Array) -> jax.Array:
    r"""Mean of :func:`eps_loss` over a batch ``x0: (n, d)``, batched with ``jax.vmap``.

    Draws :math:`t \sim \mathcal U\{1..T\}` and :math:`\varepsilon \sim \mathcal N(0, I)` for
    the whole batch from two independent keys (one vectorised draw each: cheaper than a key
    per example) and averages the per-example losses.
    """
    k_t, k_eps = jax.random.split(key)
    t = jax.random.randint(k_t, x0.shape[:1], 1, schedule.T + 1)  # (n,)
    eps = jax.random.normal(k_eps, x0.shape, jnp.float32)  # (n, d)
    return jnp.mean(jax.vmap(eps_loss, in_axes=(None, None, 0, 0, 0))(eps_fn, schedule, x0, t, eps))


def reverse_mean(schedule: Schedule, eps_hat: jax.Array, x_t: jax.Array, t) -> jax.Array:
    r""":math:`\mu_\theta(x_t, t) = (x_t - \beta_t\hat\varepsilon/\sqrt{1-\bar\alpha_t})/\sqrt{\alpha_t}`."""
    beta = schedule.betas[t]
    return (x_t - beta / jnp.sqrt(schedule.one_minus_alpha_bars[t]) * eps_hat) / jnp.sqrt(1.0 - beta)


def reverse_variance(schedule: Schedule, t, variance: str) -> jax.Array:
    r""":math:`\sigma_t^2`: ``"beta"`` gives :math:`\beta_t`, ``"beta_tilde"`` gives :math:`\tilde\beta_t`."""
    beta = schedule.betas[t]
    if variance == "beta":
        return beta
    return beta * schedule.one_minus_alpha_bars[t - 1] / schedule.one_minus_alpha_bars[t]


def _gauss_kl(m1, var1, m2, var2) -> jax.Array:
    """KL(N(m1, var1 I) || N(m2, var2 I)) summed over the entries; var1, var2 scalars."""
    return 0.5 * jnp.sum(var1 / var2 + (m1 - m2) ** 2 / var2 - 1.0 + jnp.log(var2) - jnp.log(var1))


class BoundTerms(NamedTuple):
    """The three parts of the variational bound for one example, each in nats (scalars)."""

    prior: jax.Array  # L_T
    diffusion: jax.Array  # sum_{t=2}^T L_{t-1}
    decoder: jax.Array  # L_0

    @property
    def total(self) -> jax.Array:
        """The bound on :math:`-\\log p_\\theta(x_0)`, nats."""
        return self.prior + self.diffusion + self.decoder


def variational_bound(key, eps_fn: EpsFn, schedule: Schedule, x0: jax.Array, *, variance: str = "beta") -> BoundTerms:
    r"""An unbiased one-sample estimate of the bound's terms for one example ``x0: (d,)``.

    Every term :math:`L_{t-1}`, :math:`t = 2..T`, is evaluated (one draw of :math:`x_t \sim
    q(x_t|x_0)` each, all ``T`` predictions in one ``vmap``); the KL between the Gaussian
    posterior and the Gaussian reverse step is exact given that draw. Average over examples
    (and keys) for :math:`E_{x_0}`; divide by :math:`d \ln 2` for bits per dimension.

    Args:
        key: PRNG key.
        eps_fn: noise predictor for one example.
        schedule: the noise schedule (needs ``T >= 2``).
        x0: one example ``(d,)``.
        variance: reverse-step variance :math:`\sigma_t^2`, ``"beta"`` or ``"beta_tilde"``
            (the decoder always uses :math:`\beta_1`, since :math:`\tilde\beta_1 = 0`).
    """
    if variance not in _VARIANCES:
        raise ValueError(f"variance must be one of {_VARIANCES}; got {variance!r}")
    if schedule.T < 2:
        raise ValueError(f"schedule.T must be >= 2 for the variational bound; got {schedule.T}")
    ts = jnp.arange(1, schedule.T + 1, dtype=jnp.int32)  # (T,)
    eps = jax.random.normal(key, (schedule.T,) + x0.shape, jnp.float32)  # (T, d)

    def term(t, e):
        abar, om = schedule.alpha_bars[t], schedule.one_minus_alpha_bars[t]
        x_t = jnp.sqrt(abar) * x0 + jnp.sqrt(om) * e
        mu = reverse_mean(schedule, eps_fn(x_t, t), x_t, t)
        beta = schedule.betas[t]
        # posterior q(x_{t-1} | x_t, x0); at t = 1 it is a point mass and the decoder term applies.
        om_prev = schedule.one_minus_alpha_bars[t - 1]
        post_mean = (jnp.sqrt(schedule.alpha_bars[t - 1]) * beta * x0 + jnp.sqrt(1 - beta) * om_prev * x_t) / om
        post_var = jnp.maximum(beta * om_prev / om, 1e-30)
        kl = _gauss_kl(post_mean, post_var, mu, reverse_variance(schedule, t, variance))
        nll = 0.5 * jnp.sum((x0 - mu) ** 2 / beta + jnp.log(2 * jnp.pi * beta))
        return jnp.where(t == 1, nll, kl)

    terms = jax.vmap(term)(ts, eps)  # (T,)
    return BoundTerms(prior=prior_kl(schedule, x0), diffusion=jnp.sum(terms[1:]), decoder=terms[0])


def nats_to_bits_per_dim(nats, dim: int) -> jax.Array:
    """Convert a per-example negative log-likelihood in nats to bits per dimension."""
    v.positive_int("dim", dim)
    return jnp.asarray(nats, jnp.float32) / (dim * jnp.log(2.0))
