r"""Goodness-of-fit checks: do these samples follow the distribution the maths says they should?

A diffusion model is a stack of Gaussian formulas, and almost every bug in one (a variance
where a standard deviation belongs, a reused PRNG key, an index off by one) changes the
*distribution* of the numbers it produces while leaving them plausible to the eye. The cure
is to test the distribution: compare the samples with the exact answer.

The one-sample Kolmogorov-Smirnov test
--------------------------------------
For samples :math:`x_1, \dots, x_n` and a claimed CDF :math:`F`, the statistic is the
largest vertical gap between the empirical CDF and :math:`F`:

.. math::
    D_n = \sup_x \big|F_n(x) - F(x)\big|
        = \max_i \max\Big(\frac{i}{n} - F(x_{(i)}),\ F(x_{(i)}) - \frac{i-1}{n}\Big),

with :math:`x_{(i)}` the :math:`i`-th smallest sample. If the samples really come from
:math:`F`, :math:`\sqrt n\,D_n` follows (for large :math:`n`) Kolmogorov's distribution,

.. math::
    P\big(\sqrt n\,D_n > \lambda\big) \to Q(\lambda) = 2\sum_{k=1}^{\infty} (-1)^{k-1}
        e^{-2k^2\lambda^2}
        = 1 - \frac{\sqrt{2\pi}}{\lambda}\sum_{k=1}^{\infty} e^{-(2k-1)^2\pi^2/(8\lambda^2)} .

The p-value is :math:`Q\big((\sqrt n + 0.12 + 0.11/\sqrt n)\,D_n\big)`, Stephens' (1970)
finite-sample correction of the limit; it is within 0.02 of the exact p-value for
:math:`n \ge 20` and within 0.005 for :math:`n \ge 1000` (the tests compare it with SciPy's
exact distribution). A small p-value
says the samples do not follow :math:`F`; a large one says the test could not tell them
apart at this sample size, which is all any test can say.

The checks here
---------------
* :func:`ks_normal_test`: every entry of an array against :math:`\mathcal N(0, 1)`.
* :func:`marginal_ks_test`: samples of :math:`x_t` from known starting points :math:`x_0`
  against the closed form :math:`q(x_t \mid x_0) = \mathcal N(\sqrt{\bar\alpha_t}x_0,
  (1-\bar\alpha_t) I)`. Standardising with the exact mean and standard deviation turns this
  into :func:`ks_normal_test`.
* :func:`mixture_ks_test`: 1-D samples against a Gaussian mixture diffused to step ``t``
  (``t = 0``: the data themselves), e.g. the output of a sampler against the data.

All entries are treated as independent draws. Each function checks its arguments eagerly and
then runs a ``jax.jit`` kernel compiled once per input shape.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import ndtr

from diffviz import _validate as v
from diffviz._mixture import GaussianMixture, diffuse_mixture
from diffviz._posterior import _x0_to_eps
from diffviz._schedules import Schedule

_TERMS = 12  # series terms: both series have converged to float32 precision by then


class KSResult(NamedTuple):
    """The outcome of a one-sample Kolmogorov-Smirnov test.

    Attributes:
        statistic: :math:`D_n`, the largest gap between the empirical and the claimed CDF,
            a float32 scalar in [0, 1].
        p_value: the probability of a gap at least this large if the samples do follow the
            claimed distribution, a float32 scalar in [0, 1].
        n: the number of samples tested.
    """

    statistic: jax.Array  # shape=(), float32
    p_value: jax.Array  # shape=(), float32
    n: int

    def passed(self, level: float = 1e-3) -> bool:
        """True when the test finds no evidence against the distribution: ``p_value >= level``."""
        if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0.0 < level < 1.0:
            raise ValueError(f"level must be a number in the open interval (0, 1); got {level!r}")
        return bool(float(self.p_value) >= level)

    def __str__(self) -> str:
        return f"D = {float(self.statistic):.4f}, p = {float(self.p_value):.3g} (n = {self.n})"


def _kolmogorov_sf(lam: jax.Array) -> jax.Array:
    r""":math:`Q(\lambda) = P(K > \lambda)` for Kolmogorov's limiting distribution, float32.

    The alternating series converges fast for large :math:`\lambda`, the theta-function form
    for small :math:`\lambda`; each is used where it needs only a few terms.
    """
    lam = jnp.maximum(lam, 1e-3)  # Q = 1 to float32 precision below about 0.2 anyway
    k = jnp.arange(1, _TERMS + 1, dtype=jnp.float32)  # (K,)
    signs = jnp.where(k % 2 == 1, 1.0, -1.0)
    large = 2.0 * jnp.sum(signs * jnp.exp(-2.0 * k**2 * lam**2))
    odd = 2.0 * k - 1.0
    small = 1.0 - jnp.sqrt(2.0 * jnp.pi) / lam * jnp.sum(jnp.exp(-(odd**2) * jnp.pi**2 / (8.0 * lam**2)))
    return jnp.clip(jnp.where(lam < 1.0, small, large), 0.0, 1.0)


def _ks_from_cdf(u: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(D_n, p)`` for CDF values ``u = F(x_i)`` (any shape, flattened); traced inside the kernels."""
    u = jnp.sort(u.ravel())
    n = u.shape[0]
    i = jnp.arange(1, n + 1, dtype=jnp.float32)
    d = jnp.maximum(jnp.max(i / n - u), jnp.max(u - (i - 1.0) / n))
    root = jnp.sqrt(jnp.float32(n))
    p = _kolmogorov_sf((root + 0.12 + 0.11 / root) * d)
    return d.astype(jnp.float32), p.astype(jnp.float32)


