r"""Continuous time: the variance-preserving SDE whose marginals are the discrete chain's.

Time runs over :math:`t \in [0, 1]`; discrete step ``k`` of a :class:`~diffviz.Schedule`
with ``T`` steps sits at :math:`t = k/T`.

The continuous :math:`\bar\alpha(t)`
-----------------------------------
:math:`\log\bar\alpha(t)` is the piecewise-linear interpolation of the schedule's
:math:`\log\bar\alpha_k` between the grid points :math:`t_k = k/T`:

.. math::
    \log\bar\alpha(t) = (1 - f)\log\bar\alpha_k + f\log\bar\alpha_{k+1}, \qquad
    k = \lfloor tT \rfloor,\ f = tT - k,

so :math:`\bar\alpha(k/T)` *is* ``schedule.alpha_bars[k]`` (up to float32 rounding of the
``exp(log(.))`` round trip), and in between :math:`\bar\alpha` decays geometrically. Then

.. math::
    \beta(t) = -\frac{d\log\bar\alpha(t)}{dt} = -T\log(1 - \beta_{k+1})
    \quad\text{on } [k/T, (k+1)/T)

is piecewise constant (:math:`\approx T\beta_{k+1}` for small :math:`\beta`), and
:math:`\bar\alpha(t) = \exp(-\int_0^t \beta(u)\,du)`.

The SDEs and the ODE
--------------------
The forward (variance-preserving) SDE

.. math::
    dx = -\tfrac12\beta(t)\,x\,dt + \sqrt{\beta(t)}\,dW

has the marginals :math:`x_t = \sqrt{\bar\alpha(t)}\,x_0 + \sqrt{1-\bar\alpha(t)}\,\varepsilon`
of the discrete chain at every :math:`t = k/T`. Its reverse SDE (Anderson 1982; Song et al.
2021), run from :math:`t = 1` down to 0 (``dt < 0``, :math:`\bar W` a backward Brownian motion):

.. math::
    dx = \big[-\tfrac12\beta(t)\,x - \beta(t)\,\nabla\log p_t(x)\big]\,dt + \sqrt{\beta(t)}\,d\bar W,

and the probability-flow ODE, deterministic, with the same marginals:

.. math::
    \frac{dx}{dt} = -\tfrac12\beta(t)\big(x + \nabla\log p_t(x)\big)
        = -\tfrac12\beta(t)\Big(x - \frac{\varepsilon(x, t)}{\sqrt{1-\bar\alpha(t)}}\Big),

using :math:`\nabla\log p_t(x) = -\varepsilon^*(x, t)/\sqrt{1-\bar\alpha(t)}`.

Continuous times are float32; every function here accepts ``t`` as a Python float or a
float array (any shape for the schedule functions, a scalar for the drifts) and checks a
concrete ``t`` lies in [0, 1].
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from diffviz import _validate as v
from diffviz._schedules import Schedule


def check_schedule(schedule) -> Schedule:
    """``schedule`` if it is a :class:`~diffviz.Schedule`, else a ValueError."""
    if not isinstance(schedule, Schedule):
        raise ValueError(
            f"schedule must be a Schedule (e.g. diffviz.linear_schedule(1000)); got {type(schedule).__name__}"
        )
    return schedule


def continuous_time(name: str, t, *, lo: float = 0.0, scalar: bool = False) -> jax.Array:
    """A float32 time array; a concrete one must lie in [0, 1], or in (0, 1] when ``lo > 0``."""
    t = v.as_float_array(name, t)
    if scalar and t.ndim != 0:
        raise ValueError(f"{name} must be a scalar time in [0, 1]; got shape {t.shape}")
    if v.is_concrete(t) and t.size:
        arr = np.asarray(t)
        bad = ~((arr >= lo) & (arr <= 1.0)) if lo == 0.0 else ~((arr > 0.0) & (arr <= 1.0))
        if bad.any():
            allowed = "[0, 1]" if lo == 0.0 else "(0, 1] (t = 0 has no noise, so no score)"
            raise ValueError(f"{name} must be a time in {allowed}; got {float(arr.ravel()[np.argmax(bad.ravel())])!r}")
    return t


def _log_alpha_bar_table(schedule: Schedule) -> jax.Array:
    r""":math:`\log\bar\alpha_k`, ``(T+1,)``, accurate at both ends (``log1p`` where :math:`\bar\alpha \approx 1`)."""
    om = schedule.one_minus_alpha_bars
    return jnp.where(om < 0.5, jnp.log1p(-jnp.minimum(om, 0.5)), jnp.log(jnp.maximum(schedule.alpha_bars, 1e-38)))


def _cell(schedule: Schedule, t: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The grid cell ``k`` (int32, ``0..T-1``) holding ``t`` and the fraction ``f`` of the way through it."""
    T = schedule.T
    u = t * T
    k = jnp.clip(jnp.floor(u), 0, T - 1).astype(jnp.int32)
    return k, u - k


