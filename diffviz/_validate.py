"""Checks at the public boundary: bad input raises a ``ValueError`` naming the parameter.

How this works under ``jax.jit``
--------------------------------
Shapes and dtypes are known while a function is traced, so they are always checked.
*Values* are only known when an argument is concrete (a Python number, a NumPy array or a
JAX array outside ``jit``). Inside a jitted function an argument is a tracer with no value,
so range and finiteness checks are skipped for it; this is the rule for every public
function in diffviz. Validate at the boundary before you jit (the training loop and the
samplers draw their own time steps, which are in range by construction), or call the
function once eagerly while developing. An out-of-range traced index would be clamped by
JAX's gather, never turned into a NaN.
"""

from __future__ import annotations

import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np


def is_concrete(x) -> bool:
    """True when ``x`` has a value now (it is not a tracer inside ``jit``/``vmap``/``grad``)."""
    return not isinstance(x, jax.core.Tracer)


def as_float_array(name: str, x) -> jax.Array:
    """``x`` as a float32 array; complex, boolean and object input is refused."""
    if isinstance(x, (bool, np.bool_)):
        raise ValueError(f"{name} must be a real number or array of real numbers; got a bool")
    try:
        arr = jnp.asarray(x)
    except TypeError as err:
        raise ValueError(f"{name} must be a real number or array of real numbers; got {type(x).__name__}") from err
    if arr.dtype == jnp.bool_ or jnp.issubdtype(arr.dtype, jnp.complexfloating):
        raise ValueError(f"{name} must hold real numbers; got dtype {arr.dtype}")
    return arr.astype(jnp.float32)


def check_finite(name: str, x: jax.Array) -> jax.Array:
    """Raise if a concrete ``x`` holds NaN or infinity; return ``x`` unchanged."""
    # NumPy, not jnp: a concrete array closed over inside jit is still concrete, but jnp ops
    # on it would return tracers there.
    if is_concrete(x) and x.size:
        finite = np.isfinite(np.asarray(x))
        if not finite.all():
            raise ValueError(f"{name} must be finite; it holds {int((~finite).sum())} NaN or infinite value(s)")
    return x


def data_array(name: str, x, *, min_ndim: int = 0) -> jax.Array:
    """A finite float32 array with at least ``min_ndim`` dimensions."""
    arr = check_finite(name, as_float_array(name, x))
    if arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s); got shape {arr.shape}")
    return arr


def check_shape(name: str, x: jax.Array, expected: tuple, what: str) -> None:
    """Raise unless ``x.shape == expected``; ``what`` says in words what the shape means."""
    if tuple(x.shape) != tuple(expected):
        raise ValueError(f"{name} must have shape {tuple(expected)} ({what}); got {tuple(x.shape)}")


def points(name: str, x) -> jax.Array:
    """A finite float32 ``(n, d)`` array with ``n >= 1``, ``d >= 1`` (a set of points, a batch)."""
    x = data_array(name, x)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"{name} must have shape (n, d) with n, d >= 1 (a set of points); got {x.shape}")
    return x


def samples_1d(name: str, x) -> jax.Array:
    """A finite float32 1-D sample: shape ``(n,)``, or ``(n, 1)`` flattened to ``(n,)``; ``n >= 1``."""
    x = data_array(name, x)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1 or x.shape[0] < 1:
        raise ValueError(f"{name} must be a 1-D sample, shape (n,) or (n, 1) with n >= 1; got {x.shape}")
    return x


def callable_arg(name: str, fn, signature: str) -> None:
    """Raise unless ``fn`` is callable; ``signature`` shows how it is called, e.g. ``eps_fn(x_t, t) -> eps_hat``."""
    if not callable(fn):
        raise ValueError(f"{name} must be a callable {signature}; got {type(fn).__name__}")


def prediction(name: str, fn, x: jax.Array, t) -> jax.Array:
    """``fn(x, t)`` as float32, checked (from its shape, so also while tracing) to have the shape of ``x``.

    One of the two checks inside the package's kernels (with :func:`per_sample`; shapes only):
    it costs nothing at run time, and a predictor answering in another shape would otherwise
    be broadcast silently.
    """
    out = jnp.asarray(fn(x, t))
    if out.shape != x.shape:
        raise ValueError(f"{name} must return an array shaped like x_t {x.shape}; got shape {out.shape}")
    return out.astype(jnp.float32)


def check_open_unit_interval(name: str, x: jax.Array) -> None:
    """Raise if a concrete ``x`` has an entry outside the open interval (0, 1)."""
    if is_concrete(x):
        arr = np.ravel(np.asarray(x))
        bad = ~((arr > 0) & (arr < 1))
        if bad.any():
            raise ValueError(f"{name} must lie in the open interval (0, 1); got {float(arr[np.argmax(bad)])!r}")


def check_positive(name: str, x: jax.Array) -> None:
    """Raise if a concrete ``x`` has an entry that is not strictly positive."""
    if is_concrete(x):
        arr = np.asarray(x)
        if arr.size and not (arr > 0).all():
            raise ValueError(f"{name} must be > 0 everywhere; got minimum {float(arr.min())!r}")


