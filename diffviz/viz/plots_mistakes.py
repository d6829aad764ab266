r"""Chapter 10's figures: the picture of a goodness-of-fit check, and the pictures of two mistakes.

* :func:`plot_ks_picture`: the Kolmogorov-Smirnov check of :func:`~diffviz.marginal_ks_test`
  drawn: the empirical CDF of standardised samples against :math:`\Phi`, the largest gap
  :math:`D` marked;
* :func:`plot_noise_variance`: measured against predicted variances, step by step (one noise
  key reused: the standard deviations add);
* :func:`plot_reverse_step_check`: a true reverse step :math:`q(x_{t-1} \mid x_t)` against the
  Gaussian step a sampler takes (steps too big: the truth has two peaks).

As everywhere in :mod:`diffviz.viz`, the notebook computes the numbers and the figure draws
them; the wrong version is red and the fix blue (``style.WRONG_VERSION``, ``style.FIXED_VERSION``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from diffviz._checks import marginal_ks_test
from diffviz._schedules import Schedule
from diffviz.viz.style import (
    FIXED_VERSION,
    GAUSSIAN_STEP,
    TRUTH,
    WRONG_VERSION,
    _figure,
    _finite,
    _normal_pdf,
    _positive,
    _samples_1d,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_RUN_COLOURS = (WRONG_VERSION, FIXED_VERSION, "tab:green", "tab:purple")  # one per set of samples, in order


def _standard_normal_cdf(z: np.ndarray) -> np.ndarray:
    r""":math:`\Phi(z)` in float64."""
    return np.array([0.5 * math.erfc(-float(v) / math.sqrt(2.0)) for v in z])


def _largest_gap(z: np.ndarray, cdf: np.ndarray) -> int:
    """Where the empirical CDF of sorted ``z`` is farthest from ``cdf`` (just before or at each jump)."""
    n = z.shape[0]
    ecdf = np.arange(1, n + 1) / n
    return int(np.argmax(np.maximum(np.abs(ecdf - cdf), np.abs(ecdf - 1 / n - cdf))))


def plot_ks_picture(
    x0,
    samples: Mapping[str, object],
    schedule: Schedule,
    t: int,
    *,
    figsize: tuple[float, float] = (7.0, 3.8),
) -> Figure:
    r"""The picture of :func:`~diffviz.marginal_ks_test`: empirical CDFs of standardised samples against :math:`\Phi`.

    Each set of samples :math:`x_t` is standardised with the exact moments of
    :math:`q(x_t \mid x_0)`, :math:`z = (x_t - \sqrt{\bar\alpha_t}\,x_0)/\sqrt{1-\bar\alpha_t}`,
    and its empirical CDF is drawn as a staircase over the exact :math:`\Phi(z)`. The largest
    vertical gap, the KS statistic :math:`D`, is marked by a thick bar and a ring (so that a
    tiny gap still shows); the legend gives :math:`D` as the test computes it.

    Args:
        x0: the clean data ``(n, d)`` the samples were made from.
        samples: ``{label: x_t}``, each shaped like ``x0`` (at most 4; the first red, the second blue).
        schedule: the noise schedule.
        t: the step, an integer in ``1..T``.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes. Gids: ``"exact-cdf"``; per label ``"ecdf:{label}"`` (x: the
        sorted ``z``, y: the empirical CDF), ``"gap:{label}"`` (the bar) and ``"gap-ring:{label}"``.
    """
    if not isinstance(samples, Mapping) or not 1 <= len(samples) <= len(_RUN_COLOURS):
        raise ValueError(f"samples must be a mapping {{label: x_t}} with 1 to {len(_RUN_COLOURS)} entries; got {samples!r:.80}")
    results = {label: marginal_ks_test(schedule, x0, x, t) for label, x in samples.items()}  # checks shapes and t
    abar = float(np.asarray(schedule.alpha_bars, np.float64)[int(t)])
    x0 = np.asarray(x0, np.float64)
    grid = np.linspace(-5, 5, 2001)
    phi = _standard_normal_cdf(grid)
    fig = _figure(figsize)
    ax = fig.add_subplot()
    ax.plot(grid, phi, color=TRUTH, lw=2.5, label=r"exact: $\Phi(z)$", gid="exact-cdf")
    for (label, x), colour in zip(samples.items(), _RUN_COLOURS):
        z = np.sort(((np.asarray(x, np.float64) - math.sqrt(abar) * x0) / math.sqrt(1 - abar)).ravel())
        ecdf = np.arange(1, z.size + 1) / z.size
        phi_z = _standard_normal_cdf(z)
        i = _largest_gap(z, phi_z)
        ax.step(z, ecdf, where="post", color=colour, lw=1.2, gid=f"ecdf:{label}",
                label=f"{label}: D = {float(results[label].statistic):.3f}")  # fmt: skip
        ax.vlines(z[i], min(ecdf[i] - 1 / z.size, phi_z[i]), max(ecdf[i], phi_z[i]), color=colour, lw=3, gid=f"gap:{label}")
        ax.plot(z[i], phi_z[i], "o", ms=7, mfc="none", mec=colour, mew=1.5, gid=f"gap-ring:{label}")
    ax.set(xlim=(-4, 4), ylim=(0, 1),
           xlabel=r"standardised sample $z = (x_t - \sqrt{\bar\alpha_t}\,x_0)\,/\sqrt{1-\bar\alpha_t}$",
           ylabel=r"fraction of samples $\leq z$")  # fmt: skip
    ax.set_title(f"KS picture at t = {int(t)}: rings and thick bars mark the largest gap D")
    ax.legend(loc="upper left")
    return fig


def plot_noise_variance(
    steps,
    measured: Mapping[str, object],
    predicted: Mapping[str, object],
    *,
    title: str = "",
    figsize: tuple[float, float] = (9.0, 3.6),
) -> Figure:
    r"""Measured variances (dots) on the curves a formula predicts for them, step by step, on a log scale.

    Entry ``k`` of ``measured`` and entry ``k`` of ``predicted`` are one pair, drawn in one
    colour (the first red: the wrong version; the second blue: the fix). Chapter 10 uses it for
    a chain that reuses one noise key: its noise variance grows as :math:`(\sum_s c_s)^2`
    instead of :math:`\sum_s c_s^2`.

    Args:
        steps: the steps ``(S,)`` (the x axis).
        measured: ``{legend label: (S,) variances}``, at most 4, each ``> 0`` (a log axis).
        predicted: ``{legend label: (S,) variances}``, one per entry of ``measured``, in the same order.
        title: the axes title.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes. Gids: ``"measured:{k}"`` and ``"predicted:{k}"`` for pair ``k``.
    """
    x = _samples_1d("steps", steps)
    if not isinstance(measured, Mapping) or not isinstance(predicted, Mapping):
        raise ValueError("measured and predicted must be mappings {legend label: variances}")
    if not 1 <= len(measured) <= len(_RUN_COLOURS) or len(predicted) != len(measured):
        raise ValueError(f"measured and predicted must hold the same number of curves, 1 to {len(_RUN_COLOURS)}; "
                         f"got {len(measured)} and {len(predicted)}")  # fmt: skip
    fig = _figure(figsize)
    ax = fig.add_subplot()
    pairs = zip(measured.items(), predicted.items(), _RUN_COLOURS)
    for k, ((m_label, m_values), (p_label, p_values), colour) in enumerate(pairs):
        for name, values in (("measured", m_values), ("predicted", p_values)):
            arr = _samples_1d(name, values)
            if arr.shape != x.shape or np.any(arr <= 0):
                raise ValueError(f"{name} variances must be {x.shape[0]} numbers > 0, one per step (a log axis); "
                                 f"got shape {arr.shape}")  # fmt: skip
        ax.plot(x, _samples_1d("measured", m_values), "o", ms=3, color=colour, label=m_label, gid=f"measured:{k}")
        ax.plot(x, _samples_1d("predicted", p_values), color=colour, lw=1, label=p_label, gid=f"predicted:{k}")
    ax.set(yscale="log", xlabel="step t", ylabel="variance of the noise in $x_t$", title=title)
    fig.legend(loc="outside right upper", fontsize=9)  # outside: the curves fill the axes
    return fig


def plot_reverse_step_check(
    grids: Sequence[object],
    true_densities: Sequence[object],
    means: Sequence[float],
    variances: Sequence[float],
    ts: Sequence[int],
    *,
    titles: Sequence[str] | None = None,
    figsize: tuple[float, float] = (10.0, 3.4),
) -> Figure:
    r"""True reverse steps :math:`q(x_{t-1} \mid x_t)` against the Gaussian steps a sampler takes, one panel each.

    Panel ``k`` draws ``true_densities[k]`` on ``grids[k]`` (black), the Gaussian
    :math:`\mathcal N(\text{means}[k], \text{variances}[k])` (orange, dashed) and its mean (a red
    line). With small steps the two curves coincide; with big ones the truth can have two
    peaks and the Gaussian's mean lies in the valley between them. At ``t = 1``, the last
    step, the sampler adds no noise and returns the mean itself: the legend says so.

    Args:
        grids: one ``(G,)`` grid per panel.
        true_densities: the true density on each grid, ``(G,)`` each.
        means, variances: the Gaussian step of each panel (a *variance*, e.g. :math:`\beta_t`).
        ts: the step ``t`` of each panel.
        titles: one title per panel.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes per panel. Gids: ``"true:{k}"``, ``"gaussian:{k}"`` and ``"mean:{k}"``.
    """
    n = len(grids)
    if n < 1 or not len(true_densities) == len(means) == len(variances) == len(ts) == n:
        raise ValueError("grids, true_densities, means, variances and ts must hold one entry per panel, at least one")
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles must hold one title per panel ({n}); got {len(titles)}")
    fig = _figure(figsize)
    axes = fig.subplots(1, n, squeeze=False)[0]
    for k, ax in enumerate(axes):
        grid = _samples_1d(f"grids[{k}]", grids[k], min_n=2)
        true = _finite(f"true_densities[{k}]", np.asarray(true_densities[k], np.float64))
        if true.shape != grid.shape:
            raise ValueError(f"true_densities[{k}] must have the shape of grids[{k}], {grid.shape}; got {true.shape}")
        mean, var = float(means[k]), _positive(f"variances[{k}]", variances[k])
        gauss = _normal_pdf(grid, mean, var)
        ax.plot(grid, true, color=TRUTH, lw=2, label=r"true $q(x_{t-1} \mid x_t)$", gid=f"true:{k}")
        ax.plot(grid, gauss, "--", color=GAUSSIAN_STEP, label=r"Gaussian step, $\sigma_t^2 = \beta_t$", gid=f"gaussian:{k}")
        ax.axvline(mean, color=WRONG_VERSION, lw=1, label="its mean (the last step returns it)" if int(ts[k]) == 1 else "its mean",
                   gid=f"mean:{k}")  # fmt: skip
        ax.set(xlabel=r"$x_{t-1}$", ylabel="density", yticks=[], ylim=(0, 1.45 * max(true.max(), gauss.max())))
        if titles is not None:
            ax.set_title(titles[k])
        ax.legend(fontsize=8, loc="upper right", framealpha=1.0)
    return fig