def _log_alpha_bar(schedule: Schedule, t: jax.Array) -> jax.Array:
    table = _log_alpha_bar_table(schedule)
    k, f = _cell(schedule, t)
    return (1.0 - f) * table[k] + f * table[k + 1]  # exact at f = 0 and f = 1


def _alpha_bar_pair(schedule: Schedule, t: jax.Array) -> tuple[jax.Array, jax.Array]:
    r""":math:`(\bar\alpha(t), 1 - \bar\alpha(t))`, the second without cancellation."""
    log_abar = _log_alpha_bar(schedule, t)
    return jnp.exp(log_abar), -jnp.expm1(log_abar)


def _beta(schedule: Schedule, t: jax.Array) -> jax.Array:
    k, _ = _cell(schedule, t)
    return -schedule.T * jnp.log1p(-schedule.betas[k + 1])


def continuous_alpha_bar(schedule: Schedule, t) -> jax.Array:
    r""":math:`\bar\alpha(t)`: the schedule's :math:`\bar\alpha_k` at :math:`t = k/T`, log-linear in between.

    .. math::
        \log\bar\alpha(t) = (1 - f)\log\bar\alpha_k + f\log\bar\alpha_{k+1}, \qquad
        k = \lfloor tT\rfloor,\ f = tT - k.

    So ``continuous_alpha_bar(schedule, k / T)`` equals ``schedule.alpha_bars[k]`` (to float32
    rounding), for every ``k`` in ``0..T``.

    Args:
        schedule: a :class:`~diffviz.Schedule` with ``T`` steps.
        t: time(s) in [0, 1], any shape.

    Returns:
        float32, the shape of ``t``.
    """
    schedule = check_schedule(schedule)
    return _alpha_bar_pair(schedule, continuous_time("t", t))[0]


def continuous_one_minus_alpha_bar(schedule: Schedule, t) -> jax.Array:
    r""":math:`1 - \bar\alpha(t) = -\mathrm{expm1}(\log\bar\alpha(t))`, the noise variance at time ``t``.

    Computed without the cancellation of ``1 - alpha_bar`` near :math:`t = 0`; equal to
    ``schedule.one_minus_alpha_bars[k]`` at :math:`t = k/T`. ``t`` in [0, 1], any shape.
    """
    schedule = check_schedule(schedule)
    return _alpha_bar_pair(schedule, continuous_time("t", t))[1]


def continuous_beta(schedule: Schedule, t) -> jax.Array:
    r""":math:`\beta(t) = -\tfrac{d}{dt}\log\bar\alpha(t) = -T\log(1-\beta_{k+1})` for :math:`t \in [k/T, (k+1)/T)`.

    Piecewise constant and right-continuous; at :math:`t = 1` the last piece's value. For
    Ho et al.'s linear schedule (``T = 1000``) it runs from 0.1 to about 20.2.
    ``t`` in [0, 1], any shape; float32 of the shape of ``t``.
    """
    schedule = check_schedule(schedule)
    return _beta(schedule, continuous_time("t", t))


def vp_sde(schedule: Schedule, x, t) -> tuple[jax.Array, jax.Array]:
    r"""Drift and diffusion of the forward VP SDE :math:`dx = -\tfrac12\beta(t)x\,dt + \sqrt{\beta(t)}\,dW`.

    Args:
        schedule: the schedule that defines :math:`\beta(t)`.
        x: points, any shape.
        t: a scalar time in [0, 1].

    Returns:
        ``(drift, diffusion)``: :math:`-\tfrac12\beta(t)x` (the shape of ``x``) and the
        scalar :math:`\sqrt{\beta(t)}`.
    """
    schedule = check_schedule(schedule)
    t = continuous_time("t", t, scalar=True)
    x = v.data_array("x", x)
    beta = _beta(schedule, t)
    return -0.5 * beta * x, jnp.sqrt(beta)


