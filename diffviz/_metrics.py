r"""Sample-based distances: how far are generated samples from the data?

All three compare two *samples* (arrays of points), not densities, so they work for any
model, and :func:`noise_floor` says what value two samples of the *same* distribution give
at the same sample size (no sample-based distance is 0 then, so a model is only as good as
its distance is close to that floor).

* :func:`sliced_wasserstein` -- the average 1-D Wasserstein-1 distance over random
  projections; any dimension, cheap, in the units of the data.
* :func:`energy_distance` -- a distance built from mean pairwise Euclidean distances; zero
  exactly when the distributions agree.
* :func:`histogram_kl` -- the KL divergence between 1-D histograms; a divergence (not
  symmetric), in nats.

Each returns a float32 scalar JAX array; inputs are checked eagerly and the work is done by
``jax.jit`` kernels compiled once per input shape (and per ``num_projections`` or ``bins``).
:func:`sliced_wasserstein` and :func:`energy_distance` also work inside ``jax.jit`` (the NaN
check is then skipped, see :mod:`diffviz._validate`).
"""

from __future__ import annotations

import functools
import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.scipy.special import rel_entr

from diffviz import _validate as v

# Work sizes of the chunked kernels (elements of the largest intermediate array).
_SW_CHUNK = 64  # projections per chunk of the sliced Wasserstein kernel
_PAIR_BLOCK_ELEMENTS = 1 << 21  # rows * m * d of one block of pairwise differences (8 MiB)

# --------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------


def _same_dim(x: jax.Array, y: jax.Array) -> None:
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"y must have the dimension of x, shape (m, {x.shape[1]}); got shape {y.shape}")


# --------------------------------------------------------------------------------------------
# Sliced Wasserstein
# --------------------------------------------------------------------------------------------


def sliced_wasserstein(key, x, y, num_projections: int = 256) -> jax.Array:
    r"""The sliced Wasserstein-1 distance between two equal-size samples.

    For a unit direction :math:`u`, the projections :math:`u^\top x_i` and :math:`u^\top y_i`
    are two 1-D samples of the same size :math:`n`; their Wasserstein-1 distance is the mean
    gap between their sorted values (matching order statistics is the optimal transport
    plan in 1-D). The sliced distance averages it over :math:`L` random directions:

    .. math::
        \mathrm{SW}_1(x, y) = \frac1L \sum_{l=1}^{L} \frac1n \sum_{i=1}^{n}
            \big| (u_l^\top x)_{(i)} - (u_l^\top y)_{(i)} \big|,

    where :math:`a_{(i)}` is the :math:`i`-th smallest entry. The directions are
    :math:`u_l = g_l / \lVert g_l \rVert` with :math:`g =` ``jax.random.normal(key, (L, d))``
    (uniform on the sphere). Projections are processed in chunks of 64, so memory is
    :math:`O(64\,n)` whatever :math:`L` is.

    For a pure shift, :math:`y = x + c`, every projected gap is :math:`|u^\top c|`, so
    :math:`\mathrm{SW}_1 \to \lVert c \rVert\,E|\cos\theta|` (:math:`= \lVert c\rVert \cdot
    2/\pi` in 2-D) as :math:`L` grows.

    Args:
        key: a JAX PRNG key for the directions (the same key gives the same directions).
        x: ``(n, d)`` points.
        y: ``(n, d)`` points, the same shape as ``x``.
        num_projections: :math:`L`, an integer >= 1.

    Returns:
        float32 scalar, in the units of the data.

    Raises:
        ValueError: if the shapes differ or are not ``(n, d)``, an input holds NaN or
            infinity, ``num_projections`` is not a positive integer, or ``key`` is not a key.
    """
    key = v.prng_key("key", key)
    x = v.points("x", x)
    y = v.points("y", y)
    v.check_shape("y", y, x.shape, "the same number of points and dimension as x")
    num_projections = v.positive_int("num_projections", num_projections)
    return _sliced_kernel(key, x, y, num_projections)


def _flip_negatives(bits: jax.Array) -> jax.Array:
    """Map the int32 bit pattern of a float32 to an int32 with the same order as the float.

    Read as an int, the bits of a non-negative float already increase with the float; for
    a negative float (sign bit set, so a negative int), flipping all but the sign bit
    reverses their order to match. The map is its own inverse.
    """
    return jnp.where(bits < 0, bits ^ jnp.int32(0x7FFFFFFF), bits)


