r"""The learned reverse step :math:`p_\theta(x_{t-1} \mid x_t)`: its mean and its variance.

A denoiser predicts the noise :math:`\hat\varepsilon(x_t, t)`. Putting that prediction in
place of the true noise in the posterior mean :math:`\tilde\mu_t` (see
:mod:`diffviz._posterior`) gives the mean of the reverse step,

.. math::
    \mu_\theta(x_t, t) = \frac{1}{\sqrt{\alpha_t}}\Big(x_t - \frac{\beta_t}{\sqrt{1-\bar\alpha_t}}
        \,\hat\varepsilon(x_t, t)\Big),

and the step is :math:`p_\theta(x_{t-1} \mid x_t) = \mathcal N(\mu_\theta(x_t, t),
\sigma_t^2 I)` with one of Ho et al.'s two fixed variances,

.. math::
    \sigma_t^2 = \beta_t \quad(\texttt{"beta"}) \qquad\text{or}\qquad
    \sigma_t^2 = \tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\,\beta_t
    \quad(\texttt{"beta\_tilde"}).

Both the variational bound (:mod:`diffviz._losses`) and the ancestral sampler
(:mod:`diffviz._sampling`) use these; they sit here, below both. As in
:mod:`diffviz._posterior`, the private kernels do no checking and the public functions check
their arguments first.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from diffviz import _validate as v
from diffviz._posterior import _posterior_variance
from diffviz._schedules import Schedule

VARIANCES = ("beta", "beta_tilde")


def variance_name(variance) -> str:
    """Check the name of a reverse-step variance, ``"beta"`` or ``"beta_tilde"``."""
    if not isinstance(variance, str) or variance not in VARIANCES:
        raise ValueError(f"variance must be one of {', '.join(map(repr, VARIANCES))}; got {variance!r}")
    return variance


def _reverse_mean(schedule: Schedule, eps_hat: jax.Array, x_t: jax.Array, t) -> jax.Array:
    r""":math:`\mu_\theta = (x_t - \beta_t\hat\varepsilon/\sqrt{1-\bar\alpha_t})/\sqrt{\alpha_t}`, the one home of this formula (no checks)."""
    beta = schedule.betas[t]
    return (x_t - beta / jnp.sqrt(schedule.one_minus_alpha_bars[t]) * eps_hat) / jnp.sqrt(1.0 - beta)


def _reverse_variance(schedule: Schedule, t, variance: str) -> jax.Array:
    r""":math:`\sigma_t^2` for a scalar or an array of steps ``t`` in ``1..T`` (no checks)."""
    if variance == "beta":
        return schedule.betas[t]
    return _posterior_variance(schedule, t)


def reverse_mean(schedule: Schedule, eps_hat, x_t, t) -> jax.Array:
    r"""The mean of the reverse step, :math:`\mu_\theta(x_t, t) = (x_t - \beta_t\hat\varepsilon/\sqrt{1-\bar\alpha_t})/\sqrt{\alpha_t}`.

    Args:
        schedule: the noise schedule.
        eps_hat: the predicted noise :math:`\hat\varepsilon(x_t, t)`, the shape of ``x_t``.
        x_t: the current point, any shape.
        t: the step being undone, an integer in ``1..T``.

    Returns:
        :math:`\mu_\theta`, with the shape of ``x_t``.

    Raises:
        ValueError: for a ``t`` outside ``1..T``, ``eps_hat`` of another shape than ``x_t``,
            or NaN/infinity in the input.
    """
    t = v.timestep("t", t, schedule.T, lo=1)
    x_t = v.data_array("x_t", x_t)
    eps_hat = v.data_array("eps_hat", eps_hat)
    v.check_shape("eps_hat", eps_hat, x_t.shape, "the shape of x_t")
    return _reverse_mean(schedule, eps_hat, x_t, t)


def reverse_variance(schedule: Schedule, t, variance: str) -> jax.Array:
    r"""The variance :math:`\sigma_t^2` of the reverse step, a scalar.

    Args:
        schedule: the noise schedule.
        t: an integer in ``1..T``.
        variance: ``"beta"`` for :math:`\beta_t`, ``"beta_tilde"`` for :math:`\tilde\beta_t`
            (which is 0 at ``t = 1``).

    Raises:
        ValueError: for a ``t`` outside ``1..T`` or another ``variance``.
    """
    variance = variance_name(variance)
    t = v.timestep("t", t, schedule.T, lo=1)
    return _reverse_variance(schedule, t, variance)
