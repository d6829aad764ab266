"""Chapter 10's figures: the KS picture, a reused noise key, a reverse step against its Gaussian.

Each test hands a figure known arrays, reads back what was drawn (artists carry a ``gid``) and
compares it with an answer computed independently here (``scipy.stats``, float64).
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
from figtools import artist, assert_labelled, line  # tests/figtools.py
from scipy import stats

import diffviz as dv

pytestmark = pytest.mark.usefixtures("no_leaked_figures")  # defined in conftest.py


# --- the KS picture ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ks_setting():
    """Data, the schedule, t, and x_t made right (std) and wrong (variance as std)."""
    schedule = dv.linear_schedule(1000)
    k_data, k_eps = jax.random.split(jax.random.key(10))
    x0 = np.asarray(dv.sample_mixture(k_data, dv.mixture_1d("bimodal"), 4000), np.float64)  # (n, 1)
    t = 300
    abar = float(np.asarray(schedule.alpha_bars, np.float64)[t])
    eps = np.asarray(jax.random.normal(k_eps, x0.shape), np.float64)
    wrong = np.sqrt(abar) * x0 + (1 - abar) * eps
    right = np.sqrt(abar) * x0 + np.sqrt(1 - abar) * eps
    return schedule, x0, t, abar, {"wrong": wrong.astype(np.float32), "right": right.astype(np.float32)}


def test_ks_picture_draws_each_empirical_cdf_and_marks_its_largest_gap(ks_setting):
    schedule, x0, t, abar, samples = ks_setting
    fig = dv.plot_ks_picture(x0, samples, schedule, t)
    assert_labelled(fig, 1)
    (ax,) = fig.axes
    grid, phi = line(fig, "exact-cdf")
    np.testing.assert_allclose(phi, stats.norm.cdf(grid), atol=1e-12)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    for label, x in samples.items():
        z = np.sort((np.asarray(x, np.float64)[:, 0] - np.sqrt(abar) * x0[:, 0]) / np.sqrt(1 - abar))
        ks = stats.kstest(z, "norm")
        drawn_z, ecdf = line(fig, f"ecdf:{label}")
        np.testing.assert_allclose(drawn_z, z, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(ecdf, np.arange(1, z.size + 1) / z.size)
        ((lo, hi),) = [(seg[:, 1].min(), seg[:, 1].max()) for seg in artist(fig, f"gap:{label}").get_segments()]
        assert hi - lo == pytest.approx(max(ks.statistic, 1 / z.size), rel=1e-4, abs=1e-6), label  # the bar is D long
        ring_z, ring_y = line(fig, f"gap-ring:{label}")
        assert ring_y[0] == pytest.approx(stats.norm.cdf(ring_z[0]), abs=1e-9) and lo <= ring_y[0] <= hi
        D = float(dv.marginal_ks_test(schedule, x0, x, t).statistic)
        assert any(text.startswith(label) and f"D = {D:.3f}" in text for text in legend), legend
    gaps = {label: np.ptp(artist(fig, f"gap:{label}").get_segments()[0][:, 1]) for label in samples}
    assert gaps["wrong"] > 5 * gaps["right"]  # the wrong scale is the one with the big gap


def test_ks_picture_rejects_bad_input(ks_setting):
    schedule, x0, t, _, samples = ks_setting
    with pytest.raises(ValueError, match="samples"):
        dv.plot_ks_picture(x0, {}, schedule, t)
    with pytest.raises(ValueError):
        dv.plot_ks_picture(x0, {"short": samples["right"][:10]}, schedule, t)


# --- the variance of the noise, measured and predicted --------------------------------------------


def test_noise_variance_draws_each_measured_and_predicted_curve():
    beta, steps = 0.05, np.arange(1, 41)
    alpha = 1 - beta
    c = [np.sqrt(beta) * alpha ** ((t - np.arange(1, t + 1)) / 2) for t in steps]
    reused, fresh = np.array([np.sum(ct) ** 2 for ct in c]), 1 - alpha**steps
    measured = {"one key: measured": reused * 1.01, "fresh keys: measured": fresh * 0.99}
    predicted = {"standard deviations add": reused, "variances add": fresh}
    fig = dv.plot_noise_variance(steps, measured, predicted, title="reused key")
    assert_labelled(fig, 1)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log" and ax.get_title() == "reused key"
    for k, (m, p) in enumerate(zip(measured.values(), predicted.values())):
        x, y = line(fig, f"measured:{k}")
        np.testing.assert_array_equal(x, steps)
        np.testing.assert_allclose(y, m)
        x, y = line(fig, f"predicted:{k}")
        np.testing.assert_array_equal(x, steps)
        np.testing.assert_allclose(y, p)
        assert artist(fig, f"measured:{k}").get_color() == artist(fig, f"predicted:{k}").get_color()
    assert artist(fig, "measured:0").get_color() != artist(fig, "measured:1").get_color()
    texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert texts == [label for pair in zip(measured, predicted) for label in pair]  # each dot label by its curve


def test_noise_variance_rejects_bad_input():
    steps = np.arange(1, 4)
    good = {"a": np.ones(3)}
    with pytest.raises(ValueError, match="same number"):
        dv.plot_noise_variance(steps, good, {"a": np.ones(3), "b": np.ones(3)})
    with pytest.raises(ValueError, match="> 0"):
        dv.plot_noise_variance(steps, {"a": np.array([0.0, 1.0, 2.0])}, good)
    with pytest.raises(ValueError, match="one per step"):
        dv.plot_noise_variance(steps, good, {"a": np.ones(4)})


# --- a reverse step against the Gaussian step -----------------------------------------------------


def test_reverse_step_check_draws_truth_gaussian_and_mean_per_panel():
    grids = [np.linspace(-2.5, 2.5, 401), np.linspace(0.0, 0.6, 301)]
    two_peaks = 0.5 * stats.norm.pdf(grids[0], -1, 0.3) + 0.5 * stats.norm.pdf(grids[0], 1, 0.3)
    one_bell = stats.norm.pdf(grids[1], 0.3, 0.08)
    means, variances, ts = [0.0, 0.3], [0.75, 0.0064], [1, 300]
    fig = dv.plot_reverse_step_check(grids, [two_peaks, one_bell], means, variances, ts, titles=["big", "small"])
    assert_labelled(fig, 2)
    for k, ax in enumerate(fig.axes):
        x, y = line(fig, f"true:{k}")
        np.testing.assert_array_equal(x, grids[k])
        np.testing.assert_allclose(y, [two_peaks, one_bell][k])
        x, y = line(fig, f"gaussian:{k}")
        np.testing.assert_allclose(y, stats.norm.pdf(grids[k], means[k], np.sqrt(variances[k])), rtol=1e-10)
        assert line(fig, f"mean:{k}")[0].tolist() == [means[k], means[k]]
        assert ax.get_title() == ["big", "small"][k]
        assert ax.get_ylim()[1] >= max(y.max(), line(fig, f"true:{k}")[1].max())
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert ("the last step returns it" in labels[-1]) == (ts[k] == 1)


def test_reverse_step_check_rejects_bad_input():
    grid = np.linspace(-1, 1, 11)
    with pytest.raises(ValueError, match="one entry per panel"):
        dv.plot_reverse_step_check([grid], [grid, grid], [0.0], [1.0], [1])
    with pytest.raises(ValueError, match="shape"):
        dv.plot_reverse_step_check([grid], [grid[:5]], [0.0], [1.0], [1])
    with pytest.raises(ValueError, match="variances"):
        dv.plot_reverse_step_check([grid], [grid], [0.0], [0.0], [1])