def _sort_rows(a: jax.Array) -> jax.Array:
    """Sort a finite float32 ``(r, n)`` array along its rows: the values of ``jnp.sort(a, axis=1)``.

    XLA's CPU sort is about four times faster on int32 keys than with its NaN-aware float
    comparator, so the floats are sorted through their order-preserving integer code.
    """
    codes = _flip_negatives(lax.bitcast_convert_type(a, jnp.int32))  # (r, n)
    codes = lax.sort(codes, dimension=1, is_stable=False)
    return lax.bitcast_convert_type(_flip_negatives(codes), jnp.float32)


@functools.partial(jax.jit, static_argnames="num_projections")
def _sliced_kernel(key, x, y, num_projections):
    d = x.shape[1]
    g = jax.random.normal(key, (num_projections, d), jnp.float32)  # (L, d)
    dirs = g / jnp.linalg.norm(g, axis=1, keepdims=True)  # (L, d)
    chunk = min(num_projections, _SW_CHUNK)
    num_chunks = -(-num_projections // chunk)
    # Zero directions pad the last chunk; they project everything to 0 and add exactly 0.
    pad = num_chunks * chunk - num_projections
    dirs = jnp.concatenate([dirs, jnp.zeros((pad, d), jnp.float32)]).reshape(num_chunks, chunk, d)

    def chunk_sum(u):  # u: (chunk, d) -> summed W1 over the chunk's directions
        px = _sort_rows(u @ x.T)  # (chunk, n)
        py = _sort_rows(u @ y.T)  # (chunk, n)
        return jnp.sum(jnp.mean(jnp.abs(px - py), axis=1))

    return (jnp.sum(lax.map(chunk_sum, dirs)) / num_projections).astype(jnp.float32)


# --------------------------------------------------------------------------------------------
# Energy distance
# --------------------------------------------------------------------------------------------


def energy_distance(x, y, max_points: int = 4000) -> jax.Array:
    r"""The energy distance between two samples (V-statistic), any dimension.

    .. math::
        D(x, y) = \sqrt{\,2\,E\lVert X - Y\rVert - E\lVert X - X'\rVert - E\lVert Y - Y'\rVert\,},

    with each expectation the mean over *all* pairs of the empirical distributions
    (including :math:`i = j`, whose distance is 0: the V-statistic). In 1-D this is
    ``scipy.stats.energy_distance`` (:math:`\sqrt2\,\lVert F - G\rVert_2` for the empirical
    CDFs); with Euclidean norms it is the standard generalisation. It is 0 only when the two
    empirical distributions coincide. Shifting one distribution by :math:`c` makes it grow
    in proportion to :math:`\lVert c \rVert` while the shift is small against the spread,
    and like :math:`\sqrt{2\lVert c \rVert}` once it is large.

    The cost is :math:`O(n^2 d)`: inputs with more than ``max_points`` rows are cut to their
    *first* ``max_points`` rows (so shuffle ordered data first). The pairwise means are
    accumulated in blocks of rows (a few MiB at a time), never as a full
    :math:`n \times m` matrix.

    Args:
        x: ``(n, d)`` points.
        y: ``(m, d)`` points of the same dimension; ``m`` may differ from ``n``.
        max_points: the largest number of rows used from each input, an integer >= 1.

    Returns:
        float32 scalar, in the units of the data to the power 1/2.

    Raises:
        ValueError: if an input is not ``(n, d)``, the dimensions differ, an input holds NaN
            or infinity, or ``max_points`` is not a positive integer.
    """
    x = v.points("x", x)
    y = v.points("y", y)
    _same_dim(x, y)
    max_points = v.positive_int("max_points", max_points)
    return _energy_kernel(x[:max_points], y[:max_points])


def _mean_pairwise_distance(a: jax.Array, b: jax.Array) -> jax.Array:
    r""":math:`\frac{1}{nm}\sum_{i,j}\lVert a_i - b_j\rVert` for ``a: (n, d)``, ``b: (m, d)``.

    Computed by blocks of rows of ``a`` (about 8 MiB of differences at a time).
    """
    n, d = a.shape
    m = b.shape[0]
    rows = max(1, min(n, _PAIR_BLOCK_ELEMENTS // (m * d)))
    num_blocks = -(-n // rows)
    pad = num_blocks * rows - n
    a_blocks = jnp.concatenate([a, jnp.zeros((pad, d), a.dtype)]).reshape(num_blocks, rows, d)
    valid = (jnp.arange(num_blocks * rows) < n).reshape(num_blocks, rows)  # padded rows are masked

    def block_sum(inputs):
        a_block, mask = inputs  # (rows, d), (rows,)
        diff = a_block[:, None, :] - b[None, :, :]  # (rows, m, d)
        dist = jnp.sqrt(jnp.sum(diff * diff, axis=-1))  # (rows, m)
        return jnp.sum(jnp.where(mask[:, None], dist, 0.0))

    return jnp.sum(lax.map(block_sum, (a_blocks, valid))) / (n * m)


@jax.jit
def _energy_kernel(x, y):
    xy = _mean_pairwise_distance(x, y)
    xx = _mean_pairwise_distance(x, x)
    yy = _mean_pairwise_distance(y, y)
    # The V-statistic is >= 0 in exact arithmetic; the clamp only absorbs rounding.
    return jnp.sqrt(jnp.maximum(2.0 * xy - xx - yy, 0.0)).astype(jnp.float32)


# --------------------------------------------------------------------------------------------
# Histogram KL
# --------------------------------------------------------------------------------------------


def _histogram_range(range_, x: jax.Array, y: jax.Array) -> tuple[float, float]:
    if range_ is None:
        lo = float(jnp.minimum(jnp.min(x), jnp.min(y)))
        hi = float(jnp.maximum(jnp.max(x), jnp.max(y)))
        if lo == hi:  # all values equal: a unit-wide window around them, as numpy does
            lo, hi = lo - 0.5, hi + 0.5
        return lo, hi
    return v.finite_range("range", range_, optional=True)


def histogram_kl(x, y, *, bins: int = 60, range=None, eps: float = 1e-6) -> jax.Array:
    r"""KL divergence :math:`\mathrm{KL}(P \,\|\, Q)` between histograms of two 1-D samples, in nats.

    Both samples are binned on the same ``bins`` equal-width bins over ``range`` (default:
    from the smallest to the largest value of both samples). With :math:`p_b, q_b` the
    fractions of ``x`` and ``y`` in bin :math:`b`, each smoothed and renormalised,

    .. math::
        \hat p_b = \frac{p_b + \epsilon}{1 + B\epsilon}, \qquad
        \hat q_b = \frac{q_b + \epsilon}{1 + B\epsilon}, \qquad
        \mathrm{KL} = \sum_{b=1}^{B} \hat p_b \log\frac{\hat p_b}{\hat q_b}.

    The smoothing :math:`\epsilon` keeps the value finite when ``y`` leaves empty a bin that
    ``x`` fills (an unsmoothed KL would be :math:`+\infty`, and would jump there from a
    finite value when one sample point moves); such a bin then costs about
    :math:`p_b \log(p_b / \epsilon)`. ``eps=0`` gives the raw, possibly infinite, KL.

    Put the reference (the data) in ``x`` and the model in ``y``: KL(data || model) is
    large when the model misses a part of the data. Like any histogram estimate it is biased
    upwards at finite sample size (see :func:`noise_floor`). Bins are half-open
    ``[lo_b, hi_b)`` except the last, which includes ``hi``; points outside ``range`` are
    ignored, and the fractions are taken over the points inside it. Call it outside ``jit``:
    the default range and the check for empty histograms need concrete values.

    Args:
        x: the reference sample, shape ``(n,)`` or ``(n, 1)``.
        y: the other sample, shape ``(m,)`` or ``(m, 1)``.
        bins: number of bins :math:`B`, an integer >= 1.
        range: ``(lo, hi)`` with ``lo < hi``, or ``None`` for the joint min and max.
        eps: the smoothing :math:`\epsilon`, a finite number >= 0.

    Returns:
        float32 scalar >= 0, in nats.

    Raises:
        ValueError: on a bad shape, NaN or infinity in the samples, a bad ``bins``,
            ``range`` or ``eps``, or if no point of ``x`` or of ``y`` falls inside ``range``.
    """
    x = v.samples_1d("x", x)
    y = v.samples_1d("y", y)
    bins = v.positive_int("bins", bins)
    lo, hi = _histogram_range(range, x, y)
    is_real = isinstance(eps, numbers.Real) and not isinstance(eps, (bool, np.bool_))
    if not (is_real and math.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0; got {eps!r}")
    bounds = jnp.asarray([lo, hi], jnp.float32)
    counts_x = _histogram_kernel(x, bounds, bins)
    counts_y = _histogram_kernel(y, bounds, bins)
    for name, counts in (("x", counts_x), ("y", counts_y)):
        if float(jnp.sum(counts)) == 0:
            raise ValueError(f"{name} has no point inside range ({lo!r}, {hi!r})")
    return _kl_kernel(counts_x, counts_y, jnp.asarray(eps, jnp.float32))


@functools.partial(jax.jit, static_argnames="bins")
def _histogram_kernel(x, bounds, bins):
    lo, hi = bounds[0], bounds[1]
    inside = (x >= lo) & (x <= hi)  # (n,)
    index = jnp.floor((x - lo) / (hi - lo) * bins).astype(jnp.int32)
    index = jnp.clip(index, 0, bins - 1)  # x == hi goes into the last bin
    return jnp.zeros((bins,), jnp.float32).at[index].add(inside.astype(jnp.float32))


@jax.jit
def _kl_kernel(counts_x, counts_y, eps):
    bins = counts_x.shape[0]

    def smoothed(counts):
        return (counts / jnp.sum(counts) + eps) / (1.0 + bins * eps)

    return jnp.sum(rel_entr(smoothed(counts_x), smoothed(counts_y))).astype(jnp.float32)


# --------------------------------------------------------------------------------------------
# Noise floor
# --------------------------------------------------------------------------------------------


def noise_floor(key, metric, sampler, n: int, repeats: int = 3) -> float:
    """The value of ``metric`` between two independent samples of the *same* distribution.

    A sample-based distance between a model and the data is never 0, even for a perfect
    model: two finite samples of one distribution differ. This is the value to compare a
    model's score with, at the same sample size ``n``: for ``r = 1..repeats`` draw
    ``x = sampler(k1, n)`` and ``y = sampler(k2, n)`` with fresh keys and average
    ``metric(x, y)``.

    The floor of one pair is itself a random number: for the sliced Wasserstein distance of
    1,000 to 2,000 points it varies by 30-50% from pair to pair (chapter 7). The mean of
    ``repeats`` pairs has a standard error of that spread over ``sqrt(repeats)``, so choose
    ``repeats`` for the precision you need (chapter 7 uses 100; the default is 3).

    ``metric`` takes exactly two arguments. For :func:`sliced_wasserstein`, fix its key with
    ``functools.partial(sliced_wasserstein, key)``; for :func:`histogram_kl` with other
    options, ``functools.partial(histogram_kl, bins=40)``.

    Args:
        key: a JAX PRNG key for the draws.
        metric: ``metric(x, y) -> scalar``.
        sampler: ``sampler(key, n) -> (n, d)`` samples, e.g. :func:`~diffviz.sample_moons`
            or ``functools.partial(sample_mixture, mix=...)``.
        n: sample size, an integer >= 1 (use the size you evaluate models at).
        repeats: number of independent pairs averaged, an integer >= 1.

    Returns:
        The mean metric value, a Python float.

    Raises:
        ValueError: if ``metric`` or ``sampler`` is not callable, ``n`` or ``repeats`` is not
            a positive integer, ``key`` is not a key, or ``metric`` does not return a finite
            scalar.
    """
    key = v.prng_key("key", key)
    for name, fn in (("metric", metric), ("sampler", sampler)):
        if not callable(fn):
            raise ValueError(f"{name} must be callable; got {type(fn).__name__}")
    n = v.positive_int("n", n)
    repeats = v.positive_int("repeats", repeats)
    keys = jax.random.split(key, 2 * repeats)
    values = []
    for r in range(repeats):
        value = np.asarray(metric(sampler(keys[2 * r], n), sampler(keys[2 * r + 1], n)))
        if value.shape != () or not np.isfinite(value):
            raise ValueError(f"metric must return a finite scalar; got {value!r}")
        values.append(float(value))
    return float(np.mean(values))
