r"""Noise schedules: how much noise each step of the forward process adds.

A schedule is a :class:`Schedule`, a NamedTuple of arrays, so it can be passed into
``jax.jit``, carried through ``lax.scan`` and vmapped like any other pytree.

Indexing convention (used everywhere in diffviz): every array has length ``T + 1`` and is
indexed by the time step ``t`` itself. Index 0 is the clean data: :math:`\beta_0 = 0`,
:math:`\bar\alpha_0 = 1`. Steps ``1..T`` are the noising steps of Ho et al. (2020).
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from diffviz import _validate as v


class Schedule(NamedTuple):
    r"""A variance schedule :math:`\beta_1, \dots, \beta_T` and the quantities derived from it.

    .. math::
        \alpha_t = 1 - \beta_t, \qquad
        \bar\alpha_t = \prod_{s=1}^{t} \alpha_s, \qquad
        \mathrm{SNR}(t) = \frac{\bar\alpha_t}{1 - \bar\alpha_t}.

    Attributes:
        betas: ``(T+1,)`` float32, :math:`\beta_t`; ``betas[0] = 0``.
        alpha_bars: ``(T+1,)`` float32, :math:`\bar\alpha_t`; ``alpha_bars[0] = 1``.
        one_minus_alpha_bars: ``(T+1,)`` float32, :math:`1 - \bar\alpha_t`, computed as
            ``-expm1(sum log(1 - beta))`` in float64 so that it stays accurate when
            :math:`\bar\alpha_t` is close to 1 (a plain ``1 - alpha_bar`` in float32 loses
            about three digits at ``t = 1`` of the linear schedule).

    Build one with :func:`constant_schedule`, :func:`linear_schedule`,
    :func:`cosine_schedule` or :func:`schedule_from_betas`, not by hand.
    """

    betas: jax.Array  # shape=(T+1,), float32
    alpha_bars: jax.Array  # shape=(T+1,), float32
    one_minus_alpha_bars: jax.Array  # shape=(T+1,), float32

    @property
    def T(self) -> int:
        """The number of noising steps (a static Python int, also under ``jit``)."""
        return self.betas.shape[0] - 1

    @property
    def alphas(self) -> jax.Array:
        r""":math:`\alpha_t = 1 - \beta_t`, shape ``(T+1,)``; ``alphas[0] = 1``."""
        return 1.0 - self.betas

    @property
    def snr(self) -> jax.Array:
        r"""Signal-to-noise ratio :math:`\bar\alpha_t / (1 - \bar\alpha_t)`, shape ``(T+1,)``.

        ``snr[0]`` is ``+inf``: clean data has no noise at all.
        """
        return self.alpha_bars / self.one_minus_alpha_bars

    @property
    def log_snr(self) -> jax.Array:
        r""":math:`\log \mathrm{SNR}(t)`, shape ``(T+1,)``; ``log_snr[0]`` is ``+inf``."""
        return jnp.log(self.alpha_bars) - jnp.log(self.one_minus_alpha_bars)


def _concrete_betas(betas) -> np.ndarray:
    """``betas`` as a float64 NumPy vector, refusing tracers (schedules are built outside jit)."""
    if not v.is_concrete(betas):
        raise ValueError(
            "betas must be concrete: build a schedule outside jax.jit and pass it in as an argument"
        )
    arr = np.asarray(v.data_array("betas", betas) if isinstance(betas, jax.Array) else betas)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise ValueError(f"betas must be real numbers; got dtype {arr.dtype}")
    return arr.astype(np.float64)


def schedule_from_betas(betas) -> Schedule:
    r"""A :class:`Schedule` from :math:`\beta_1, \dots, \beta_T`.

    The products are accumulated in float64 and stored as float32. Build schedules outside
    ``jax.jit`` (they are cheap) and pass them in: a schedule is a pytree argument.

    Args:
        betas: ``(T,)`` noise variances, each in the open interval (0, 1). Note that this
            is :math:`\beta_1..\beta_T`, without the :math:`\beta_0 = 0` that the
            returned schedule puts in front.

    Raises:
        ValueError: if ``betas`` is not 1-D and non-empty, holds NaN/inf or an entry outside
            (0, 1), or is a tracer.
    """
    betas = _concrete_betas(betas)
    if betas.ndim != 1 or betas.shape[0] < 1:
        raise ValueError(f"betas must be a non-empty 1-D array (beta_1..beta_T); got shape {betas.shape}")
    if not np.all(np.isfinite(betas)):
        raise ValueError("betas must be finite; got NaN or infinity")
    bad = ~((betas > 0) & (betas < 1))
    if np.any(bad):
        raise ValueError(f"betas must lie in the open interval (0, 1); got {float(betas[np.argmax(bad)])!r}")
    log_alpha_bars = np.concatenate([[0.0], np.cumsum(np.log1p(-betas))])
    f32 = lambda a: jnp.asarray(np.asarray(a, np.float32))  # cast in NumPy: no XLA kernel per T
    return Schedule(
        betas=f32(np.concatenate([[0.0], betas])),
        alpha_bars=f32(np.exp(log_alpha_bars)),
        one_minus_alpha_bars=f32(-np.expm1(log_alpha_bars) + 0.0),  # + 0.0 turns -0.0 into 0.0
    )


def _unit_interval_scalar(name: str, x) -> float:
    """A concrete real scalar in (0, 1) as a Python float."""
    if not v.is_concrete(x):
        raise ValueError(f"{name} must be concrete: build a schedule outside jax.jit")
    if isinstance(x, (bool, np.bool_, str)) or np.ndim(x) != 0:
        raise ValueError(f"{name} must be a number in the open interval (0, 1); got {x!r}")
    try:
        value = float(x)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a number in the open interval (0, 1); got {x!r}") from err
    if not 0 < value < 1:  # also False for NaN
        raise ValueError(f"{name} must lie in the open interval (0, 1); got {value!r}")
    return value


def constant_schedule(beta, T: int) -> Schedule:
    r"""The same :math:`\beta` at every step (the fixed-:math:`\beta` chain of the seed post).

    Then :math:`\bar\alpha_t = (1 - \beta)^t`, so the signal decays geometrically.

    Args:
        beta: the per-step noise variance, a number in (0, 1).
        T: number of steps, an int >= 1.
    """
    T = v.positive_int("T", T)
    return schedule_from_betas(np.full((T,), _unit_interval_scalar("beta", beta)))


def linear_schedule(T: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> Schedule:
    r"""Betas spaced evenly from ``beta_start`` to ``beta_end`` (Ho et al. 2020).

    With the defaults (:math:`10^{-4}` to :math:`0.02` over :math:`T = 1000`),
    :math:`\bar\alpha_T \approx 4.0 \times 10^{-5}`. For a much smaller ``T`` with the same end
    points the total noise is far smaller (:math:`\bar\alpha_{50} \approx 0.60`): the
    data never reaches :math:`\mathcal N(0, I)`; see :func:`diffviz.prior_kl`.
    """
    T = v.positive_int("T", T)
    start = _unit_interval_scalar("beta_start", beta_start)
    end = _unit_interval_scalar("beta_end", beta_end)
    return schedule_from_betas(np.linspace(start, end, T))


def cosine_schedule(T: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> Schedule:
    r"""The cosine schedule of Nichol & Dhariwal (2021).

    .. math::
        \bar\alpha_t = \frac{f(t)}{f(0)}, \qquad
        f(t) = \cos^2\!\Big(\frac{t/T + s}{1 + s}\cdot\frac{\pi}{2}\Big), \qquad
        \beta_t = \min\Big(1 - \frac{\bar\alpha_t}{\bar\alpha_{t-1}},\ \text{max\_beta}\Big).

    The clip matters only near :math:`t = T`, where :math:`f(T) = \cos^2(\pi/2) = 0` would
    make :math:`\beta_T = 1`. The returned :math:`\bar\alpha_t` are recomputed from the
    clipped betas, so they are consistent with the chain that is actually simulated.

    Args:
        T: number of steps, an int >= 1.
        s: the small offset that keeps :math:`\beta_1` from being tiny, a float >= 0.
        max_beta: the clip, in (0, 1).
    """
    T = v.positive_int("T", T)
    if isinstance(s, bool) or not isinstance(s, numbers.Real) or not (math.isfinite(s) and s >= 0):
        raise ValueError(f"s must be a finite number >= 0; got {s!r}")
    max_beta = _unit_interval_scalar("max_beta", max_beta)
    f = np.cos((np.arange(T + 1) / T + s) / (1 + s) * (np.pi / 2)) ** 2
    betas = np.minimum(1.0 - f[1:] / f[:-1], max_beta)
    return schedule_from_betas(betas)
