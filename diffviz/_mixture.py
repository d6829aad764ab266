r"""Gaussian-mixture data and the exact answers diffusion has for it.

A mixture :math:`p(x_0) = \sum_k w_k\,\mathcal N(x_0; \mu_k, \mathrm{diag}(s_k^2))` stays a
mixture under the forward process, because each component is just pushed through the
closed form :math:`x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon`:

.. math::
    q_t(x) = \sum_k w_k\,\mathcal N\big(x;\ \sqrt{\bar\alpha_t}\,\mu_k,\
        \bar\alpha_t s_k^2 + 1 - \bar\alpha_t\big).

So for mixture data we know, exactly, everything a network is trained to approximate: the
diffused density, its score :math:`\nabla_x \log q_t(x)`, the optimal noise prediction
:math:`\varepsilon^*(x_t, t) = E[\varepsilon \mid x_t] = -\sqrt{1-\bar\alpha_t}\,\nabla\log
q_t(x_t)`, and the optimal denoiser :math:`E[x_0 \mid x_t]`.

Shapes: a mixture has ``K`` components in ``d`` dimensions (``d = 1`` for 1-D data, still
written as ``(n, 1)`` arrays). Points ``x`` have shape ``(..., d)``; results drop the last
axis for densities and keep it for scores.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import logsumexp

from diffviz import _validate as v
from diffviz._posterior import _score_to_eps
from diffviz._schedules import Schedule


class GaussianMixture(NamedTuple):
    r"""A mixture of Gaussians with diagonal covariances. Build with :func:`gaussian_mixture`.

    Attributes:
        weights: ``(K,)`` positive, summing to 1.
        means: ``(K, d)`` component means :math:`\mu_k`.
        stds: ``(K, d)`` component standard deviations :math:`s_k` (not variances).
    """

    weights: jax.Array  # shape=(K,)
    means: jax.Array  # shape=(K, d)
    stds: jax.Array  # shape=(K, d)

    @property
    def dim(self) -> int:
        """The data dimension ``d``."""
        return self.means.shape[1]


def gaussian_mixture(weights, means, stds) -> GaussianMixture:
    """Build and check a :class:`GaussianMixture`.

    Args:
        weights: ``(K,)`` positive numbers; they are normalised to sum to 1.
        means: ``(K, d)``, or ``(K,)`` for a 1-D mixture.
        stds: ``(K, d)``; ``(K,)`` for the same std in every dimension of a component; or
            a scalar shared by all. Must be > 0.

    Raises:
        ValueError: on a shape mismatch, a non-positive weight or std, or NaN/inf.
    """
    weights = v.data_array("weights", weights)
    means = v.data_array("means", means)
    stds = v.data_array("stds", stds)
    if weights.ndim != 1 or weights.shape[0] < 1:
        raise ValueError(f"weights must be a non-empty 1-D array (K,); got shape {weights.shape}")
    K = weights.shape[0]
    if means.ndim == 1:
        means = means[:, None]
    v.check_shape("means", means, (K, means.shape[-1] if means.ndim == 2 else 0), "K components by d dims")
    if stds.ndim == 0:
        stds = jnp.full(means.shape, stds)
    elif stds.ndim == 1:
        v.check_shape("stds", stds, (K,), "one std per component")
        stds = jnp.broadcast_to(stds[:, None], means.shape)
    v.check_shape("stds", stds, means.shape, "the shape of means")
    v.check_positive("weights", weights)
    v.check_positive("stds", stds)
    return GaussianMixture(weights / jnp.sum(weights), means, stds)


def _points(mix: GaussianMixture, x) -> jax.Array:
    x = v.data_array("x", x, min_ndim=1)
    if x.shape[-1] != mix.dim:
        raise ValueError(f"x must have shape (..., {mix.dim}) for this {mix.dim}-D mixture; got {x.shape}")
    return x


def _over_points(fn, x: jax.Array) -> jax.Array:
    """Apply a one-point function ``fn: (d,) -> (...)`` to ``x: (..., d)``."""
    flat = x.reshape(-1, x.shape[-1])
    out = jax.vmap(fn)(flat)
    return out.reshape(x.shape[:-1] + out.shape[1:])


def _component_log_probs(mix: GaussianMixture, x: jax.Array) -> jax.Array:
    """``log w_k + log N(x; mu_k, s_k^2)`` for one point ``x: (d,)``; returns ``(K,)``."""
    z = (x[None, :] - mix.means) / mix.stds  # (K, d)
    log_norm = -0.5 * jnp.log(2 * jnp.pi) - jnp.log(mix.stds)  # (K, d)
    return jnp.log(mix.weights) + jnp.sum(log_norm - 0.5 * z**2, axis=1)


def mixture_log_prob(mix: GaussianMixture, x) -> jax.Array:
    r""":math:`\log p(x)` for points ``x: (..., d)``; returns shape ``(...)``."""
    x = _points(mix, x)
    return _over_points(lambda p: logsumexp(_component_log_probs(mix, p)), x)


def sample_mixture(key, mix: GaussianMixture, n: int) -> jax.Array:
    """``n`` independent draws, shape ``(n, d)``: a component by weight, then its Gaussian."""
    key = v.prng_key("key", key)
    n = v.positive_int("n", n)
    k_comp, k_noise = jax.random.split(key)
    comp = jax.random.choice(k_comp, mix.weights.shape[0], (n,), p=mix.weights)  # (n,)
    noise = jax.random.normal(k_noise, (n, mix.dim), jnp.float32)  # (n, d)
    return mix.means[comp] + mix.stds[comp] * noise


def diffuse_mixture(schedule: Schedule, mix: GaussianMixture, t) -> GaussianMixture:
    r"""The exact marginal :math:`q_t` of the forward process started from mixture data.

    Component :math:`k` moves to mean :math:`\sqrt{\bar\alpha_t}\mu_k` and std
    :math:`\sqrt{\bar\alpha_t s_k^2 + 1 - \bar\alpha_t}`; weights are unchanged.
    ``t`` is an integer in ``0..T``.
    """
    t = v.timestep("t", t, schedule.T)
    abar, one_minus = schedule.alpha_bars[t], schedule.one_minus_alpha_bars[t]
    return GaussianMixture(
        mix.weights, jnp.sqrt(abar) * mix.means, jnp.sqrt(abar * mix.stds**2 + one_minus)
    )


def _score_one(mix: GaussianMixture, x: jax.Array) -> jax.Array:
    resp = jax.nn.softmax(_component_log_probs(mix, x))  # (K,)
    return jnp.sum(resp[:, None] * (mix.means - x[None, :]) / mix.stds**2, axis=0)  # (d,)


def mixture_score(schedule: Schedule, mix: GaussianMixture, x_t, t) -> jax.Array:
    r"""The exact score :math:`\nabla_x \log q_t(x)` at points ``x_t: (..., d)``.

    .. math::
        \nabla_x \log q_t(x) = \sum_k r_k(x)\,\frac{\sqrt{\bar\alpha_t}\mu_k - x}{\bar\alpha_t
        s_k^2 + 1 - \bar\alpha_t},

    with :math:`r_k(x)` the posterior probability of component :math:`k` under :math:`q_t`.
    ``t`` is an integer in ``0..T``; the result has the shape of ``x_t``.
    """
    diffused = diffuse_mixture(schedule, mix, t)
    x_t = _points(mix, x_t)
    return _over_points(lambda p: _score_one(diffused, p), x_t)


def optimal_eps(schedule: Schedule, mix: GaussianMixture, x_t, t) -> jax.Array:
    r"""The best possible noise prediction :math:`\varepsilon^*(x_t, t) = E[\varepsilon \mid x_t]`.

    Equal to :math:`-\sqrt{1-\bar\alpha_t}\,\nabla \log q_t(x_t)`. This is what the epsilon
    loss is minimised by, so it is the target a trained network should approach.
    ``t`` is an integer in ``1..T``; the result has the shape of ``x_t``.
    """
    t = v.timestep("t", t, schedule.T, lo=1)
    return _score_to_eps(schedule, mixture_score(schedule, mix, x_t, t), t)


def optimal_denoiser(schedule: Schedule, mix: GaussianMixture, x_t, t) -> jax.Array:
    r"""The posterior mean :math:`E[x_0 \mid x_t]`, computed component by component.

    Given component :math:`k`, :math:`(x_0, x_t)` is jointly Gaussian, so

    .. math::
        E[x_0 \mid x_t, k] = \mu_k + \frac{\sqrt{\bar\alpha_t}\, s_k^2}{\bar\alpha_t s_k^2 +
        1 - \bar\alpha_t}\,(x_t - \sqrt{\bar\alpha_t}\mu_k),

    and :math:`E[x_0 \mid x_t] = \sum_k r_k(x_t)\,E[x_0 \mid x_t, k]`. (Tweedie's formula,
    :math:`E[x_0\mid x_t] = (x_t + (1-\bar\alpha_t)\nabla\log q_t(x_t))/\sqrt{\bar\alpha_t}`,
    gives the same answer; the tests check one against the other.)
    ``t`` is an integer in ``0..T``; the result has the shape of ``x_t``.
    """
    t = v.timestep("t", t, schedule.T)
    diffused = diffuse_mixture(schedule, mix, t)
    x_t = _points(mix, x_t)
    sig = jnp.sqrt(schedule.alpha_bars[t])
    gain = sig * mix.stds**2 / diffused.stds**2  # (K, d)

    def one(p):
        resp = jax.nn.softmax(_component_log_probs(diffused, p))  # (K,)
        cond_means = mix.means + gain * (p[None, :] - diffused.means)  # (K, d)
        return jnp.sum(resp[:, None] * cond_means, axis=0)

    return _over_points(one, x_t)
