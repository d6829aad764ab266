r"""The forward-process posterior and the three ways to say what a denoiser predicts.

Given the clean point :math:`x_0`, the step back from :math:`x_t` is Gaussian (Bayes' rule
on two Gaussians):

.. math::
    q(x_{t-1} \mid x_t, x_0) = \mathcal N\big(\tilde\mu_t(x_t, x_0),\ \tilde\beta_t I\big),

.. math::
    \tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1-\bar\alpha_t}\,x_0
        + \frac{\sqrt{\alpha_t}\,(1-\bar\alpha_{t-1})}{1-\bar\alpha_t}\,x_t, \qquad
    \tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\,\beta_t .

A network may predict the noise :math:`\varepsilon`, the clean point :math:`x_0`, or the
score :math:`\nabla_{x_t}\log q_t(x_t)`. For :math:`x_t = \sqrt{\bar\alpha_t}x_0 +
\sqrt{1-\bar\alpha_t}\,\varepsilon` they are linked by

.. math::
    x_0 = \frac{x_t - \sqrt{1-\bar\alpha_t}\,\varepsilon}{\sqrt{\bar\alpha_t}}, \qquad
    \text{score} = -\frac{\varepsilon}{\sqrt{1-\bar\alpha_t}} .

(The score relation holds for the optimal predictors, :math:`\varepsilon^* = E[\varepsilon
\mid x_t]`; for one noise draw it is the score of :math:`q(x_t \mid x_0)`.)

These need ``t`` in ``1..T``: at ``t = 0`` there is no noise, the noise is undefined and
the divisions would produce infinities.

Layout: each formula is written once, in a private kernel (``_posterior_mean``,
``_posterior_variance``, ``_eps_to_x0``, ...) that does no checking, so it traces cheaply
inside the losses and the samplers; the public functions check their arguments (see
:mod:`diffviz._validate`) and call the kernels. The reverse step of a trained model, which
reuses these, is in :mod:`diffviz._reverse`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from diffviz import _validate as v
from diffviz._forward import _marginal_scales
from diffviz._schedules import Schedule


def _posterior_variance(schedule: Schedule, t) -> jax.Array:
    r""":math:`\tilde\beta_t = \beta_t (1-\bar\alpha_{t-1})/(1-\bar\alpha_t)`: the one home of this formula.

    ``t`` may be a scalar or an array of steps in ``1..T`` (no checks).
    """
    return schedule.betas[t] * schedule.one_minus_alpha_bars[t - 1] / schedule.one_minus_alpha_bars[t]


def _posterior_mean(schedule: Schedule, x0: jax.Array, x_t: jax.Array, t) -> jax.Array:
    r""":math:`\tilde\mu_t(x_t, x_0)`, the one home of the posterior mean (formula in the module docstring; no checks)."""
    beta = schedule.betas[t]
    one_minus, one_minus_prev = schedule.one_minus_alpha_bars[t], schedule.one_minus_alpha_bars[t - 1]
    coef_x0 = jnp.sqrt(schedule.alpha_bars[t - 1]) * beta / one_minus
    coef_xt = jnp.sqrt(1.0 - beta) * one_minus_prev / one_minus
    return coef_x0 * x0 + coef_xt * x_t


def _eps_to_x0(schedule: Schedule, x_t: jax.Array, eps: jax.Array, t) -> jax.Array:
    r""":math:`(x_t - \sqrt{1-\bar\alpha_t}\,\varepsilon)/\sqrt{\bar\alpha_t}`: the closed form solved for :math:`x_0` (no checks)."""
    signal, noise = _marginal_scales(schedule, t)
    return (x_t - noise * eps) / signal


def _x0_to_eps(schedule: Schedule, x_t: jax.Array, x0: jax.Array, t) -> jax.Array:
    r""":math:`(x_t - \sqrt{\bar\alpha_t}\,x_0)/\sqrt{1-\bar\alpha_t}`: the closed form solved for :math:`\varepsilon` (no checks)."""
    signal, noise = _marginal_scales(schedule, t)
    return (x_t - signal * x0) / noise


def _eps_to_score(schedule: Schedule, eps: jax.Array, t) -> jax.Array:
    r""":math:`-\varepsilon/\sqrt{1-\bar\alpha_t}` (no checks)."""
    return -eps / jnp.sqrt(schedule.one_minus_alpha_bars[t])


def _score_to_eps(schedule: Schedule, score: jax.Array, t) -> jax.Array:
    r""":math:`-\sqrt{1-\bar\alpha_t}\ \text{score}` (no checks)."""
    return -jnp.sqrt(schedule.one_minus_alpha_bars[t]) * score


# --------------------------------------------------------------------------------------------
# Public functions: check the arguments, then call the kernels above
# --------------------------------------------------------------------------------------------


def posterior_variance(schedule: Schedule, t) -> jax.Array:
    r""":math:`\tilde\beta_t = \beta_t (1-\bar\alpha_{t-1})/(1-\bar\alpha_t)` for ``t`` in ``1..T``.

    It is 0 at ``t = 1`` (given :math:`x_0` and :math:`x_1`, :math:`x_0` is known) and always
    at most :math:`\beta_t`.
    """
    t = v.timestep("t", t, schedule.T, lo=1)
    return _posterior_variance(schedule, t)


def posterior_params(schedule: Schedule, x0, x_t, t) -> tuple[jax.Array, jax.Array]:
    r"""Mean and variance of :math:`q(x_{t-1} \mid x_t, x_0)`.

    Args:
        x0: the clean point, any shape.
        x_t: the noisy point, the same shape as ``x0``.
        t: an integer in ``1..T``.

    Returns:
        ``(mean, variance)``: ``mean`` with the shape of ``x0``; ``variance`` a scalar
        (:math:`\tilde\beta_t`, a *variance*: take its square root before multiplying noise).
    """
    t = v.timestep("t", t, schedule.T, lo=1)
    x0 = v.data_array("x0", x0)
    x_t = v.data_array("x_t", x_t)
    v.check_shape("x_t", x_t, x0.shape, "the shape of x0")
    return _posterior_mean(schedule, x0, x_t, t), _posterior_variance(schedule, t)


def _pair(schedule: Schedule, name_a: str, a, name_b: str, b, t):
    t = v.timestep("t", t, schedule.T, lo=1)
    a = v.data_array(name_a, a)
    b = v.data_array(name_b, b)
    v.check_shape(name_b, b, a.shape, f"the shape of {name_a}")
    return a, b, t


def eps_to_x0(schedule: Schedule, x_t, eps, t) -> jax.Array:
    r""":math:`\hat x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,\hat\varepsilon)/\sqrt{\bar\alpha_t}`; ``t`` in ``1..T``."""
    x_t, eps, t = _pair(schedule, "x_t", x_t, "eps", eps, t)
    return _eps_to_x0(schedule, x_t, eps, t)


def x0_to_eps(schedule: Schedule, x_t, x0, t) -> jax.Array:
    r""":math:`\hat\varepsilon = (x_t - \sqrt{\bar\alpha_t}\,\hat x_0)/\sqrt{1-\bar\alpha_t}`; ``t`` in ``1..T``."""
    x_t, x0, t = _pair(schedule, "x_t", x_t, "x0", x0, t)
    return _x0_to_eps(schedule, x_t, x0, t)


def eps_to_score(schedule: Schedule, eps, t) -> jax.Array:
    r""":math:`\text{score} = -\hat\varepsilon / \sqrt{1-\bar\alpha_t}`; ``t`` in ``1..T``."""
    t = v.timestep("t", t, schedule.T, lo=1)
    return _eps_to_score(schedule, v.data_array("eps", eps), t)


def score_to_eps(schedule: Schedule, score, t) -> jax.Array:
    r""":math:`\hat\varepsilon = -\sqrt{1-\bar\alpha_t}\ \text{score}`; ``t`` in ``1..T``."""
    t = v.timestep("t", t, schedule.T, lo=1)
    return _score_to_eps(schedule, v.data_array("score", score), t)
