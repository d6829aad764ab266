r"""Interpolants :math:`x_t = a(t)\,x_0 + s(t)\,\varepsilon` and their exact answers for Gaussian mixtures.

Three interpolants, :math:`t \in [0, 1]`, data at :math:`t = 0`, noise at :math:`t = 1`:

==========  =========================================  =========================================
name        :math:`a(t)`                               :math:`s(t)`
==========  =========================================  =========================================
``"vp"``    :math:`\sqrt{\bar\alpha(t)}` (DDPM's)       :math:`\sqrt{1-\bar\alpha(t)}`
``"linear"`` :math:`1 - t` (rectified flow)            :math:`t`
``"cosine"`` :math:`\cos(\pi t/2)`                      :math:`\sin(\pi t/2)`
==========  =========================================  =========================================

``"vp"`` needs a schedule (its :math:`\bar\alpha(t)` is :func:`~diffviz.continuous_alpha_bar`,
so :math:`a' = -\tfrac12\beta a` and :math:`s' = \tfrac12\beta\bar\alpha/s`); the other two
ignore it.

Prediction targets
------------------
A model may predict, at :math:`(x_t, t)`: the noise :math:`\varepsilon`, the clean point
:math:`x_0`, the score :math:`\nabla\log p_t(x_t) = -\varepsilon/s` (for the optimal
predictors), the *v-prediction* of Salimans & Ho (2022), here defined for every interpolant as

.. math::
    v = a(t)\,\varepsilon - s(t)\,x_0

(their definition; for VP :math:`a^2 + s^2 = 1` and :math:`v = d x_t/d\phi` with
:math:`a = \cos\phi, s = \sin\phi`), or the *velocity* :math:`u = a'(t)\,x_0 + s'(t)\,\varepsilon
= dx_t/dt` of flow matching. Any one of them, with :math:`x_t`, gives :math:`(x_0,
\varepsilon)` and so every other: see :func:`convert_prediction`.

Gaussian mixtures
-----------------
For :math:`x_0 \sim \sum_k w_k\,\mathcal N(\mu_k, \mathrm{diag}(S_k^2))`, given component
:math:`k` the pair :math:`(x_0, x_t)` is jointly Gaussian with
:math:`x_t \mid k \sim \mathcal N(a\mu_k, V_k)`, :math:`V_k = a^2 S_k^2 + s^2`, so

.. math::
    E[x_0 \mid x_t, k] = \mu_k + \frac{a S_k^2}{V_k}(x_t - a\mu_k), \qquad
    E[\varepsilon \mid x_t, k] = \frac{s}{V_k}(x_t - a\mu_k),

and averaging with the responsibilities :math:`r_k(x_t) \propto w_k\mathcal N(x_t; a\mu_k, V_k)`
gives the exact :math:`E[x_0 \mid x_t]`, :math:`\varepsilon^*`, the score
:math:`\sum_k r_k (a\mu_k - x_t)/V_k` and the velocity
:math:`v^*(x, t) = E[a' x_0 + s'\varepsilon \mid x_t = x] = a' E[x_0 \mid x] + s' E[\varepsilon\mid x]`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import logsumexp

from diffviz import _validate as v
from diffviz._continuous import _alpha_bar_pair, _beta, check_schedule, continuous_time
from diffviz._mixture import GaussianMixture

INTERPOLANTS = ("vp", "linear", "cosine")
PREDICTIONS = ("eps", "x0", "score", "v", "velocity")


class InterpolantCoefficients(NamedTuple):
    r""":math:`a(t), s(t)` and their time derivatives, each float32 of the shape of ``t``."""

    a: jax.Array
    s: jax.Array
    da: jax.Array
    ds: jax.Array


def _name(interpolant) -> str:
    if not isinstance(interpolant, str) or interpolant not in INTERPOLANTS:
        raise ValueError(f"interpolant must be one of {', '.join(map(repr, INTERPOLANTS))}; got {interpolant!r}")
    return interpolant


def _coefficients(interpolant: str, t: jax.Array, schedule) -> InterpolantCoefficients:
    if interpolant == "linear":
        return InterpolantCoefficients(1.0 - t, t, -jnp.ones_like(t), jnp.ones_like(t))
    if interpolant == "cosine":
        half_pi = 0.5 * jnp.pi
        c, s = jnp.cos(half_pi * t), jnp.sin(half_pi * t)
        return InterpolantCoefficients(c, s, -half_pi * s, half_pi * c)
    abar, om = _alpha_bar_pair(schedule, t)
    beta = _beta(schedule, t)
    a, s = jnp.sqrt(abar), jnp.sqrt(om)
    return InterpolantCoefficients(a, s, -0.5 * beta * a, 0.5 * beta * abar / s)


def _check(interpolant, t, schedule, *, lo: float = 0.0, scalar: bool = False):
    interpolant = _name(interpolant)
    if interpolant == "vp":
        if schedule is None:
            raise ValueError('schedule must be a Schedule for interpolant="vp" (its alpha_bar(t)); got None')
        check_schedule(schedule)
    return interpolant, continuous_time("t", t, lo=lo, scalar=scalar)


def interpolant_coefficients(interpolant: str, t, schedule=None) -> InterpolantCoefficients:
    r"""The coefficients :math:`a(t), s(t), a'(t), s'(t)` of :math:`x_t = a(t)x_0 + s(t)\varepsilon`.

    Args:
        interpolant: ``"vp"``, ``"linear"`` or ``"cosine"`` (see the module docstring).
        t: time(s) in [0, 1], any shape.
        schedule: the :class:`~diffviz.Schedule` for ``"vp"``; ignored otherwise.

    Returns:
        An :class:`InterpolantCoefficients` ``(a, s, da, ds)``. For ``"vp"``, ``ds`` is
        infinite at ``t = 0`` (:math:`s = \sqrt{1-\bar\alpha}` starts with infinite slope).

    Raises:
        ValueError: an unknown ``interpolant``, ``t`` outside [0, 1], or no schedule for ``"vp"``.
    """
    interpolant, t = _check(interpolant, t, schedule)
    return _coefficients(interpolant, t, schedule)


def interpolate(interpolant: str, x0, eps, t, schedule=None) -> jax.Array:
    r""":math:`x_t = a(t)\,x_0 + s(t)\,\varepsilon` for data ``x0`` and noise ``eps`` of one shape, scalar ``t``."""
    interpolant, t = _check(interpolant, t, schedule, scalar=True)
    x0 = v.data_array("x0", x0)
    eps = v.data_array("eps", eps)
    v.check_shape("eps", eps, x0.shape, "the shape of x0")
    c = _coefficients(interpolant, t, schedule)
    return c.a * x0 + c.s * eps


# --------------------------------------------------------------------------------------------
# Gaussian mixtures: closed forms for any (a, s)
# --------------------------------------------------------------------------------------------


class _MixturePosterior(NamedTuple):
    log_prob: jax.Array  # (n,)
    x0: jax.Array  # (n, d), E[x0 | x_t]
    eps: jax.Array  # (n, d), E[eps | x_t]
    score: jax.Array  # (n, d), grad log p_t


def mixture_posterior(mix: GaussianMixture, x: jax.Array, a: jax.Array, s: jax.Array) -> _MixturePosterior:
    """All exact answers for ``x: (n, d)`` under :math:`x_t = a x_0 + s\\varepsilon` (scalars ``a, s``). Traceable."""
    mu = mix.means[None]  # (1, K, d)
    var_x0 = mix.stds[None] ** 2  # (1, K, d)
    var = a**2 * var_x0 + s**2  # (1, K, d)
    diff = x[:, None, :] - a * mu  # (n, K, d)
    logits = jnp.log(mix.weights)[None] - 0.5 * jnp.sum(jnp.log(2 * jnp.pi * var) + diff**2 / var, axis=2)  # (n, K)
    resp = jax.nn.softmax(logits, axis=1)[:, :, None]  # (n, K, 1)
    x0 = jnp.sum(resp * (mu + a * var_x0 / var * diff), axis=1)
    eps = jnp.sum(resp * (s / var * diff), axis=1)
    score = jnp.sum(resp * (-diff / var), axis=1)
    return _MixturePosterior(logsumexp(logits, axis=1), x0, eps, score)


def _mixture_args(mix, x, interpolant, t, schedule):
    if not isinstance(mix, GaussianMixture):
        raise ValueError(f"mix must be a GaussianMixture (see diffviz.gaussian_mixture); got {type(mix).__name__}")
    interpolant, t = _check(interpolant, t, schedule, scalar=True)
    x = v.data_array("x", x, min_ndim=1)
    if x.shape[-1] != mix.dim:
        raise ValueError(f"x must have shape (..., {mix.dim}) for this {mix.dim}-D mixture; got {x.shape}")
    flat = x.reshape(-1, mix.dim)  # (n, d)
    c = _coefficients(interpolant, t, schedule)
    return x.shape, flat, c


def _mixture_answer(field: str, mix, x, t, interpolant, schedule):
    shape, flat, c = _mixture_args(mix, x, interpolant, t, schedule)
    post = mixture_posterior(mix, flat, c.a, c.s)
    if field == "log_prob":
        return post.log_prob.reshape(shape[:-1])
    if field == "velocity":
        out = c.da * post.x0 + c.ds * post.eps
    else:
        out = getattr(post, field)
    return out.reshape(shape)


def interpolant_log_prob(mix: GaussianMixture, x, t, interpolant: str = "vp", schedule=None) -> jax.Array:
    r"""The exact :math:`\log p_t(x) = \log\sum_k w_k\,\mathcal N(x; a\mu_k, a^2S_k^2 + s^2)`.

    Args:
        mix: the data distribution at :math:`t = 0`.
        x: points ``(..., d)``.
        t: a scalar time in [0, 1].
        interpolant: ``"vp"``, ``"linear"`` or ``"cosine"``.
        schedule: the schedule, for ``"vp"``.

    Returns:
        float32 of shape ``x.shape[:-1]``.
    """
    return _mixture_answer("log_prob", mix, x, t, interpolant, schedule)


def interpolant_score(mix: GaussianMixture, x, t, interpolant: str = "vp", schedule=None) -> jax.Array:
    r"""The exact score :math:`\nabla_x\log p_t(x) = \sum_k r_k(x)\,(a\mu_k - x)/(a^2S_k^2 + s^2)`; shape of ``x``."""
    return _mixture_answer("score", mix, x, t, interpolant, schedule)


def interpolant_eps(mix: GaussianMixture, x, t, interpolant: str = "vp", schedule=None) -> jax.Array:
    r"""The exact :math:`\varepsilon^*(x, t) = E[\varepsilon \mid x_t = x] = \sum_k r_k\,s\,(x - a\mu_k)/V_k`; shape of ``x``.

    Equal to :math:`-s(t)\nabla\log p_t(x)`, for every interpolant.
    """
    return _mixture_answer("eps", mix, x, t, interpolant, schedule)


def interpolant_denoiser(mix: GaussianMixture, x, t, interpolant: str = "vp", schedule=None) -> jax.Array:
    r"""The exact :math:`E[x_0 \mid x_t = x] = \sum_k r_k\,(\mu_k + aS_k^2(x - a\mu_k)/V_k)`; shape of ``x``."""
    return _mixture_answer("x0", mix, x, t, interpolant, schedule)


def mixture_velocity(mix: GaussianMixture, x, t, interpolant: str = "linear", schedule=None) -> jax.Array:
    r"""The exact flow-matching velocity :math:`v^*(x, t) = E[a'(t)x_0 + s'(t)\varepsilon \mid x_t = x]`.

    .. math::
        v^*(x, t) = a'(t)\,E[x_0 \mid x_t = x] + s'(t)\,E[\varepsilon \mid x_t = x],

    both posterior means in closed form (module docstring). Integrating
    :math:`dx/dt = v^*(x, t)` from :math:`t = 1` (noise) to 0 carries :math:`p_1` to the data.

    Args:
        mix: the data distribution.
        x: points ``(..., d)``.
        t: a scalar time in [0, 1] (in (0, 1] for ``"vp"``, whose :math:`s'(0)` is infinite).
        interpolant: ``"linear"`` (the default), ``"cosine"`` or ``"vp"``.
        schedule: the schedule, for ``"vp"``.

    Returns:
        float32, the shape of ``x``.
    """
    return _mixture_answer("velocity", mix, x, t, interpolant, schedule)


# --------------------------------------------------------------------------------------------
# Conversions between prediction targets
# --------------------------------------------------------------------------------------------


def _to_x0_eps(source: str, pred, x, c):
    a, s, da, ds = c
    if source == "eps":
        return (x - s * pred) / a, pred
    if source == "x0":
        return pred, (x - a * pred) / s
    if source == "score":
        eps = -s * pred
        return (x - s * eps) / a, eps
    if source == "v":  # [x; v] = [[a, s], [-s, a]] [x0; eps]
        det = a**2 + s**2
        return (a * x - s * pred) / det, (s * x + a * pred) / det
    det = a * ds - s * da  # velocity: [x; u] = [[a, s], [da, ds]] [x0; eps]
    return (ds * x - s * pred) / det, (a * pred - da * x) / det


def _from_x0_eps(target: str, x0, eps, c):
    a, s, da, ds = c
    if target == "eps":
        return eps
    if target == "x0":
        return x0
    if target == "score":
        return -eps / s
    if target == "v":
        return a * eps - s * x0
    return da * x0 + ds * eps


def convert_prediction(pred, x_t, t, *, source: str, target: str, interpolant: str = "vp", schedule=None) -> jax.Array:
    r"""Turn one prediction target into another at :math:`(x_t, t)`.

    The targets (module docstring): ``"eps"`` :math:`\varepsilon`, ``"x0"`` :math:`x_0`,
    ``"score"`` :math:`-\varepsilon/s`, ``"v"`` :math:`a\varepsilon - s x_0` (Salimans & Ho
    2022's convention, for any interpolant) and ``"velocity"`` :math:`a'x_0 + s'\varepsilon`.
    With :math:`x_t = a x_0 + s\varepsilon` the source gives the pair :math:`(x_0, \varepsilon)`:

    .. math::
        \text{eps: } x_0 = \frac{x_t - s\varepsilon}{a};\quad
        \text{v: } x_0 = \frac{a x_t - s v}{a^2+s^2},\ \varepsilon = \frac{s x_t + a v}{a^2+s^2};\quad
        \text{velocity: } x_0 = \frac{s' x_t - s u}{a s' - s a'},\ \varepsilon = \frac{a u - a' x_t}{a s' - s a'},

    and the target is computed from the pair. The maps are linear in the prediction, so the
    optimal predictor of one target converts to the optimal predictor of another.

    Args:
        pred: the prediction, the shape of ``x_t``.
        x_t: the noisy points.
        t: a scalar time in (0, 1); at ``t = 0`` there is no noise and at ``t = 1`` of
            ``"linear"`` (or ``"cosine"``) no signal, so some conversions divide by 0.
        source, target: each one of ``"eps"``, ``"x0"``, ``"score"``, ``"v"``, ``"velocity"``.
        interpolant: ``"vp"`` (default), ``"linear"`` or ``"cosine"``.
        schedule: the schedule, for ``"vp"``.

    Raises:
        ValueError: an unknown ``source``, ``target`` or ``interpolant``, mismatched shapes,
            NaN input, or ``t`` outside [0, 1].
    """
    for name, value in (("source", source), ("target", target)):
        if not isinstance(value, str) or value not in PREDICTIONS:
            raise ValueError(f"{name} must be one of {', '.join(map(repr, PREDICTIONS))}; got {value!r}")
    interpolant, t = _check(interpolant, t, schedule, scalar=True)
    x_t = v.data_array("x_t", x_t)
    pred = v.data_array("pred", pred)
    v.check_shape("pred", pred, x_t.shape, "the shape of x_t")
    c = _coefficients(interpolant, t, schedule)
    x0, eps = _to_x0_eps(source, pred, x_t, c)
    return _from_x0_eps(target, x0, eps, c)