def positive_int(name: str, n, *, minimum: int = 1) -> int:
    """A Python ``int`` >= ``minimum`` (a static size such as ``T`` or a sample count)."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {n!r}")
    if n < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {n}")
    return int(n)


def timestep(name: str, t, T: int, *, lo: int = 0) -> jax.Array:
    """A scalar int32 time step, checked to lie in ``lo..T`` when it is concrete.

    Floats are refused even when integral (``3.0``): discrete time is an integer, and a
    float ``t`` usually means a continuous-time value passed by mistake.
    """
    if isinstance(t, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer time step in {lo}..{T}; got a bool")
    if isinstance(t, numbers.Integral):
        if not lo <= int(t) <= T:
            raise ValueError(f"{name} must be an integer time step in {lo}..{T}; got {int(t)}")
        return jnp.asarray(int(t), jnp.int32)
    if isinstance(t, numbers.Real):
        raise ValueError(f"{name} must be an integer time step in {lo}..{T}; got the float {t!r}")
    arr = jnp.asarray(t)
    if not jnp.issubdtype(arr.dtype, jnp.integer) or arr.dtype == jnp.bool_:
        raise ValueError(f"{name} must be an integer time step in {lo}..{T}; got dtype {arr.dtype}")
    if arr.ndim != 0:
        raise ValueError(
            f"{name} must be a scalar time step (use jax.vmap for one t per example); got shape {arr.shape}"
        )
    if is_concrete(arr) and not lo <= int(arr) <= T:
        raise ValueError(f"{name} must be an integer time step in {lo}..{T}; got {int(arr)}")
    return arr.astype(jnp.int32)


def prng_key(name: str, key) -> jax.Array:
    """Check that ``key`` is a JAX PRNG key and return it as a typed key.

    Accepts new-style typed keys (``jax.random.key``) and legacy ``uint32[2]`` keys
    (``jax.random.PRNGKey``), which are wrapped as threefry keys and give the same draws.
    """
    if key is None:
        raise ValueError(f"{name} must be a JAX PRNG key (jax.random.key(seed)); got None")
    try:
        arr = jnp.asarray(key) if not isinstance(key, jax.Array) else key
    except TypeError as err:
        raise ValueError(f"{name} must be a JAX PRNG key (jax.random.key(seed)); got {type(key).__name__}") from err
    if jnp.issubdtype(arr.dtype, jax.dtypes.prng_key):
        if arr.ndim != 0:
            raise ValueError(f"{name} must be a single PRNG key; got an array of keys with shape {arr.shape}")
        return arr
    if arr.dtype == jnp.uint32 and arr.shape == (2,):
        # A legacy jax.random.PRNGKey: wrap it as the threefry key it stands for (same draws),
        # so compiled kernels see one key type.
        return jax.random.wrap_key_data(arr, impl="threefry2x32")
    raise ValueError(
        f"{name} must be a JAX PRNG key (jax.random.key(seed)); got dtype {arr.dtype} and shape {arr.shape}"
    )


def finite_range(name: str, value, *, optional: bool = False) -> tuple[float, float]:
    """A pair ``(low, high)`` of finite real numbers with ``low < high``, as two floats."""
    message = f"{name} must be {'None or ' if optional else ''}a pair (low, high) of finite numbers with low < high"
    try:
        low, high = (float(c) for c in value)
        is_bool = any(isinstance(c, (bool, np.bool_)) for c in value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{message}; got {value!r}") from err
    if is_bool or not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"{message}; got {value!r}")
    return low, high


def guidance_scale(name: str, w, *, per_sample: bool = False):
    """A guidance scale (classifier or classifier-free): a finite number >= 0, as a Python float.

    ``0`` is plain conditional sampling. With ``per_sample``, also a 1-D array of scales (one
    per sample), returned as a float32 array (0-d or 1-D) whose values are checked when
    concrete. One message for both forms: it names the parameter and what is allowed.
    """
    message = f"{name} must be a guidance scale, a finite number >= 0 (0 is plain conditional sampling)"
    if per_sample:
        message += ", or a 1-D array of them (one per sample)"
    if isinstance(w, (bool, np.bool_)):
        raise ValueError(f"{message}; got {w!r}")
    if not per_sample:
        if not isinstance(w, numbers.Real) or not (math.isfinite(w) and w >= 0):
            raise ValueError(f"{message}; got {w!r}")
        return float(w)
    try:
        arr = jnp.asarray(w)
    except TypeError as err:
        raise ValueError(f"{message}; got {type(w).__name__}") from err
    if arr.ndim > 1 or not (jnp.issubdtype(arr.dtype, jnp.floating) or jnp.issubdtype(arr.dtype, jnp.integer)):
        raise ValueError(f"{message}; got dtype {arr.dtype}, shape {arr.shape}")
    arr = arr.astype(jnp.float32)
    if is_concrete(arr) and arr.size:
        values = np.asarray(arr)
        bad = ~(np.isfinite(values) & (values >= 0))
        if bad.any():
            raise ValueError(f"{message}; got {float(values[bad][0])!r}")
    return arr


def per_sample(name: str, x, n: int) -> None:
    """Raise unless ``x`` is one value for all ``n`` samples or one per sample: shape ``()``, ``(1,)`` or ``(n,)``.

    A shape check, so it runs while tracing too (a predictor's labels or scales meeting the
    sampler's batch); it replaces JAX's broadcasting error with one that names the parameter.
    """
    shape = tuple(jnp.shape(x))
    if len(shape) > 1 or (len(shape) == 1 and shape[0] not in (1, n)):
        raise ValueError(f"{name} must be one value for all samples or one per sample, shape () or ({n},) for {n} samples; got shape {shape}")
