r"""Chapter 1's figures (and chapter 4's posterior): 1-D Gaussian facts, mixtures, posteriors.

Histograms of samples against the Gaussian a formula predicts (:func:`plot_gaussian_fact`),
conditioning a 2-D Gaussian (:func:`plot_gaussian_conditioning`, and its kernel-free player;
both draw through :class:`_ConditioningPanel`, as does the live explorer in
:mod:`diffviz.viz.widgets_2d`), a 1-D mixture with its components, a grid posterior against
its closed form, and a conditional mean estimated by binning.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from diffviz import _validate as v
from diffviz._mixture import GaussianMixture
from diffviz.viz import player
from diffviz.viz.style import (
    EXACT,
    PARTICLES,
    PARTICLES_DARK,
    REFERENCE,
    WRONG,
    _check_mixture_1d,
    _figure,
    _hist_density,
    _mixture_density_np,
    _mixture_moments,
    _normal_pdf,
    _points_2d,
    _positive,
    _samples_1d,
    _square,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# --------------------------------------------------------------------------------------------
# 1-D pictures: Gaussian facts, the bimodal mixture, the posterior, conditional means
# --------------------------------------------------------------------------------------------


def plot_gaussian_fact(
    samples,
    mean: float,
    variance: float,
    *,
    title: str = "",
    xlabel: str = "$x$",
    compare: tuple[str, float, float] | None = None,
    bins: int = 60,
    figsize: tuple[float, float] = (5.6, 3.3),
) -> Figure:
    r"""A histogram of samples against the Gaussian a formula predicts for them.

    Used for the Gaussian facts of chapter 1: draw samples the long way (add, scale,
    marginalise, ...) and compare with :math:`\mathcal N(\text{mean}, \text{variance})` from
    the formula. A box compares the sample mean and variance with the formula's.

    Args:
        samples: ``(n,)`` or ``(n, 1)``.
        mean, variance: the formula's prediction (a *variance*, not a standard deviation).
        title: the panel title.
        xlabel: the x-axis label.
        compare: optional ``(label, mean, variance)`` of a second, dashed curve (e.g. a wrong
            formula).
        bins: histogram bins.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes; the histogram has ``gid == "samples"``, the formula curve
        ``"formula"``, the optional second curve ``"compare"``.
    """
    x = _samples_1d("samples", samples, min_n=2)
    mean, variance = float(mean), _positive("variance", variance)
    sd = math.sqrt(variance)
    lo, hi = min(mean - 4.5 * sd, np.percentile(x, 0.2)), max(mean + 4.5 * sd, np.percentile(x, 99.8))
    if compare is not None:
        c_sd = math.sqrt(_positive("compare variance", compare[2]))
        lo, hi = min(lo, compare[1] - 4 * c_sd), max(hi, compare[1] + 4 * c_sd)
    edges = np.linspace(lo, hi, v.positive_int("bins", bins) + 1)
    heights = _hist_density(x, edges)
    grid = np.linspace(lo, hi, 400)
    fig = _figure(figsize)
    ax = fig.add_subplot()
    ax.stairs(heights, edges, fill=True, color=PARTICLES, label=f"{x.shape[0]:,} samples", gid="samples")
    ax.plot(grid, _normal_pdf(grid, mean, variance), color=EXACT, lw=2, gid="formula",
            label=rf"formula: $\mathcal{{N}}({mean:.3g},\ {variance:.3g})$")  # fmt: skip
    if compare is not None:
        label, c_mean, c_var = compare
        ax.plot(grid, _normal_pdf(grid, float(c_mean), float(c_var)), color=WRONG, lw=1.6, ls="--",
                gid="compare", label=label)  # fmt: skip
    stats = (f"           mean   variance\n"
             f"samples {np.mean(x):7.3f} {np.var(x):#9.4g}\n"
             f"formula {mean:7.3f} {variance:#9.4g}")  # fmt: skip
    ax.text(0.015, 0.975, stats, transform=ax.transAxes, ha="left", va="top", fontsize=7.5, family="monospace",
            gid="stats")  # fmt: skip
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, 1.3 * max(heights.max(), _normal_pdf(np.array(mean), mean, variance)))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    return fig


def _conditional_gaussian(mean, cov, x1: float) -> tuple[float, float]:
    r"""Mean and variance of :math:`x_2 \mid x_1` for :math:`(x_1, x_2) \sim \mathcal N(\mu, \Sigma)`.

    .. math::
        \mu_{2\mid 1} = \mu_2 + \frac{\Sigma_{21}}{\Sigma_{11}}(x_1 - \mu_1), \qquad
        \sigma^2_{2\mid 1} = \Sigma_{22} - \frac{\Sigma_{21}^2}{\Sigma_{11}}.
    """
    mu = np.asarray(mean, np.float64).reshape(2)
    sigma = np.asarray(cov, np.float64).reshape(2, 2)
    gain = sigma[1, 0] / sigma[0, 0]
    return float(mu[1] + gain * (float(x1) - mu[0])), float(sigma[1, 1] - gain * sigma[1, 0])


def plot_gaussian_conditioning(
    samples,
    mean,
    cov,
    x1: float,
    *,
    width: float = 0.1,
    lim: float = 3.5,
    bins: int = 30,
    figsize: tuple[float, float] = (8.4, 3.7),
) -> Figure:
    r"""Conditioning a 2-D Gaussian, by slicing samples and by formula.

    Left: samples of :math:`(x_1, x_2)`, the thin vertical slice :math:`|x_1 - a| <
    \text{width}/2` highlighted, and the line of conditional means
    :math:`\mu_{2\mid 1}(x_1)` (:func:`_conditional_gaussian`). Right: a histogram of
    :math:`x_2` for the samples in the slice against the formula
    :math:`\mathcal N(\mu_{2\mid 1}(a), \sigma^2_{2\mid 1})`, and the marginal of :math:`x_2`
    for comparison: conditioning shifts the centre and narrows the spread.

    Args:
        samples: ``(n, 2)`` draws from :math:`\mathcal N(\text{mean}, \text{cov})`.
        mean: ``(2,)``; cov: ``(2, 2)`` covariance.
        x1: the conditioning value :math:`a`.
        width: slice width.
        lim: half-width of the scatter panel.
        bins: histogram bins.
        figsize: figure size in inches.

    Returns:
        A new Figure with two Axes. Gids: ``"samples"``, ``"slice"`` (the points in the
        slice), ``"slice-histogram"``, ``"conditional"`` (the formula), ``"marginal"``.
    """
    x, mu, sigma, width = _conditioning_inputs(samples, mean, cov, width)
    fig = _figure(figsize)
    ax_scatter, ax_hist = fig.subplots(1, 2, width_ratios=[1, 1.25])
    panel = _ConditioningPanel(ax_scatter, ax_hist, x, mu, sigma, [float(x1)], width=width, lim=lim, bins=bins)
    panel.show(float(x1))
    return fig


def _conditioning_inputs(samples, mean, cov, width) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    x = _points_2d("samples", samples)
    mu = np.asarray(mean, np.float64)
    sigma = np.asarray(cov, np.float64)
    if mu.size != 2 or sigma.size != 4:
        raise ValueError(f"mean must have shape (2,) and cov shape (2, 2); got {np.shape(mean)} and {np.shape(cov)}")
    return x, mu.reshape(2), sigma.reshape(2, 2), _positive("width", width)


class _ConditioningPanel:
    """The artists of :func:`plot_gaussian_conditioning`; :meth:`show` moves them to a new value :math:`a`.

    Built for a list of conditioning values, so that the histogram panel's range and height
    fit every one of them: the static figure (one value) and the scrubbable player (many)
    both draw through this class. Only the slice, the histogram, the formula curve and their
    labels change with :math:`a`; the samples, the line of conditional means and the marginal
    are drawn once.
    """

    def __init__(self, ax_scatter: Axes, ax_hist: Axes, x: np.ndarray, mu: np.ndarray, sigma: np.ndarray,
                 x1_values: Sequence[float], *, width: float, lim: float, bins: int):  # fmt: skip
        from matplotlib import patheffects

        self.x, self.mu, self.sigma, self.width = x, mu, sigma, width
        _, c_var = _conditional_gaussian(mu, sigma, 0.0)  # the conditional variance does not depend on a
        self.c_var = max(c_var, 1e-12)
        m_sd, c_sd = math.sqrt(sigma[1, 1]), math.sqrt(self.c_var)
        lo, hi = mu[1] - 3.5 * m_sd, mu[1] + 3.5 * m_sd
        for a in x1_values:  # the conditional's +-4.5 std and the marginal's +-3.5 std, for every a
            c_mean, _ = _conditional_gaussian(mu, sigma, a)
            lo, hi = min(lo, c_mean - 4.5 * c_sd), max(hi, c_mean + 4.5 * c_sd)
        # about `bins` bins across the conditional's +-4.5 std, so a narrow conditional still gets many
        bin_width = 9.0 * c_sd / v.positive_int("bins", bins)
        self.edges = np.arange(lo, hi + bin_width, bin_width)
        self.grid = np.linspace(lo, hi, 400)
        tallest = _normal_pdf(np.array(0.0), 0.0, self.c_var)
        for a in x1_values:
            tallest = max(tallest, float(np.max(self._heights(a), initial=0.0)))

        ax_scatter.scatter(x[:, 0], x[:, 1], s=1.5, color=PARTICLES, lw=0, alpha=0.6, rasterized=True, gid="samples")
        self.slice = ax_scatter.scatter(x[:0, 0], x[:0, 1], s=3, color=PARTICLES_DARK, lw=0, gid="slice", label=" ")
        centre = (round(float(mu[0])), round(float(mu[1])))  # whole units, so the ticks stay at even numbers
        line_x = np.array([centre[0] - lim, centre[0] + lim])
        gain = sigma[1, 0] / sigma[0, 0]
        ax_scatter.plot(line_x, mu[1] + gain * (line_x - mu[0]), color=EXACT, lw=1.5,
                        label=r"conditional mean $\mu_{2|1}(x_1)$")  # fmt: skip
        self.cut = ax_scatter.axvline(0.0, color="0.2", lw=0.7, ls=":")
        _square(ax_scatter, lim, centre=centre)
        self.scatter_legend = ax_scatter.legend(fontsize=7, loc="upper left", frameon=True, framealpha=0.85)
        rho = sigma[1, 0] / math.sqrt(sigma[0, 0] * sigma[1, 1])
        ax_scatter.set_title(f"samples of (x₁, x₂), correlation ρ = {rho:.2f}", fontsize=9)

        self.hist = ax_hist.stairs(np.zeros(self.edges.shape[0] - 1), self.edges, fill=True, color=PARTICLES,
                                   label=" ", gid="slice-histogram")  # fmt: skip
        (self.conditional,) = ax_hist.plot(self.grid, np.zeros_like(self.grid), color=EXACT, lw=2,
                                           gid="conditional", label=" ")  # fmt: skip
        # Drawn above the formula curve (zorder 3), each dash edged in white: with no
        # correlation the two curves coincide, and the dashes then still show on the red
        # curve instead of vanishing under it (grey on dark red alone is hard to see).
        ax_hist.plot(self.grid, _normal_pdf(self.grid, mu[1], sigma[1, 1]), color=REFERENCE, lw=1.2, ls="--",
                     gid="marginal", zorder=3, path_effects=[patheffects.withStroke(linewidth=2.6, foreground="white")],
                     label=rf"marginal of $x_2$: $\mathcal{{N}}({mu[1]:.2f},\ {sigma[1, 1]:.3f})$")  # fmt: skip
        ax_hist.set_xlim(lo, hi)
        ax_hist.set_ylim(0.0, 1.3 * tallest)
        ax_hist.set_ylabel("density")
        ax_hist.set_title("conditioning: shift the centre, shrink the spread", fontsize=9)
        self.hist_legend = ax_hist.legend(fontsize=7, frameon=False, loc="upper right")
        self.ax_hist = ax_hist

    def _in_slice(self, a: float) -> np.ndarray:
        return np.abs(self.x[:, 0] - a) < self.width / 2

    def _heights(self, a: float) -> np.ndarray:
        chosen = self.x[self._in_slice(a), 1]
        if not chosen.size:
            return np.zeros(self.edges.shape[0] - 1)
        return _hist_density(chosen, self.edges)

    def show(self, a: float) -> None:
        c_mean, _ = _conditional_gaussian(self.mu, self.sigma, a)
        in_slice = self._in_slice(a)
        self.slice.set_offsets(self.x[in_slice])
        self.cut.set_xdata([a, a])
        self.hist.set_data(self._heights(a))
        self.conditional.set_ydata(_normal_pdf(self.grid, c_mean, self.c_var))
        self.scatter_legend.get_texts()[0].set_text(f"slice |x₁ − {a:g}| < {self.width / 2:g}: {in_slice.sum():,} points")
        hist_text, formula_text, _ = self.hist_legend.get_texts()
        hist_text.set_text(f"x₂ of the {in_slice.sum():,} points in the slice")
        formula_text.set_text(rf"formula $\mathcal{{N}}({c_mean:.2f},\ {self.c_var:.3f})$")
        self.hist_legend.set_loc("upper left" if c_mean > self.mu[1] else "upper right")
        self.ax_hist.set_xlabel(f"x₂ given x₁ ≈ {a:g}")


def gaussian_conditioning_scrubber_html(
    samples,
    mean,
    cov,
    x1_values: Sequence[float],
    *,
    width: float = 0.1,
    lim: float = 3.5,
    bins: int = 30,
    figsize: tuple[float, float] = (8.4, 3.5),
    dpi: float = 90,
    interval_ms: int = 300,
) -> str:
    r"""HTML of a self-contained player that scrubs the conditioning value :math:`a` (no kernel needed).

    The kernel-free counterpart of :func:`~diffviz.gaussian_conditioning_explorer`'s
    :math:`a` slider: one frame of :func:`plot_gaussian_conditioning` per value in
    ``x1_values``, on fixed axes (the histogram panel's range and height fit every frame),
    for one fixed set of samples, so only the slice and the conditional move. The frames are
    rendered now and embedded as PNG in a ``FuncAnimation(...).to_jshtml()`` player; show it
    with ``IPython.display.HTML(...)``. To compare correlations, draw one player per
    covariance, or small multiples of :func:`plot_gaussian_conditioning`. At the defaults,
    17 frames of 20,000 samples make about 0.65 MB of HTML; fewer samples make it smaller.

    Args:
        samples: ``(n, 2)`` draws from :math:`\mathcal N(\text{mean}, \text{cov})`.
        mean: ``(2,)``; cov: ``(2, 2)`` covariance.
        x1_values: the conditioning values, one frame each, in the order given (at least 2,
            distinct, finite).
        width: slice width.
        lim: half-width of the scatter panel.
        bins: histogram bins.
        figsize, dpi: frame size (inches) and resolution: they set the HTML size.
        interval_ms: time between frames when playing.

    Returns:
        The HTML as a string.
    """
    x, mu, sigma, width = _conditioning_inputs(samples, mean, cov, width)
    values = np.asarray(x1_values, np.float64).ravel()
    if values.shape[0] < 2 or not np.all(np.isfinite(values)) or np.unique(values).shape[0] != values.shape[0]:
        raise ValueError(f"x1_values must hold at least 2 distinct finite numbers (one frame each); got {values.tolist()}")
    fig = _figure(figsize, dpi=dpi)
    ax_scatter, ax_hist = fig.subplots(1, 2, width_ratios=[1, 1.25])
    panel = _ConditioningPanel(ax_scatter, ax_hist, x, mu, sigma, values.tolist(), width=width, lim=lim, bins=bins)
    alt = (f"Player with a slider over the conditioning value a, {values.shape[0]} frames from a = {values[0]:g} "
           f"to {values[-1]:g}: a scatter of {x.shape[0]:,} samples of a 2-D Gaussian with the slice where x1 is near a "
           "marked, and beside it the histogram of x2 within that slice against the conditional Gaussian density.")
    return player.jshtml_player(fig, lambda i: panel.show(float(values[i])), values.shape[0], interval_ms=interval_ms, alt=alt)


def plot_mixture_1d(
    mixture: GaussianMixture,
    samples=None,
    *,
    x_range: tuple[float, float] = (-3.0, 3.0),
    bins: int = 80,
    figsize: tuple[float, float] = (6.0, 3.3),
) -> Figure:
    r"""A 1-D Gaussian mixture: its density, its weighted components and (optionally) samples.

    Args:
        mixture: a 1-D :class:`~diffviz.GaussianMixture` (e.g. ``mixture_1d("bimodal")``).
        samples: optional ``(n,)`` or ``(n, 1)`` draws for a histogram.
        x_range: the x-axis range.
        bins: histogram bins.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes. Gids: ``"density"``, ``"component:k"``, ``"samples"``.
    """
    _check_mixture_1d(mixture)
    lo, hi = float(x_range[0]), float(x_range[1])
    grid = np.linspace(lo, hi, 500).astype(np.float32).astype(np.float64)
    density = _mixture_density_np(mixture, None, 0, grid[:, None])
    w = np.asarray(mixture.weights, np.float64)
    mu = np.asarray(mixture.means, np.float64)[:, 0]
    s = np.asarray(mixture.stds, np.float64)[:, 0]
    fig = _figure(figsize)
    ax = fig.add_subplot()
    if samples is not None:
        x = _samples_1d("samples", samples, min_n=2)
        edges = np.linspace(lo, hi, v.positive_int("bins", bins) + 1)
        ax.stairs(_hist_density(x, edges), edges, fill=True, color=PARTICLES,
                  label=f"{x.shape[0]:,} samples", gid="samples")  # fmt: skip
    for k in range(w.shape[0]):
        ax.plot(grid, w[k] * _normal_pdf(grid, mu[k], s[k] ** 2), color="k", lw=1, ls="--", zorder=3,
                gid=f"component:{k}", label="weighted components $w_k\\,\\mathcal{N}(\\mu_k, s_k^2)$" if k == 0 else None)  # fmt: skip
    ax.plot(grid, density, color=EXACT, lw=2, label="mixture density $p(x)$", gid="density")
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, 1.5 * density.max())  # headroom: the legend sits above the peaks, not on them
    ax.set_xlabel("$x$")
    ax.set_ylabel("density")
    mean, var = _mixture_moments(mixture)
    ax.set_title(f"{w.shape[0]}-component Gaussian mixture: mean {mean:.3g}, variance {var:.4g}", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    return fig


def plot_posterior_check(
    grid,
    bayes,
    mean: float,
    variance: float,
    *,
    prior=None,
    likelihood=None,
    xlabel: str = r"$x_{t-1}$",
    title: str = "",
    figsize: tuple[float, float] = (6.4, 3.5),
) -> Figure:
    r"""A posterior computed by brute force on a grid against the closed-form Gaussian.

    Args:
        grid: ``(G,)`` evaluation points.
        bayes: ``(G,)`` the normalised grid posterior (prior times likelihood, divided by
            its integral).
        mean, variance: the closed-form posterior :math:`\mathcal N(\text{mean},
            \text{variance})`.
        prior: optional ``(G,)`` prior density, drawn dashed.
        likelihood: optional ``(G,)`` likelihood, drawn dotted after normalising it to
            integrate to 1 (only its shape matters).
        xlabel: the x-axis label.
        title: the panel title.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes. Gids: ``"bayes"``, ``"formula"``, ``"prior"``,
        ``"likelihood"``.
    """
    x = np.asarray(grid, np.float64)
    post = np.asarray(bayes, np.float64)
    if x.ndim != 1 or post.shape != x.shape:
        raise ValueError(f"grid and bayes must be 1-D of the same length; got {x.shape} and {post.shape}")
    variance = _positive("variance", variance)
    fig = _figure(figsize)
    ax = fig.add_subplot()
    shown = [post]  # the x range is where some curve is above 1/1000 of its peak: the grid may be far wider
    if prior is not None:
        shown.append(np.asarray(prior, np.float64))
        ax.plot(x, shown[-1], color=REFERENCE, lw=1.3, ls="--", gid="prior",
                label=r"$q(x_{t-1} \mid x_0)$: what $x_0$ says")  # fmt: skip
    if likelihood is not None:
        lik = np.asarray(likelihood, np.float64)
        lik = lik / np.trapezoid(lik, x)
        shown.append(lik)
        ax.plot(x, lik, color=PARTICLES_DARK, lw=1.3, ls=":", gid="likelihood",
                label=r"$q(x_t \mid x_{t-1})$ as a function of $x_{t-1}$: what $x_t$ says")  # fmt: skip
    ax.fill_between(x, post, color=PARTICLES, alpha=0.8, lw=0, gid="bayes",
                    label="grid Bayes: prior × likelihood, normalised")  # fmt: skip
    ax.plot(x, _normal_pdf(x, float(mean), variance), color=EXACT, lw=1.8, gid="formula",
            label=rf"formula $\mathcal{{N}}(\tilde\mu_t, \tilde\beta_t)$: mean {float(mean):.4f}, var {variance:.4f}")  # fmt: skip
    visible = np.any([curve > 1e-3 * np.max(curve) for curve in shown], axis=0)
    lo, hi = (x[visible][[0, -1]] if visible.any() else x[[0, -1]])
    pad = 0.05 * (hi - lo)
    ax.set_xlim(max(x[0], lo - pad), min(x[-1], hi + pad))
    ax.set_ylim(0, None)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title, fontsize=10)
    fig.legend(loc="outside lower center", ncols=2, fontsize=7.5, frameon=False)
    return fig


def plot_conditional_mean(
    x,
    y,
    grid,
    exact,
    *,
    bins: int = 40,
    x_range: tuple[float, float] | None = None,
    min_count: int = 20,
    max_points: int = 4000,
    xlabel: str = "$x_t$",
    ylabel: str = r"$\varepsilon$",
    title: str = "",
    figsize: tuple[float, float] = (6.2, 3.6),
) -> Figure:
    r"""A regression picture: pairs ``(x, y)``, their average per bin of ``x``, and the exact :math:`E[y \mid x]`.

    With ``x`` the noisy points :math:`x_t` and ``y`` the noise :math:`\varepsilon` that made
    them, the bin averages estimate :math:`E[\varepsilon \mid x_t]`, and the exact curve is
    :math:`\varepsilon^*` (:func:`~diffviz.optimal_eps`): the function a denoiser is trained to
    become.

    Args:
        x, y: ``(n,)`` or ``(n, 1)`` paired samples.
        grid: ``(G,)`` points where the exact curve is given.
        exact: ``(G,)`` the exact conditional mean at ``grid``.
        bins: number of bins for the averages.
        x_range: ``(lo, hi)`` for the bins and the axis; default the grid's range.
        min_count: bins with fewer pairs than this are not drawn (their average is mostly noise).
        max_points: at most this many pairs are drawn (all are averaged).
        xlabel, ylabel, title: texts.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes. Gids: ``"pairs"``, ``"bin-means"`` (x: bin centres,
        y: averages; bins with fewer than ``min_count`` pairs are left out), ``"exact"``.
    """
    xv, yv = _samples_1d("x", x, min_n=2), _samples_1d("y", y, min_n=2)
    if xv.shape != yv.shape:
        raise ValueError(f"x and y must have the same length; got {xv.shape[0]} and {yv.shape[0]}")
    g = np.asarray(grid, np.float64)
    e = np.asarray(exact, np.float64)
    lo, hi = (g[0], g[-1]) if x_range is None else (float(x_range[0]), float(x_range[1]))
    edges = np.linspace(lo, hi, v.positive_int("bins", bins) + 1)
    which = np.digitize(xv, edges) - 1
    sums = np.bincount(which[(which >= 0) & (which < bins)], weights=yv[(which >= 0) & (which < bins)], minlength=bins)
    counts = np.bincount(which[(which >= 0) & (which < bins)], minlength=bins)
    centres = 0.5 * (edges[:-1] + edges[1:])
    full = counts >= max(v.positive_int("min_count", min_count), 1)
    fig = _figure(figsize)
    ax = fig.add_subplot()
    shown = min(v.positive_int("max_points", max_points), xv.shape[0])
    ax.scatter(xv[:shown], yv[:shown], s=2, color=PARTICLES, lw=0, alpha=0.5, rasterized=True, gid="pairs",
               label=f"{shown:,} pairs $(x_t, \\varepsilon)$")  # fmt: skip
    ax.plot(centres[full], sums[full] / counts[full], "o", ms=3.5, color=PARTICLES_DARK, gid="bin-means",
            label=f"average per bin ({xv.shape[0]:,} pairs)")  # fmt: skip
    ax.plot(g, e, color=EXACT, lw=2, gid="exact", label="exact conditional mean")
    ax.set_xlim(lo, hi)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, frameon=True, framealpha=0.85, loc="upper left")
    return fig
