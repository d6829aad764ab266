r"""The denoiser network: a small MLP that predicts the noise :math:`\varepsilon` in :math:`x_t`.

Architecture (all sizes configurable with :class:`DenoiserConfig`)::

    x_t (..., d) --sinusoidal per coordinate (optional)--> (..., d * input_dim)  --\
    t   (...)    --sinusoidal embedding----------------->  (..., time_dim)      ---concat--> Linear -> act
        -> depth x [h + act(Linear(h))]  (residual blocks of width `width`; act: exact GELU by default)
        -> Linear -> eps_hat (..., d)

    with ``num_classes > 0`` (a class-conditional denoiser, chapter 13): a learned vector per
    label, ``embed[c]`` of size ``width``, is added to the first layer's output before its
    activation. Row ``num_classes`` of the table is the *null label* ("no class"): the
    network asked for it is the unconditional model (classifier-free guidance, Ho and
    Salimans 2022). Adding ``embed[c]`` is the same as feeding a one-hot label into the first
    Linear. With ``num_classes = 0`` (the default) there is no table and the network is the
    unconditional one, parameter for parameter.

A sinusoidal embedding of a scalar :math:`u` is :math:`(\sin(\omega_i u), \cos(\omega_i u))_i`
with frequencies :math:`\omega_i` spaced geometrically from 1 to :math:`10^{-4}` (times a
``scale``). For the time step it tells the network "which noise level" in a form an MLP can
use; for the input coordinates (``input_dim > 0``) it lets a small MLP draw sharp features,
which helps on the 2-D toys.

The network is a ``flax.nnx`` module, but training and sampling use it as a *pure function*
of its parameters: :func:`init_denoiser` returns ``(graphdef, params)`` once, and
:func:`apply_denoiser` merges them inside ``jit``. (Measured here: graph-mode ``nnx.jit``
ran at about a third of the speed of this split/merge bridge in a plain ``jax.jit``.)
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from diffviz import _fast_ops
from diffviz import _validate as v


class DenoiserConfig(NamedTuple):
    """Sizes of the denoiser MLP.

    Attributes:
        dim: data dimension ``d`` (1 for 1-D data, 2 for the 2-D toys, 64 for 8x8 digits).
        width: hidden width of every layer.
        depth: number of residual blocks.
        time_dim: size of the sinusoidal time embedding (even).
        input_dim: size of the sinusoidal embedding of *each* input coordinate (even), or 0
            to feed the coordinates in directly.
        input_scale: frequency scale of the input embedding (coordinates are about unit size).
        activation: ``"gelu"`` (exact, with erf; the default), ``"gelu_tanh"`` (its tanh
            approximation) or ``"relu"``. On a CPU the activation is the dearest part of a
            small network after the matmuls: in ``benchmarks/sampling_breakdown.py`` a
            sampling step of the default-sized network took 3.7-4.6 ms with the exact GELU
            and 3.2-3.4 ms with no activation at all (jax.nn.gelu's erfc form: 6.7-7.8 ms).
        num_classes: 0 (the default: an unconditional denoiser) or the number of classes
            ``K`` of a class-conditional one, which then takes a label ``c`` in ``0..K``
            (``K`` is the null label, "no class").
    """

    dim: int
    width: int = 64
    depth: int = 3
    time_dim: int = 32
    input_dim: int = 0
    input_scale: float = 25.0
    activation: str = "gelu"
    num_classes: int = 0


_ACTIVATIONS = {
    "gelu": _fast_ops.gelu_exact,
    "gelu_tanh": lambda h: jax.nn.gelu(h, approximate=True),
    "relu": jax.nn.relu,
}


def sinusoidal_embedding(u: jax.Array, size: int, scale: float = 1.0) -> jax.Array:
    r"""Sin/cos features of ``u``: shape ``(...,)`` -> ``(..., size)``; ``size`` even, >= 4.

    Frequencies :math:`\omega_i = \text{scale}\cdot 10^{-4 i/(h-1)}`, :math:`i = 0..h-1`,
    :math:`h = \text{size}/2`; output :math:`[\sin(\omega u), \cos(\omega u)]`.
    """
    freqs = _frequencies(size, scale)
    angles = u[..., None].astype(jnp.float32) * freqs.reshape((1,) * u.ndim + freqs.shape)  # (..., h)
    return jnp.concatenate(_fast_ops.sincos(angles), axis=-1)


def _frequencies(size: int, scale: float) -> jax.Array:
    if isinstance(size, bool) or not isinstance(size, int) or size < 4 or size % 2:
        raise ValueError(f"size must be an even integer >= 4; got {size!r}")
    half = size // 2
    return scale * jnp.exp(-jnp.log(1e4) * jnp.arange(half, dtype=jnp.float32) / (half - 1))  # (h,)


def coordinate_embedding(x: jax.Array, size: int, scale: float = 1.0) -> jax.Array:
    r"""Sin/cos features of every coordinate of ``x``: shape ``(..., d)`` -> ``(..., d * size)``.

    The same features as :func:`sinusoidal_embedding` of each coordinate, grouped as
    :math:`[\sin(\omega_i x_j)]_{j, i}` then :math:`[\cos(\omega_i x_j)]_{j, i}` (``j`` the
    coordinate, ``i`` the frequency, ``i`` varying fastest). The order only matters for
    reading the first layer's weights; the network sees the same numbers.

    The angles are laid out by :func:`diffviz._fast_ops.coordinate_angles` (a layout XLA
    runs faster on CPU).
    """
    x = jnp.asarray(x, jnp.float32)
    if x.ndim < 1:
        raise ValueError("x must have shape (..., d) with the coordinates last; got a scalar")
    freqs = _frequencies(size, scale).reshape((1,) * (x.ndim - 1) + (size // 2,))
    angles = _fast_ops.coordinate_angles(x, freqs)  # (..., d h)
    return jnp.concatenate(_fast_ops.sincos(angles), axis=-1)


class _ResidualBlock(nnx.Module):
    def __init__(self, width: int, activation: str, *, rngs: nnx.Rngs):
        self.linear = nnx.Linear(width, width, rngs=rngs)
        self.activation = activation

    def __call__(self, h: jax.Array) -> jax.Array:
        return h + _ACTIVATIONS[self.activation](self.linear(h))


class Denoiser(nnx.Module):
    """The epsilon-predicting MLP; see the module docstring for the architecture."""

    def __init__(self, config: DenoiserConfig, *, rngs: nnx.Rngs):
        self.config = config
        c = config
        in_features = (c.dim * c.input_dim if c.input_dim else c.dim) + c.time_dim
        self.inp = nnx.Linear(in_features, c.width, rngs=rngs)
        self.blocks = nnx.List([_ResidualBlock(c.width, c.activation, rngs=rngs) for _ in range(c.depth)])
        self.out = nnx.Linear(c.width, c.dim, rngs=rngs)
        if c.num_classes:  # made last, so the other layers draw the same initial weights as without it
            self.label_embed = nnx.Embed(c.num_classes + 1, c.width, rngs=rngs)

    def __call__(self, x_t: jax.Array, t: jax.Array, label: jax.Array | None = None) -> jax.Array:
        """``x_t: (..., d)`` float, ``t: (...)`` or scalar integer steps -> predicted noise ``(..., d)``.

        ``label``: ``None`` or int labels, a scalar or shape ``(...)``, of a conditional network
        (``None`` is the null label); ignored by an unconditional one (``apply_denoiser`` refuses it).
        """
        c = self.config
        if c.input_dim:
            feats = coordinate_embedding(x_t, c.input_dim, c.input_scale)  # (..., d * input_dim)
        else:
            feats = x_t
        if t.ndim == 0:
            # One t for the whole batch (a sampler): its embedding and its share of the first
            # matmul are computed once instead of once per row (the same numbers).
            h = _fast_ops.linear_with_shared_tail(
                feats, sinusoidal_embedding(t, c.time_dim), self.inp.kernel[...], self.inp.bias[...]
            )
        else:  # one t per example (training): a single matmul over the concatenation
            h = self.inp(jnp.concatenate([feats, sinusoidal_embedding(t, c.time_dim)], axis=-1))
        if c.num_classes:
            label = jnp.full((), c.num_classes, jnp.int32) if label is None else jnp.asarray(label, jnp.int32)
            h = h + jnp.broadcast_to(self.label_embed(label), h.shape)  # a per-label shift of the first layer
        h = _ACTIVATIONS[c.activation](h)  # (..., width)
        for block in self.blocks:
            h = block(h)
        return self.out(h)


def _check_config(config: DenoiserConfig) -> DenoiserConfig:
    if not isinstance(config, DenoiserConfig):
        raise ValueError(f"config must be a DenoiserConfig; got {type(config).__name__}")
    v.positive_int("config.dim", config.dim)
    v.positive_int("config.width", config.width)
    v.positive_int("config.depth", config.depth, minimum=0)
    for name in ("time_dim", "input_dim"):
        size = getattr(config, name)
        v.positive_int(f"config.{name}", size, minimum=0)
        if size % 2 or (size and size < 4) or (name == "time_dim" and size == 0):
            raise ValueError(f"config.{name} must be an even integer >= 4{' or 0' if name == 'input_dim' else ''}; got {size}")
    v.positive_int("config.num_classes", config.num_classes, minimum=0)
    if not isinstance(config.activation, str) or config.activation not in _ACTIVATIONS:
        raise ValueError(f"config.activation must be one of {', '.join(map(repr, _ACTIVATIONS))}; got {config.activation!r}")
    return config


def init_denoiser(key, config: DenoiserConfig) -> tuple[nnx.GraphDef, nnx.State]:
    """Initialise a :class:`Denoiser` and split it into ``(graphdef, params)``.

    ``graphdef`` is static (hashable: the architecture); ``params`` is a pytree of float32
    arrays (what training updates). Pass both to :func:`apply_denoiser`.
    """
    key = v.prng_key("key", key)
    _check_config(config)
    return nnx.split(Denoiser(config, rngs=nnx.Rngs(params=key)))


def apply_denoiser(graphdef: nnx.GraphDef, params: nnx.State, x_t, t, c=None) -> jax.Array:
    """Predicted noise for ``x_t: (n, d)`` at integer step(s) ``t`` (a scalar, or ``(n,)``).

    ``c``: the class label(s) of a class-conditional network (``DenoiserConfig.num_classes
    = K > 0``): an int scalar (every row the same class) or ``(n,)``, each in ``0..K`` where
    ``K`` is the null label; ``None`` (the default) is the null label, the unconditional
    prediction. An unconditional network takes no ``c``. Labels are checked when concrete.

    A pure function of ``params``: safe inside ``jit``, ``grad``, ``vmap`` and ``lax.scan``.
    """
    t = jnp.asarray(t)
    if t.ndim:  # a scalar t stays a scalar: the network embeds it once for the whole batch
        t = jnp.broadcast_to(t, x_t.shape[:-1])
    if c is None:
        return nnx.merge(graphdef, params)(x_t, t)
    num_classes = num_classes_of(params)
    if not num_classes:
        raise ValueError("c must be None for an unconditional denoiser (DenoiserConfig.num_classes = 0)")
    c = class_labels("c", c, num_classes, allow_null=True)
    if c.ndim:
        c = jnp.broadcast_to(c, x_t.shape[:-1])
    return nnx.merge(graphdef, params)(x_t, t, c)


def num_classes_of(params) -> int:
    """The number of classes ``K`` of a conditional denoiser's ``params`` (0: unconditional)."""
    table = params.get("label_embed") if hasattr(params, "get") else None
    return 0 if table is None else int(table["embedding"].shape[0]) - 1


def class_labels(name: str, c, num_classes: int, *, allow_null: bool) -> jax.Array:
    """``c`` as int32 labels (any shape), checked when concrete to lie in ``0..K-1`` (``0..K``
    with ``allow_null``: ``K`` = ``num_classes`` is the null label)."""
    top = num_classes if allow_null else num_classes - 1
    allowed = f"integers in 0..{top}" + (f" ({num_classes} = the null label, no class)" if allow_null else "")
    if isinstance(c, (bool, np.bool_)):
        raise ValueError(f"{name} must be class labels, {allowed}; got {c!r}")
    try:
        arr = jnp.asarray(c)
    except TypeError as err:
        raise ValueError(f"{name} must be class labels, {allowed}; got {type(c).__name__}") from err
    if not jnp.issubdtype(arr.dtype, jnp.integer):
        raise ValueError(f"{name} must be class labels, {allowed}; got dtype {arr.dtype}")
    if v.is_concrete(arr) and arr.size:
        lo, hi = int(jnp.min(arr)), int(jnp.max(arr))
        if lo < 0 or hi > top:
            raise ValueError(f"{name} must be class labels, {allowed}; got values from {lo} to {hi}")
    return arr.astype(jnp.int32)


def count_params(params: nnx.State) -> int:
    """Total number of scalar parameters."""
    return int(sum(leaf.size for leaf in jax.tree.leaves(params)))
