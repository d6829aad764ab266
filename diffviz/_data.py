r"""Toy data sets for the course: 1-D and 2-D mixtures, swiss roll, two moons, checkerboard.

Every sampler takes a JAX PRNG key first (required, never defaulted) and a sample count
``n``, and returns a float32 array of shape ``(n, d)``. Samplers are pure functions and work
under ``jax.jit`` with ``n`` static (``jax.jit(sample_moons, static_argnames="n")``). All data
sets are at about unit scale (mean near 0, standard deviation near 1 per coordinate),
because the forward process :math:`x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}
\varepsilon` assumes data comparable in size to the noise it is mixed with.

Each sampler checks its arguments eagerly (clear ``ValueError`` messages), then runs one
private ``jax.jit`` kernel compiled once per ``n``, so repeated eager calls are fast. The
swiss roll, moons and checkerboard kernels make a *single* call to ``jax.random`` and
transform it (a uniform variable is :math:`\Phi(z)` for a standard normal :math:`z`, a fair
coin is :math:`z > 0`): every random call compiles its own copy of the generator, so one call
keeps compilation, the slow part of a first call in a notebook, short.

Which toys have an exact density
--------------------------------
* **The mixtures** (:func:`mixture_1d`, :func:`eight_gaussians_mixture`) are
  :class:`~diffviz.GaussianMixture` objects: :func:`~diffviz.mixture_log_prob` gives their
  exact log-density, and :mod:`diffviz._mixture` gives the exact diffused density, score and
  denoiser for every :math:`t`.
* **The checkerboard** has the exact density :math:`1/8` on its 8 black unit squares and
  :math:`0` elsewhere (:func:`checkerboard_log_prob`), and a closed-form diffused density for
  every :math:`\bar\alpha_t` (:func:`checkerboard_diffused_log_prob`: Gaussian CDFs).
* **The swiss roll and the two moons have no closed-form density.** Noise-free, they live on
  curves (a density with respect to arc length, not area); with noise, the density is the
  curve's distribution convolved with a Gaussian, an integral along the curve with no closed
  form. Use them to *look at* samples, not to score a model by likelihood.

Standardisation
---------------
The swiss roll and the moons are built in their natural ("raw") coordinates and then passed
through one fixed affine map :math:`x \mapsto (x - m) / s` per coordinate. The constants
:math:`m, s` are the exact mean and standard deviation of the *noise-free* curve, computed
in closed form below; they never depend on the drawn data, so every draw, of any size, goes
through the same map. Added noise is measured in raw units and is not re-standardised, so it
widens the spread slightly (by :math:`\mathrm{noise}^2/s^2` in variance).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtr

from diffviz import _validate as v
from diffviz._mixture import GaussianMixture, sample_mixture

# --------------------------------------------------------------------------------------------
# Argument checks shared by the samplers
# --------------------------------------------------------------------------------------------



def _noise_level(noise) -> jax.Array:
    """A scalar float32 noise std, checked finite and >= 0 when concrete."""
    arr = v.as_float_array("noise", noise)
    if arr.ndim != 0:
        raise ValueError(f"noise must be a single number >= 0 (a std); got shape {arr.shape}")
    if v.is_concrete(arr):
        value = float(arr)
        if not (math.isfinite(value) and value >= 0.0):
            raise ValueError(f"noise must be a finite number >= 0 (a std); got {value!r}")
    return arr


def _constant_mixture(weights: np.ndarray, means: np.ndarray, stds: np.ndarray) -> GaussianMixture:
    """A :class:`GaussianMixture` from known-good NumPy constants ``(K,)``, ``(K, d)``, ``(K, d)``.

    The same result as :func:`~diffviz.gaussian_mixture`, without its run-time checks (the
    constants here are fixed, and the tests check them), so no JAX op runs and nothing is
    compiled when a notebook asks for a toy mixture.
    """
    weights = weights / weights.sum()
    return GaussianMixture(*(jnp.asarray(a, jnp.float32) for a in (weights, means, stds)))


# --------------------------------------------------------------------------------------------
# 1-D mixtures
# --------------------------------------------------------------------------------------------

# name -> (weights, means, stds). Overall mean and std (law of total variance):
#   bimodal : mean 0,  std 0.996   (modes 6.3 component-stds apart: a deep valley)
#   trimodal: mean 0,  std 1.010   (unequal weights .3/.5/.2)
#   skewed  : mean 0,  std 0.992   (a broad mode at -0.45 and a sharp one at 1.05)
_MIXTURES_1D: dict[str, tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]] = {
    "bimodal": ((0.5, 0.5), (-0.95, 0.95), (0.3, 0.3)),
    "trimodal": ((0.3, 0.5, 0.2), (-1.25, 0.15, 1.5), (0.3, 0.3, 0.3)),
    "skewed": ((0.7, 0.3), (-0.45, 1.05), (0.85, 0.15)),
}


def mixture_1d(name: str) -> GaussianMixture:
    r"""A named 1-D Gaussian mixture used in the course (``d = 1``).

    The density is :math:`p(x) = \sum_k w_k\,\mathcal N(x; \mu_k, s_k^2)`; its overall mean
    and variance are :math:`\bar\mu = \sum_k w_k\mu_k` and :math:`\sum_k w_k (s_k^2 + \mu_k^2)
    - \bar\mu^2` (law of total variance). All three are centred, with variance close to 1:

    ============  =====================  =====================  ===================  =========
    name          weights :math:`w_k`    means :math:`\mu_k`    stds :math:`s_k`     total std
    ============  =====================  =====================  ===================  =========
    ``bimodal``   0.5, 0.5               -0.95, 0.95            0.3, 0.3             0.996
    ``trimodal``  0.3, 0.5, 0.2          -1.25, 0.15, 1.5       0.3, 0.3, 0.3        1.010
    ``skewed``    0.7, 0.3               -0.45, 1.05            0.85, 0.15           0.992
    ============  =====================  =====================  ===================  =========

    Args:
        name: ``"bimodal"``, ``"trimodal"`` or ``"skewed"``.

    Returns:
        A :class:`~diffviz.GaussianMixture` with ``weights`` ``(K,)``, ``means`` and ``stds``
        ``(K, 1)``. Sample it with :func:`~diffviz.sample_mixture` (shape ``(n, 1)``).

    Raises:
        ValueError: if ``name`` is not one of the names above.
    """
    if not isinstance(name, str) or name not in _MIXTURES_1D:
        allowed = ", ".join(repr(k) for k in _MIXTURES_1D)
        raise ValueError(f"name must be one of {allowed}; got {name!r}")
    weights, means, stds = _MIXTURES_1D[name]
    return _constant_mixture(np.array(weights), np.array(means)[:, None], np.array(stds)[:, None])


# --------------------------------------------------------------------------------------------
# Eight Gaussians
# --------------------------------------------------------------------------------------------

_EIGHT_RADIUS = 1.4
_EIGHT_STD = 0.14  # 0.1 * radius


def eight_gaussians_mixture() -> GaussianMixture:
    r"""Eight equal-weight isotropic Gaussians evenly spaced on a circle.

    Component :math:`k = 0, \dots, 7` has weight :math:`1/8`, mean
    :math:`r(\cos\tfrac{2\pi k}{8}, \sin\tfrac{2\pi k}{8})` and covariance :math:`s^2 I`,
    with :math:`r = 1.4` and :math:`s = 0.1\,r = 0.14`. The mixture mean is 0 and, since
    :math:`\tfrac18\sum_k \cos^2\tfrac{2\pi k}{8} = \tfrac12`, its covariance is

    .. math::
        \mathrm{Cov}(x) = \Big(\frac{r^2}{2} + s^2\Big) I = 0.9996\, I,

    i.e. a per-coordinate std of 0.9998.

    Returns:
        A :class:`~diffviz.GaussianMixture` with ``weights`` ``(8,)``, ``means`` and
        ``stds`` ``(8, 2)``.
    """
    angles = 2.0 * np.pi * np.arange(8) / 8.0
    means = _EIGHT_RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (8, 2)
    return _constant_mixture(np.full(8, 1.0 / 8.0), means, np.full((8, 2), _EIGHT_STD))


def sample_eight_gaussians(key, n: int) -> jax.Array:
    """``n`` draws from :func:`eight_gaussians_mixture`, shape ``(n, 2)``, float32.

    The same draws as ``sample_mixture(key, eight_gaussians_mixture(), n)``; the exact
    density is ``mixture_log_prob(eight_gaussians_mixture(), x)``.

    Args:
        key: a JAX PRNG key.
        n: number of samples, an integer >= 1 (static under ``jit``).

    Raises:
        ValueError: if ``key`` is not a PRNG key or ``n`` is not an integer >= 1.
    """
    key = v.prng_key("key", key)
    n = v.positive_int("n", n)
    return _eight_gaussians_kernel(key, n)


@functools.partial(jax.jit, static_argnames="n")
def _eight_gaussians_kernel(key: jax.Array, n: int) -> jax.Array:
    return sample_mixture(key, eight_gaussians_mixture(), n)


# --------------------------------------------------------------------------------------------
# Curves with noise: swiss roll and two moons
# --------------------------------------------------------------------------------------------


# Swiss roll: angle t ~ U[a, b], raw point t (cos t, sin t). With L = b - a = 3 pi and the
# antiderivatives t sin t + cos t, sin t - t cos t and (t^2/2) sin 2t + (t/2) cos 2t -
# (1/4) sin 2t (sin of a, b and of 2a, 2b, and cos a, cos b all vanish; sin a = -1,
# sin b = 1, cos 2a = cos 2b = -1):
#   E[t cos t] = 6 pi / L = 2,   E[t sin t] = 2 / L,
#   E[t^2] = (a^2 + ab + b^2) / 3,   E[t^2 cos 2t] = -1/2,
#   E[(t cos t)^2] = (E[t^2] - 1/2) / 2,   E[(t sin t)^2] = (E[t^2] + 1/2) / 2.
_SWISS_LO = 1.5 * math.pi
_SWISS_HI = 4.5 * math.pi
_SWISS_T2 = (_SWISS_LO**2 + _SWISS_LO * _SWISS_HI + _SWISS_HI**2) / 3.0
_SWISS_MEAN = (2.0, 2.0 / (_SWISS_HI - _SWISS_LO))  # (2.0, 0.2122)
_SWISS_STD = (
    math.sqrt((_SWISS_T2 - 0.5) / 2.0 - _SWISS_MEAN[0] ** 2),  # 6.623
    math.sqrt((_SWISS_T2 + 0.5) / 2.0 - _SWISS_MEAN[1] ** 2),  # 6.951
)


def _standardise(raw: jax.Array, mean: tuple[float, float], std: tuple[float, float]) -> jax.Array:
    """The fixed map ``(raw - mean) / std`` per coordinate; ``raw`` is ``(n, 2)``."""
    m = jnp.asarray(mean, jnp.float32)[None, :]  # (1, 2)
    s = jnp.asarray(std, jnp.float32)[None, :]  # (1, 2)
    return (raw - m) / s


def sample_swiss_roll(key, n: int, noise=0.5) -> jax.Array:
    r"""A noisy 2-D swiss roll (an Archimedean spiral), standardised, shape ``(n, 2)``.

    Each point draws an angle :math:`t \sim \mathcal U[1.5\pi, 4.5\pi]` (one and a half
    turns) and noise :math:`\eta \sim \mathcal N(0, I_2)`, then

    .. math::
        \tilde x = t\,(\cos t, \sin t) + \mathrm{noise}\cdot\eta, \qquad
        x = (\tilde x - m) \oslash s,

    with the fixed constants (the exact moments of the noise-free spiral)
    :math:`m = (2,\ 2/(3\pi)) \approx (2, 0.212)` and :math:`s \approx (6.623, 6.951)`. The
    noise-free roll therefore has mean 0 and std exactly 1 per coordinate; with the default
    ``noise=0.5`` the stds are about 1.003 and 1.003. The output noise std is
    ``noise / s``, about ``0.074`` by default.

    There is no closed-form density (see the module docstring).

    Args:
        key: a JAX PRNG key.
        n: number of samples, an integer >= 1 (static under ``jit``).
        noise: std of the Gaussian noise added in raw spiral units (where the radius runs
            from about 4.7 to 14.1); a finite number >= 0. ``0`` puts points on the curve.

    Returns:
        float32 array of shape ``(n, 2)``.

    Raises:
        ValueError: if ``key`` is not a PRNG key, ``n`` is not an integer >= 1, or ``noise``
            is negative, NaN or infinite.
    """
    key = v.prng_key("key", key)
    n = v.positive_int("n", n)
    return _swiss_roll_kernel(key, n, _noise_level(noise))


@functools.partial(jax.jit, static_argnames="n")
def _swiss_roll_kernel(key: jax.Array, n: int, noise: jax.Array) -> jax.Array:
    z = jax.random.normal(key, (n, 3), jnp.float32)  # one draw: angle and noise
    t = _SWISS_LO + (_SWISS_HI - _SWISS_LO) * ndtr(z[:, 0])  # (n,), uniform
    curve = jnp.stack([t * jnp.cos(t), t * jnp.sin(t)], axis=1)  # (n, 2)
    raw = curve + noise * z[:, 1:]
    return _standardise(raw, _SWISS_MEAN, _SWISS_STD)


# Two moons: upper arc (cos u, sin u), lower arc (1 - cos u, 1/2 - sin u), u ~ U[0, pi],
# each with probability 1/2. E[cos u] = 0, E[sin u] = 2/pi, E[cos^2 u] = E[sin^2 u] = 1/2:
#   mean = (1/2, 1/4),
#   E[x^2] = (1/2 + 3/2) / 2 = 1            -> var x = 3/4,
#   E[y^2] = (1/2 + 3/4 - 2/pi) / 2          -> var y = 9/16 - 1/pi.
_MOONS_MEAN = (0.5, 0.25)
_MOONS_STD = (math.sqrt(0.75), math.sqrt(9.0 / 16.0 - 1.0 / math.pi))  # (0.866, 0.494)


def sample_moons(key, n: int, noise=0.1) -> jax.Array:
    r"""Two interleaving half circles ("two moons"), standardised, shape ``(n, 2)``.

    Each point independently picks a moon, :math:`b \sim \mathrm{Bernoulli}(1/2)`, a
    position along it, :math:`u \sim \mathcal U[0, \pi]`, and noise
    :math:`\eta \sim \mathcal N(0, I_2)`:

    .. math::
        \tilde x = \begin{cases} (\cos u,\ \sin u) & b = 0 \text{ (upper moon)}\\
                   (1 - \cos u,\ \tfrac12 - \sin u) & b = 1 \text{ (lower moon)}
                   \end{cases} \;+\ \mathrm{noise}\cdot\eta, \qquad
        x = (\tilde x - m) \oslash s,

    with the fixed constants (exact moments of the noise-free moons) :math:`m = (1/2, 1/4)`
    and :math:`s = (\sqrt{3/4},\ \sqrt{9/16 - 1/\pi}) \approx (0.866, 0.494)`. Noise-free,
    each coordinate has mean 0 and std exactly 1; with the default ``noise=0.1`` the stds
    are about 1.007 and 1.020. The per-coordinate scaling stretches the moons vertically
    (circles become ellipses); that is the price of unit scale in both coordinates.

    Positions along the arcs are random, not evenly spaced, so two draws with different
    keys share no points even with ``noise=0`` (up to rare float32 coincidences), and the
    moon sizes are random (binomial), about ``n/2`` each. There is no closed-form density
    (see the module docstring).

    Args:
        key: a JAX PRNG key.
        n: number of samples, an integer >= 1 (static under ``jit``).
        noise: std of the Gaussian noise added in raw units (moon radius 1); a finite
            number >= 0. ``0`` puts points exactly on the arcs.

    Returns:
        float32 array of shape ``(n, 2)``.

    Raises:
        ValueError: if ``key`` is not a PRNG key, ``n`` is not an integer >= 1, or ``noise``
            is negative, NaN or infinite.
    """
    key = v.prng_key("key", key)
    n = v.positive_int("n", n)
    return _moons_kernel(key, n, _noise_level(noise))


@functools.partial(jax.jit, static_argnames="n")
def _moons_kernel(key: jax.Array, n: int, noise: jax.Array) -> jax.Array:
    z = jax.random.normal(key, (n, 4), jnp.float32)  # one draw: moon, angle and noise
    lower = z[:, 0] > 0.0  # (n,), Bernoulli(1/2) by symmetry
    u = math.pi * ndtr(z[:, 1])  # (n,), uniform on [0, pi]
    cos_u, sin_u = jnp.cos(u), jnp.sin(u)
    upper_arc = jnp.stack([cos_u, sin_u], axis=1)  # (n, 2)
    lower_arc = jnp.stack([1.0 - cos_u, 0.5 - sin_u], axis=1)  # (n, 2)
    curve = jnp.where(lower[:, None], lower_arc, upper_arc)
    raw = curve + noise * z[:, 2:]
    return _standardise(raw, _MOONS_MEAN, _MOONS_STD)


# --------------------------------------------------------------------------------------------
# Checkerboard
# --------------------------------------------------------------------------------------------

# Lower-left corners of the 8 black unit squares of the 4x4 board on [-2, 2)^2. The square
# [i, i+1) x [j, j+1) (i, j in -2..1) is black when i + j is even, so [-2, -1)^2 is black.
_CHECKER_CORNERS = np.array(
    [(i, j) for j in range(-2, 2) for i in range(-2, 2) if (i + j) % 2 == 0], dtype=np.float32
)  # (8, 2)
_CHECKER_LOG_DENSITY = -math.log(8.0)


def sample_checkerboard(key, n: int) -> jax.Array:
    r"""Uniform samples on the black squares of a 4x4 checkerboard on :math:`[-2, 2)^2`.

    The board has 16 unit squares :math:`[i, i+1) \times [j, j+1)`, :math:`i, j \in
    \{-2, -1, 0, 1\}`; a square is black when :math:`i + j` is even (so the corner square
    :math:`[-2,-1)^2` is black). Each sample picks one of the 8 black squares uniformly and a
    uniform point inside it, so the density is exactly

    .. math::
        p(x) = \begin{cases} 1/8 & x \text{ on a black square} \\ 0 & \text{otherwise,}
        \end{cases}

    see :func:`checkerboard_log_prob`. Each coordinate is marginally uniform on
    :math:`[-2, 2)`: mean 0, std :math:`\sqrt{16/12} \approx 1.155`.

    Args:
        key: a JAX PRNG key.
        n: number of samples, an integer >= 1 (static under ``jit``).

    Returns:
        float32 array of shape ``(n, 2)``.

    Raises:
        ValueError: if ``key`` is not a PRNG key or ``n`` is not an integer >= 1.
    """
    key = v.prng_key("key", key)
    n = v.positive_int("n", n)
    return _checkerboard_kernel(key, n)


@functools.partial(jax.jit, static_argnames="n")
def _checkerboard_kernel(key: jax.Array, n: int) -> jax.Array:
    u = jax.random.uniform(key, (n, 3), jnp.float32)  # one draw: square and position
    # 8 * u is exact in float32 and uniform on {0, ..., 7} after floor; the min is a guard.
    square = jnp.minimum(jnp.floor(8.0 * u[:, 0]).astype(jnp.int32), 7)  # (n,)
    corner = jnp.asarray(_CHECKER_CORNERS)[square]  # (n, 2)
    offset = u[:, 1:]  # (n, 2), in [0, 1)
    # corner + offset can round up to corner + 1 in float32 (the next square); keep it inside.
    return jnp.minimum(corner + offset, jnp.nextafter(corner + 1.0, corner))


def checkerboard_log_prob(x) -> jax.Array:
    r"""Exact log-density of :func:`sample_checkerboard` at points ``x: (..., 2)``.

    .. math::
        \log p(x) = \begin{cases} \log(1/8) \approx -2.079 & x \text{ on a black square} \\
        -\infty & \text{otherwise.} \end{cases}

    :math:`-\infty` is the exact answer off the black squares (white squares and outside the
    board), not an error: the data never go there. Squares are half-open,
    :math:`[i, i+1) \times [j, j+1)`; the boundaries have zero area and do not affect any
    integral.

    Args:
        x: points, shape ``(..., 2)``; finite.

    Returns:
        float32 array of shape ``(...)``.

    Raises:
        ValueError: if ``x`` holds NaN or infinity (checked when ``x`` is concrete; under
            ``jit`` a NaN point gets :math:`-\infty`) or its last axis is not 2.
    """
    x = v.data_array("x", x, min_ndim=1)
    if x.shape[-1] != 2:
        raise ValueError(f"x must have shape (..., 2) (2-D points); got {x.shape}")
    return _checkerboard_log_prob_kernel(x)


@jax.jit
def _checkerboard_log_prob_kernel(x: jax.Array) -> jax.Array:
    cell = jnp.floor(x)  # (..., 2): lower-left corner of the unit square holding x
    on_board = jnp.all((x >= -2.0) & (x < 2.0), axis=-1)  # (...)
    black = jnp.mod(cell[..., 0] + cell[..., 1], 2.0) == 0.0  # (...)
    return jnp.where(on_board & black, jnp.float32(_CHECKER_LOG_DENSITY), -jnp.inf).astype(jnp.float32)


# The diffused checkerboard: a product of two 1-D Gaussian CDF differences per square, in log space.
_GL_NODES, _GL_WEIGHTS = (a.astype(np.float32) for a in np.polynomial.legendre.leggauss(8))
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def checkerboard_diffused_log_prob(x, alpha_bar, *, one_minus_alpha_bar=None) -> jax.Array:
    r"""Exact log-density of the diffused checkerboard, :math:`\log q_t(x)`, at points ``x: (..., 2)``.

    With :math:`x_0` from :func:`sample_checkerboard` and :math:`x_t = s\,x_0 + \sigma\,\varepsilon`,
    :math:`s = \sqrt{\bar\alpha}`, :math:`\sigma = \sqrt{1-\bar\alpha}`, the density of :math:`x_t`
    is the board's density :math:`1/8` on each black square convolved with a Gaussian. On a
    square :math:`[a_1, b_1) \times [a_2, b_2)` the integral factorises per coordinate:

    .. math::
        q_t(x) = \frac18 \sum_{\text{black squares}} \prod_{d=1}^{2} \frac1s
        \Big[\Phi\Big(\frac{x_d - s a_d}{\sigma}\Big) - \Phi\Big(\frac{x_d - s b_d}{\sigma}\Big)\Big].

    Each bracket is computed in log space without cancellation: by Gauss-Legendre quadrature of
    :math:`\varphi` when the interval is narrow (``s / sigma`` small, the noisy end), by
    :math:`\operatorname{erf}` values of opposite signs when it straddles 0, and by
    ``log_ndtr`` of the tail it lies in otherwise; the 8 squares are summed by log-sum-exp.
    So far from the board the answer is a finite, very negative number (about :math:`-630` at
    :math:`(3, 0.5)` for :math:`\bar\alpha = 0.999`), not :math:`-\infty`: finite for ``|x| <= 1e5``
    and every ``alpha_bar`` in (0, 1). Measured against float64 quadrature
    (``tests/test_checkerboard_diffused.py``), the absolute error of the log-density is at most
    ``1e-6 * max(1, |log q|)`` (float32's rounding of the answer; ``7.4e-7`` measured over
    ``alpha_bar`` from ``1e-6`` to ``1 - 1e-6`` and ``|x|`` up to ``1e5``).
    ``alpha_bar = 1`` (no noise yet) gives back :func:`checkerboard_log_prob` exactly, with its
    :math:`-\infty` off the black squares.

    For step ``t`` of a schedule pass ``schedule.alpha_bars[t]`` and, near ``t = 0``, also
    ``one_minus_alpha_bar=schedule.one_minus_alpha_bars[t]``: in float32, ``1 - alpha_bar`` is only
    good to about ``6e-8`` absolute, a relative error of ``6e-4`` in :math:`\sigma^2` at
    :math:`\bar\alpha = 0.9999` (the linear schedule's first step), which the steep density
    multiplies by :math:`z^2` (0.1 in :math:`\log q` at :math:`z = 20`).

    Args:
        x: points, shape ``(..., 2)``; finite.
        alpha_bar: :math:`\bar\alpha_t`, a scalar in (0, 1] (checked when concrete).
        one_minus_alpha_bar: :math:`1 - \bar\alpha_t` as the schedule computed it (a scalar in
            [0, 1] within ``1e-6`` of ``1 - alpha_bar``); default ``1 - alpha_bar``. Zero means no noise.

    Returns:
        float32 array of shape ``(...)``.

    Raises:
        ValueError: if ``x`` holds NaN or infinity or its last axis is not 2, ``alpha_bar`` is
            not a scalar in (0, 1], or ``one_minus_alpha_bar`` is not a scalar in [0, 1] that adds
            up with ``alpha_bar`` to 1.
    """
    x = v.data_array("x", x, min_ndim=1)
    if x.shape[-1] != 2:
        raise ValueError(f"x must have shape (..., 2) (2-D points); got {x.shape}")
    abar = v.as_float_array("alpha_bar", alpha_bar)
    if abar.ndim != 0:
        raise ValueError(f"alpha_bar must be a scalar in (0, 1]; got shape {abar.shape}")
    if v.is_concrete(abar) and not 0.0 < float(abar) <= 1.0:
        raise ValueError(f"alpha_bar must be a number in (0, 1] (alpha-bar_t of a schedule); got {float(abar)!r}")
    if one_minus_alpha_bar is None:
        rest = 1.0 - abar
    else:
        rest = v.as_float_array("one_minus_alpha_bar", one_minus_alpha_bar)
        if rest.ndim != 0:
            raise ValueError(f"one_minus_alpha_bar must be a scalar in [0, 1]; got shape {rest.shape}")
        if v.is_concrete(rest) and v.is_concrete(abar):
            r, a = float(rest), float(abar)
            if not (0.0 <= r <= 1.0 and abs(a + r - 1.0) <= 1e-6):
                raise ValueError(f"one_minus_alpha_bar must be 1 - alpha_bar (to 1e-6), in [0, 1]; got {r!r} with alpha_bar = {a!r}")
    return _checkerboard_diffused_kernel(x, abar, rest)


def _log_cdf_difference(lo: jax.Array, hi: jax.Array, m: jax.Array, w: jax.Array) -> jax.Array:
    r"""``log(Phi(hi) - Phi(lo))`` for ``hi = m + w/2 > lo = m - w/2``, elementwise, without cancellation.

    All four are passed, each computed directly: ``m +- w/2`` would lose the ends' digits when
    ``m`` and ``w`` are large and close (a point just off a square at small noise).
    """
    # narrow (w (|m| + 1) < 1): Phi difference = phi(m) * int_{-w/2}^{w/2} exp(-m h - h^2/2) dh
    lead = (1,) * m.ndim
    h = 0.5 * w[..., None] * jnp.asarray(_GL_NODES).reshape(lead + (8,))  # (..., 8)
    gl_weights = jnp.asarray(_GL_WEIGHTS).reshape(lead + (8,))
    inner = jnp.sum(0.5 * gl_weights * jnp.exp(-m[..., None] * h - 0.5 * h * h), axis=-1)
    narrow = -0.5 * m * m - _LOG_SQRT_2PI + jnp.log(w) + jnp.log(inner)
    # straddling 0: erf(hi) > 0 > erf(lo), so the difference is a sum of two non-negative terms
    root2 = jnp.float32(math.sqrt(2.0))
    straddle = jnp.log(0.5 * (jax.scipy.special.erf(hi / root2) - jax.scipy.special.erf(lo / root2)))
    # one tail: Phi(r) - Phi(p) mirrored to Q(p) - Q(r) with 0 < p < r (Q(z) = 1 - Phi(z) = Phi(-z))
    above = _log_upper_tail_difference(lo, hi, m, w)
    below = _log_upper_tail_difference(-hi, -lo, -m, w)
    tails = jnp.where(lo > 0, above, jnp.where(hi < 0, below, straddle))
    return jnp.where(w * (jnp.abs(m) + 1.0) < 1.0, narrow, tails)


def _log_upper_tail_difference(p: jax.Array, r: jax.Array, mid: jax.Array, w: jax.Array) -> jax.Array:
    r"""``log(Q(p) - Q(r))`` for ``0 < p < r = p + w``, ``mid = p + w/2``, the interval not narrow.

    ``log Q(p) + log(1 - exp(-D))`` with :math:`D = \log Q(p) - \log Q(r) > 0`. Far out
    (``p >= 10``) ``D`` comes from Q's asymptotic series, :math:`\log Q(z) = -z^2/2 - \log z -
    \log\sqrt{2\pi} + \log(1 - z^{-2} + 3z^{-4} - 15z^{-6} + 105z^{-8})`, whose leading part
    :math:`(r^2 - p^2)/2 = \mathrm{mid}\cdot w` is exact: the difference of two huge ``log_ndtr``
    values would lose it.
    """
    log_qp = jax.scipy.special.log_ndtr(-p)
    near = log_qp - jax.scipy.special.log_ndtr(-r)

    def series(z):
        u = 1.0 / (z * z)
        return jnp.log1p(u * (-1.0 + u * (3.0 + u * (-15.0 + 105.0 * u))))

    pf = jnp.maximum(p, 10.0)  # (keeps the unused branch finite)
    far = mid * w + jnp.log1p(w / pf) + series(pf) - series(jnp.maximum(r, 10.0))
    d = jnp.where(p >= 10.0, far, near)
    return log_qp + jnp.log1p(-jnp.exp(-jnp.maximum(d, 0.0)))


@jax.jit
def _checkerboard_diffused_kernel(x: jax.Array, abar: jax.Array, rest: jax.Array) -> jax.Array:
    noisy = rest > 0.0
    rest = jnp.where(noisy, rest, 1.0)  # (1 keeps the unused branch finite)
    sigma = jnp.sqrt(rest)
    s = jnp.sqrt(abar)
    centres = (jnp.asarray(_CHECKER_CORNERS) + 0.5).reshape((1,) * (x.ndim - 1) + (8, 2))  # (1.., 8, 2)
    # (..., 8, 2): x - s y in noise units for y the square's centre and its edges, as (x - y) + y (1 - s) with
    # 1 - s = (1 - abar) / (1 + s): near abar = 1 the float32 rounding of s y would be magnified by 1 / sigma
    shrink = rest / (1.0 + s)
    xs = x[..., None, :]

    def offset(y):
        return ((xs - y) + y * shrink) / sigma

    m, hi, lo = offset(centres), offset(centres - 0.5), offset(centres + 0.5)
    w = jnp.broadcast_to(s / sigma, m.shape)  # the square's side in noise units
    per_square = jnp.sum(_log_cdf_difference(lo, hi, m, w), axis=-1) - jnp.log(abar)  # (..., 8): 2 coords, 1/s each
    diffused = jax.nn.logsumexp(per_square, axis=-1) + jnp.float32(_CHECKER_LOG_DENSITY)
    return jnp.where(noisy, diffused, _checkerboard_log_prob_kernel(x)).astype(jnp.float32)


# --------------------------------------------------------------------------------------------
# Registry for notebooks
# --------------------------------------------------------------------------------------------

TOY_DATASETS_2D = {
    "swiss roll": sample_swiss_roll,
    "two moons": sample_moons,
    "eight Gaussians": sample_eight_gaussians,
    "checkerboard": sample_checkerboard,
}
"""The 2-D toy samplers by display name, for notebook dropdowns (e.g. an ``ipywidgets``
``Dropdown(options=list(TOY_DATASETS_2D))``). Each value is a sampler called as
``sampler(key, n)`` that returns a float32 ``(n, 2)`` array (the noisy ones use their default
``noise``). A plain ``dict`` in display order; only the eight Gaussians and the checkerboard
have an exact density.
"""
