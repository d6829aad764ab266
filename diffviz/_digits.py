r"""8x8 handwritten digits as diffusion data, and a nearest-neighbour check for samples.

The data set is scikit-learn's copy of the UCI "optical recognition of handwritten digits"
test set: 1,797 images of 8x8 pixels, each pixel an ink count from 0 (white) to 16 (black),
with the digit 0..9 as label. It ships inside scikit-learn, so nothing is downloaded.

Model units
-----------
A diffusion model wants data of about unit size, centred near 0, like the noise it is mixed
with. The pixel values :math:`p \in \{0, \dots, 16\}` are mapped affinely onto :math:`[-1, 1]`,

.. math::
    x = \frac{p}{8} - 1, \qquad p = 8\,(x + 1),

so blank paper is :math:`-1` and full ink :math:`+1`. An image is a flat vector of 64 such
numbers (row by row), the ``(n, d)`` layout of every other data set in diffviz with
``d = 64``. :func:`digits_from_pixels` and :func:`digits_to_pixels` are the two maps.

``import diffviz`` does not import scikit-learn: :func:`load_digits` reads the data file that
scikit-learn ships (and falls back to scikit-learn's own loader if the file is not where diffviz
looks for it).
"""

from __future__ import annotations

import functools
import importlib.util
import os
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from diffviz import _validate as v

DIGIT_SHAPE = (8, 8)  # rows, columns of one image
PIXEL_MAX = 16  # the largest ink count of a pixel in the data set
_NUM_DIGITS = 1797


class DigitsData(NamedTuple):
    """The 8x8 digits in model units; unpacks as ``pixels, labels = load_digits()``.

    Attributes:
        pixels: ``(1797, 64)`` float32 in ``[-1, 1]``, one flattened image per row
            (row-major: entry ``8 * r + c`` is row ``r``, column ``c``).
        labels: ``(1797,)`` int32, the digit 0..9 of each row.
    """

    pixels: jax.Array  # shape=(1797, 64), float32
    labels: jax.Array  # shape=(1797,), int32


def _digits_csv_path() -> str | None:
    """Where scikit-learn keeps the digits file (``datasets/data/digits.csv.gz``), if it is there.

    ``find_spec`` locates the installed package without importing it.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(next(iter(spec.submodule_search_locations)), "datasets", "data", "digits.csv.gz")
    return path if os.path.isfile(path) else None


def _from_csv(path: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Ink counts and labels from the CSV file (64 pixel columns, then the label), or None."""
    table = np.loadtxt(path, delimiter=",")
    if table.shape != (_NUM_DIGITS, 65):
        return None
    return table[:, :64], table[:, 64].astype(np.int64)


def _from_sklearn() -> tuple[np.ndarray, np.ndarray]:
    """Ink counts and labels through scikit-learn's own loader (imports most of scikit-learn)."""
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as err:  # pragma: no cover - scikit-learn is a declared dependency
        raise ImportError("diffviz.load_digits needs scikit-learn (pip install scikit-learn)") from err
    bunch = sklearn_load_digits()
    return np.asarray(bunch.data, np.float64), np.asarray(bunch.target, np.int64)