def _eps_to_score(schedule: Schedule, eps: jax.Array, t: jax.Array) -> jax.Array:
    return -eps / jnp.sqrt(_alpha_bar_pair(schedule, t)[1])


def _reverse_drift(schedule, x, eps, t):
    beta = _beta(schedule, t)
    return -0.5 * beta * x - beta * _eps_to_score(schedule, eps, t)


def _flow_drift(schedule, x, eps, t):
    return -0.5 * _beta(schedule, t) * (x + _eps_to_score(schedule, eps, t))


def _drift_args(schedule, x, eps, t):
    schedule = check_schedule(schedule)
    t = continuous_time("t", t, lo=1e-30, scalar=True)
    x = v.data_array("x", x)
    eps = v.data_array("eps", eps)
    v.check_shape("eps", eps, x.shape, "the shape of x")
    return schedule, x, eps, t


def reverse_sde_drift(schedule: Schedule, x, eps, t) -> jax.Array:
    r"""The drift of the reverse SDE, :math:`-\tfrac12\beta(t)x - \beta(t)\nabla\log p_t(x)`.

    With the score from a noise prediction, :math:`\nabla\log p_t = -\varepsilon/\sqrt{1-\bar\alpha(t)}`:

    .. math::
        -\tfrac12\beta(t)\,x + \beta(t)\,\frac{\varepsilon}{\sqrt{1-\bar\alpha(t)}}.

    It is a drift per unit of forward time: a step back by :math:`h > 0` moves
    :math:`x \leftarrow x - h\cdot\text{drift} + \sqrt{\beta h}\,z`.

    Args:
        schedule: the schedule.
        x: points, any shape.
        eps: the noise prediction :math:`\varepsilon(x, t)`, the shape of ``x``.
        t: a scalar time in (0, 1].
    """
    return _reverse_drift(*_drift_args(schedule, x, eps, t))


def probability_flow_drift(schedule: Schedule, x, eps, t) -> jax.Array:
    r"""The probability-flow ODE's velocity :math:`dx/dt = -\tfrac12\beta(t)\big(x - \varepsilon/\sqrt{1-\bar\alpha(t)}\big)`.

    Args:
        schedule: the schedule.
        x: points, any shape.
        eps: the noise prediction :math:`\varepsilon(x, t)`, the shape of ``x``.
        t: a scalar time in (0, 1].
    """
    return _flow_drift(*_drift_args(schedule, x, eps, t))


def ddim_variables(schedule: Schedule, x, t) -> tuple[jax.Array, jax.Array]:
    r"""The variables in which DDIM is Euler: :math:`y = x/\sqrt{\bar\alpha}`, :math:`\sigma = \sqrt{1-\bar\alpha}/\sqrt{\bar\alpha}`.

    In them the probability-flow ODE reads :math:`dy/d\sigma = \varepsilon(x, t)` (Song et
    al. 2021, eq. 14), and one DDIM step (:math:`\eta = 0`) from :math:`t` to :math:`s` is
    exactly one Euler step, :math:`y_s = y_t + (\sigma_s - \sigma_t)\,\hat\varepsilon(x_t, t)`.
    Map back with :math:`x = y\sqrt{\bar\alpha}`, i.e. ``x = y / sqrt(1 + sigma**2)``.

    Args:
        schedule: the schedule.
        x: points, any shape.
        t: a scalar time in [0, 1] (``k / T`` for discrete step ``k``).

    Returns:
        ``(y, sigma)``: ``y`` the shape of ``x``, ``sigma`` a scalar.
    """
    schedule = check_schedule(schedule)
    t = continuous_time("t", t, scalar=True)
    x = v.data_array("x", x)
    abar, om = _alpha_bar_pair(schedule, t)
    return x / jnp.sqrt(abar), jnp.sqrt(om / abar)