@jax.jit
def _normal_kernel(z: jax.Array) -> tuple[jax.Array, jax.Array]:
    return _ks_from_cdf(ndtr(z))


@jax.jit
def _mixture_kernel(mix: GaussianMixture, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """KS of 1-D points ``x: (n,)`` against the CDF of a 1-D mixture."""
    z = (x[:, None] - mix.means[None, :, 0]) / mix.stds[None, :, 0]  # (n, K)
    return _ks_from_cdf(jnp.sum(mix.weights[None, :] * ndtr(z), axis=1))


def _samples(name: str, x) -> jax.Array:
    x = v.data_array(name, x)
    if x.size < 1:
        raise ValueError(f"{name} must hold at least one sample; got shape {x.shape}")
    return x


def ks_normal_test(z) -> KSResult:
    r"""Test whether every entry of ``z`` is an independent draw from :math:`\mathcal N(0, 1)`.

    Args:
        z: samples, any shape with at least one entry (all entries are pooled).

    Returns:
        A :class:`KSResult`.

    Raises:
        ValueError: if ``z`` is empty or holds NaN or infinity.
    """
    z = _samples("z", z)
    return KSResult(*_normal_kernel(z), int(z.size))


def marginal_ks_test(schedule: Schedule, x0, x_t, t) -> KSResult:
    r"""Test samples of :math:`x_t` against the closed form :math:`q(x_t \mid x_0)`.

    Each entry of ``x_t`` is standardised with the exact mean and standard deviation of
    :func:`~diffviz.marginal_params`,

    .. math::
        z = \frac{x_t - \sqrt{\bar\alpha_t}\,x_0}{\sqrt{1-\bar\alpha_t}},

    and the :math:`z` are tested against :math:`\mathcal N(0, 1)` (:func:`ks_normal_test`).
    Use it on anything that claims to produce :math:`x_t` from :math:`x_0`: a step-by-step
    chain, a closed-form jump, the noisy inputs of a training batch.

    Args:
        schedule: the noise schedule the samples were made with.
        x0: the starting points, the shape of ``x_t`` (each sample with its own start) or a
            scalar (every sample started at the same point).
        x_t: the samples at step ``t``, any shape with at least one entry.
        t: the step, an integer in ``1..T`` (at ``t = 0`` there is no noise to test).

    Returns:
        A :class:`KSResult`.

    Raises:
        ValueError: for a ``t`` outside ``1..T``, ``x0`` of another shape than ``x_t``
            (and not a scalar), an empty ``x_t``, or NaN/infinity in the input.
    """
    t = v.timestep("t", t, schedule.T, lo=1)
    x_t = _samples("x_t", x_t)
    x0 = v.data_array("x0", x0)
    if x0.ndim == 0:
        x0 = jnp.broadcast_to(x0, x_t.shape)
    v.check_shape("x0", x0, x_t.shape, "the shape of x_t, or a scalar")
    z = _x0_to_eps(schedule, x_t, x0, t)  # the noise that took x0 to x_t: N(0, 1) if all is well
    return KSResult(*_normal_kernel(z), int(x_t.size))


def mixture_ks_test(schedule: Schedule, mix: GaussianMixture, x, t=0) -> KSResult:
    r"""Test 1-D samples against a Gaussian mixture diffused to step ``t``.

    The claimed distribution is the exact marginal :math:`q_t` of the forward process
    started from mixture data (:func:`~diffviz.diffuse_mixture`), with CDF

    .. math::
        F_t(x) = \sum_k w_k\,\Phi\Big(\frac{x - \sqrt{\bar\alpha_t}\,\mu_k}
            {\sqrt{\bar\alpha_t s_k^2 + 1 - \bar\alpha_t}}\Big).

    With ``t = 0`` that is the data distribution itself: the test for a sampler's output.

    Args:
        schedule: the noise schedule.
        mix: a 1-D :class:`~diffviz.GaussianMixture` (``d = 1``), e.g.
            ``mixture_1d("bimodal")``.
        x: samples, shape ``(n,)`` or ``(n, 1)`` with ``n >= 1``.
        t: the step, an integer in ``0..T``; default 0 (the data).

    Returns:
        A :class:`KSResult`.

    Raises:
        ValueError: if ``mix`` is not a 1-D mixture, ``x`` has another shape or holds
            NaN/infinity, or ``t`` is outside ``0..T``.
    """
    if not isinstance(mix, GaussianMixture):
        raise ValueError(f"mix must be a GaussianMixture (see diffviz.gaussian_mixture); got {type(mix).__name__}")
    if mix.dim != 1:
        raise ValueError(f"mix must be a 1-D mixture (means of shape (K, 1)); got dimension {mix.dim}")
    x = v.samples_1d("x", x)
    diffused = diffuse_mixture(schedule, mix, t)
    return KSResult(*_mixture_kernel(diffused, x), int(x.size))