@functools.lru_cache(maxsize=1)
def _raw_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as read-only NumPy arrays: ink counts ``(1797, 64)`` and labels ``(1797,)``.

    The data are one small CSV file inside scikit-learn. Reading it directly takes a tenth of
    a second; ``sklearn.datasets.load_digits`` returns the same arrays but first imports most
    of scikit-learn (seconds). The loader is the fallback if the file ever moves.
    """
    path = _digits_csv_path()
    found = _from_csv(path) if path is not None else None
    counts, labels = found if found is not None else _from_sklearn()
    ok = (
        counts.shape == (_NUM_DIGITS, 64) and labels.shape == (_NUM_DIGITS,)
        and counts.min() >= 0 and counts.max() <= PIXEL_MAX and set(np.unique(labels)) == set(range(10))
    )  # fmt: skip
    if not ok:
        raise RuntimeError(f"scikit-learn's digits changed: shapes {counts.shape}, {labels.shape}")
    counts.flags.writeable = False
    labels.flags.writeable = False
    return counts, labels


def load_digits() -> DigitsData:
    r"""All 1,797 8x8 digits, scaled to model units :math:`x = p/8 - 1 \in [-1, 1]`.

    Deterministic (always the same rows in the same order), so there is no key: split the
    rows into training and held-out sets with a key of your own, e.g.
    ``jax.random.permutation(key, 1797)``.

    Returns:
        A :class:`DigitsData` ``(pixels, labels)``: ``pixels`` float32 ``(1797, 64)`` in
        ``[-1, 1]``, ``labels`` int32 ``(1797,)``. Each label 0..9 occurs 174 to 183 times.
    """
    counts, labels = _raw_digits()
    return DigitsData(digits_from_pixels(counts), jnp.asarray(labels, jnp.int32))


def digits_from_pixels(values) -> jax.Array:
    r"""Ink counts :math:`p \in [0, 16]` to model units :math:`x = p/8 - 1 \in [-1, 1]`.

    Args:
        values: an array of any shape of pixel values between 0 and 16 (integers in the data
            set; any real value in the range is accepted).

    Returns:
        float32 array of the same shape.

    Raises:
        ValueError: if ``values`` is not a finite real array or (when concrete) leaves
            ``[0, 16]``.
    """
    p = v.data_array("values", values)
    if v.is_concrete(p) and p.size:
        arr = np.asarray(p)
        if arr.min() < 0 or arr.max() > PIXEL_MAX:
            raise ValueError(
                f"values must be pixel values in [0, {PIXEL_MAX}]; got the range [{float(arr.min())}, {float(arr.max())}]"
            )
    return p / (PIXEL_MAX / 2) - 1.0


def digits_to_pixels(x, *, clip: bool = False) -> jax.Array:
    r"""Model units back to ink counts, :math:`p = 8\,(x + 1)`: the inverse of :func:`digits_from_pixels`.

    Generated samples can leave :math:`[-1, 1]` a little; the map itself is exact and affine,
    so they map outside :math:`[0, 16]` unless ``clip=True``.

    Args:
        x: an array of any shape in model units.
        clip: clip the result to ``[0, 16]`` (for display as an image).

    Returns:
        float32 array of the same shape (not rounded: round it yourself for integer counts).

    Raises:
        ValueError: if ``x`` is not a finite real array or ``clip`` is not a bool.
    """
    arr = v.data_array("x", x)
    if not isinstance(clip, (bool, np.bool_)):
        raise ValueError(f"clip must be True or False; got {clip!r}")
    p = (arr + 1.0) * (PIXEL_MAX / 2)
    return jnp.clip(p, 0.0, float(PIXEL_MAX)) if clip else p


def nearest_neighbours(x, reference) -> tuple[jax.Array, jax.Array]:
    r"""For each row of ``x``, the closest row of ``reference`` in Euclidean distance.

    .. math::
        j_i = \arg\min_j \lVert x_i - r_j \rVert, \qquad
        d_i = \lVert x_i - r_{j_i} \rVert .

    Use it to ask whether a generative model *copies* its training set: a sample whose
    nearest training image is much closer than held-out images' nearest training images are
    has probably been memorised. (The distance is computed exactly, row against row, in
    blocks; at 8x8 that is cheap.)

    Args:
        x: ``(n, d)`` query points (e.g. samples).
        reference: ``(m, d)`` points to search (e.g. the training images), ``m >= 1``.

    Returns:
        ``(indices, distances)``: int32 ``(n,)`` row numbers into ``reference`` and float32
        ``(n,)`` distances. Ties go to the lowest row number.

    Raises:
        ValueError: if either input is not a finite ``(rows, d)`` array with at least one row,
            or the two have different ``d``.
    """
    x = v.data_array("x", x)
    reference = v.data_array("reference", reference)
    for name, arr in (("x", x), ("reference", reference)):
        if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
            raise ValueError(f"{name} must have shape (rows, d) with rows, d >= 1; got {arr.shape}")
    if reference.shape[1] != x.shape[1]:
        raise ValueError(
            f"reference must have the dimension of x, shape (m, {x.shape[1]}); got shape {reference.shape}"
        )
    return _nearest_kernel(x, reference)


_BLOCK_ROWS = 64  # query rows per block: a block of differences is (64, m, d) floats (29 MB for all digits)


@jax.jit
def _nearest_kernel(x: jax.Array, reference: jax.Array) -> tuple[jax.Array, jax.Array]:
    n, d = x.shape
    num_blocks = -(-n // _BLOCK_ROWS)
    padded = jnp.concatenate([x, jnp.zeros((num_blocks * _BLOCK_ROWS - n, d), x.dtype)])
    blocks = padded.reshape(num_blocks, _BLOCK_ROWS, d)

    def one_block(q):  # q: (B, d)
        # Direct differences, not |q|^2 + |r|^2 - 2 q.r: no cancellation for near-copies.
        sq = jnp.sum((q[:, None, :] - reference[None, :, :]) ** 2, axis=-1)  # (B, m)
        idx = jnp.argmin(sq, axis=1)  # (B,), first minimum on ties
        return idx.astype(jnp.int32), jnp.sqrt(jnp.take_along_axis(sq, idx[:, None], axis=1)[:, 0])

    idx, dist = jax.lax.map(one_block, blocks)  # (num_blocks, B) each
    return idx.reshape(-1)[:n], dist.reshape(-1)[:n].astype(jnp.float32)
