r"""CPU speed tricks behind the denoiser: the same numbers as the textbook form, computed faster.

:mod:`diffviz._model` is written to be read; the operations here replace a one-line
textbook expression by a longer one that XLA's CPU backend runs faster. Each is exact (or
within a few float32 ulps) against that textbook form, is tested against float64 NumPy or
SciPy in ``tests/test_model.py``, and was measured with the scripts in ``benchmarks/``
(``benchmarks/README.md``, "What made the steps faster", has the figures and their history):

* :func:`sincos` -- own ``(sin a, cos a)`` instead of ``jnp.sin``/``jnp.cos``: ~30x faster on
  CPU (8.2 ms against 0.28 ms for both of a 2048 x 128 array of large angles), and the
  embeddings run at every training and sampling step. Accurate to 2.5e-7 absolute.
* :func:`coordinate_angles` -- the angles of the input embedding built as one contiguous
  ``(..., d * h)`` array instead of the broadcast ``x[..., :, None] * omega``: the sin/cos
  of 10,000 2-D points with 8 frequencies took 0.26 ms instead of 1.7 ms.
* :func:`gelu_exact` -- the exact GELU with ``erf`` instead of ``jax.nn.gelu``'s ``erfc``,
  which costs 2.6x as much on CPU; DDPM 10k x 1000 went from 5.65 s to 3.9-4.5 s.
* :func:`linear_with_shared_tail` -- the first layer when every row shares one time step
  (a sampler): the time embedding's share of the matmul is computed once, not per row.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

_SQRT_HALF = math.sqrt(0.5)

# pi/2 split in three parts (the first two with few significant bits, so n * part is exact in
# float32 for |n| < 2**13): reduces an angle to [-pi/4, pi/4] without losing accuracy.
_HALF_PI_1, _HALF_PI_2, _HALF_PI_3 = 1.5703125, 4.837512969970703125e-4, 7.54978995489188216e-8


def sincos(a: jax.Array) -> tuple[jax.Array, jax.Array]:
    r"""``(sin a, cos a)`` in float32, accurate to ~1e-7 absolute for :math:`|a| \le 8192`.

    Why not ``jnp.sin``/``jnp.cos``: on XLA's CPU backend they ran ~30x slower than this
    (measured: 8.2 ms against 0.28 ms for both of a 2048 x 128 array), and the embeddings are
    evaluated at every training and sampling step, so they took more time than the matmuls.
    Method: write :math:`a = n\pi/2 + r` with :math:`|r| \le \pi/4` (Cody-Waite reduction),
    evaluate the Taylor polynomials of sin and cos at ``r`` (truncation error < 2e-9 there),
    then rotate by the quadrant :math:`n \bmod 4`.
    """
    a = a.astype(jnp.float32)
    n = jnp.round(a * (2.0 / math.pi))
    r = ((a - n * _HALF_PI_1) - n * _HALF_PI_2) - n * _HALF_PI_3
    r2 = r * r
    sin_r = r + r * r2 * (-1 / 6 + r2 * (1 / 120 + r2 * (-1 / 5040 + r2 * (1 / 362880))))
    cos_r = 1 + r2 * (-1 / 2 + r2 * (1 / 24 + r2 * (-1 / 720 + r2 * (1 / 40320 + r2 * (-1 / 3628800)))))
    quadrant = n.astype(jnp.int32) & 3  # sin(r + q pi/2), cos(r + q pi/2) for q = 0, 1, 2, 3:
    odd = (quadrant & 1) == 1  # q odd swaps sin and cos
    sin_a = jnp.where(odd, cos_r, sin_r)
    cos_a = jnp.where(odd, sin_r, cos_r)
    sin_a = jnp.where(quadrant >= 2, -sin_a, sin_a)  # q = 2, 3 flip the sine
    cos_a = jnp.where((quadrant == 1) | (quadrant == 2), -cos_a, cos_a)  # q = 1, 2 flip the cosine
    return sin_a, cos_a


def coordinate_angles(x: jax.Array, freqs: jax.Array) -> jax.Array:
    r"""The angles :math:`x_j \omega_i` of every coordinate, shape ``(..., d)`` -> ``(..., d * h)``.

    Laid out coordinate by coordinate (``i`` varying fastest), as one contiguous array: the
    concatenation of ``x_j * omega`` per coordinate. Written as the broadcast product
    ``x[..., :, None] * omega`` and reshaped, XLA's CPU backend ran the sin/cos that follows
    about 7x slower (measured: 1.7 ms against 0.26 ms for 10,000 points of 2-D data with 8
    frequencies), because the last axis it loops over is then only ``h`` long.

    Args:
        x: points ``(..., d)``, float32.
        freqs: the frequencies, shaped ``(1, ..., 1, h)`` to broadcast against ``x[..., j:j+1]``.
    """
    return jnp.concatenate([x[..., j : j + 1] * freqs for j in range(x.shape[-1])], axis=-1)


def gelu_exact(h: jax.Array) -> jax.Array:
    r"""The exact GELU, :math:`h\,\Phi(h) = \tfrac{h}{2}(1 + \operatorname{erf}(h/\sqrt{2}))`.

    The same function as ``jax.nn.gelu(h, approximate=False)``, which writes it with
    ``erfc(-h/sqrt 2)``. On XLA's CPU backend ``erfc`` costs 2.6x ``erf`` (measured: 0.96
    against 0.37 ns per element on a 10,000 x 64 array), and the exact GELU was the largest
    cost of a sampling step after the matmuls. Both forms are within a few float32 ulps of
    the float64 value (measured on [-12, 12]: 1.4e-7 and 1.1e-7 times max(1, |h|)); for
    :math:`h < -5.3`, where :math:`\Phi(h)` is below float32's resolution near 1, the ``erf``
    form returns 0 instead of a value smaller than 1e-6 in size.
    """
    return 0.5 * h * (1.0 + jax.lax.erf(h * _SQRT_HALF))


def linear_with_shared_tail(feats: jax.Array, tail: jax.Array, kernel: jax.Array, bias: jax.Array) -> jax.Array:
    r"""``concat[feats, tail] @ kernel + bias`` when every row shares the same ``tail``.

    Written as :math:`\text{feats}\,W_x + (\text{tail}\,W_t + b)`: the same numbers, with the
    shared part (a sampler's one time embedding) and its share of the matmul computed once
    instead of once per row, and no concatenated input array.

    Args:
        feats: ``(..., n_x)`` per-row features.
        tail: ``(n_t,)`` the features every row shares.
        kernel: ``(n_x + n_t, width)``; bias: ``(width,)``.

    Returns:
        ``(..., width)``.
    """
    n_x = feats.shape[-1]
    t_part = tail @ kernel[n_x:] + bias  # (width,)
    return feats @ kernel[:n_x] + t_part.reshape((1,) * (feats.ndim - 1) + (kernel.shape[-1],))
