"""The 2-D and reverse-process figures and explorers: what is drawn is what was computed.

Data are read back from the returned Figure (artists carry a ``gid``) and compared with the
inputs, or with exact answers computed independently here (``scipy.stats``, float64), or
with the package's own exact functions where the figure claims to *show* them (the quiver
arrows must be ``mixture_score`` itself). Explorers are driven without a kernel by setting
control values; counters and a spy on the jitted simulator tell redraws from recomputation.
"""

from __future__ import annotations

import base64
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from figtools import artist, assert_labelled, frame_pngs  # tests/figtools.py
from matplotlib.figure import Figure
from scipy import stats

import diffviz as dv
from diffviz.viz import explorer

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
T = 80
N = 300  # particles


pytestmark = pytest.mark.usefixtures("no_leaked_figures")  # defined in conftest.py


@pytest.fixture(scope="module")
def schedule():
    return dv.linear_schedule(T, beta_start=1e-3, beta_end=0.2)  # abar_T ~ 4e-4: reaches noise


@pytest.fixture(scope="module")
def mixture():
    return dv.eight_gaussians_mixture()


@pytest.fixture(scope="module")
def trajectories(schedule):
    """``{name: (T+1, n, 2)}`` forward trajectories of two data sets, float32 NumPy.

    Simulated with the explorer's jitted simulator and its particle count: compiled once here
    and reused by the explorer test.
    """
    k_data, k_chain = jax.random.split(jax.random.key(3))
    out = {}
    for i, name in enumerate(("eight Gaussians", "two moons")):
        x0 = dv.TOY_DATASETS_2D[name](jax.random.fold_in(k_data, i), N)
        out[name] = np.asarray(explorer.simulate(k_chain, schedule, x0, trajectory=True))
    return out


# --- helpers -----------------------------------------------------------------------------------


def assert_square(fig: Figure) -> None:
    for ax in fig.axes:
        assert ax.get_aspect() == 1.0
        assert np.allclose(ax.get_xlim(), ax.get_ylim())


def mixture_pdf_2d(mix, x, schedule=None, t=0):
    """Density of the mixture diffused to step ``t`` at ``x: (m, 2)``, with scipy, in float64."""
    abar, noise = (1.0, 0.0) if schedule is None else (host_abar(schedule, t), host_noise(schedule, t))
    w = np.asarray(mix.weights, np.float64)
    mu = np.asarray(mix.means, np.float64) * np.sqrt(abar)
    var = abar * np.asarray(mix.stds, np.float64) ** 2 + noise
    return sum(w[k] * stats.multivariate_normal(mu[k], np.diag(var[k])).pdf(x) for k in range(w.shape[0]))


def hdr_levels_reference(density, cell, masses):
    values = np.sort(density.ravel())[::-1]
    cumulative = np.cumsum(values) * cell
    cumulative /= cumulative[-1]
    return np.array([values[np.argmax(cumulative >= m)] for m in masses])


def host_abar(schedule, t):
    return float(np.asarray(schedule.alpha_bars, np.float64)[t])


def host_noise(schedule, t):
    return float(np.asarray(schedule.one_minus_alpha_bars, np.float64)[t])


# --- forward process pictures ------------------------------------------------------------------


def test_snapshot_grid_draws_the_trajectory_rows(trajectories, schedule):
    ts = (0, 5, 40, T)
    fig = dv.plot_2d_snapshot_grid(trajectories, ts, schedules=schedule)
    assert_labelled(fig, len(trajectories) * len(ts))
    assert_square(fig)
    for name, traj in trajectories.items():
        for t in ts:
            offsets = np.asarray(artist(fig, f"particles:{name}:{t}").get_offsets())
            np.testing.assert_array_equal(offsets, traj[t].astype(np.float64))
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[1].startswith("t = 5") and f"{host_abar(schedule, 5):.3f}" in titles[1]


def test_snapshot_grid_takes_one_trajectory_and_refuses_bad_steps(trajectories):
    traj = trajectories["two moons"]
    fig = dv.plot_2d_snapshot_grid(traj, (T, 0))
    np.testing.assert_array_equal(np.asarray(artist(fig, f"particles::{T}").get_offsets()), traj[T])
    with pytest.raises(ValueError, match="t"):
        dv.plot_2d_snapshot_grid(traj, (T + 1,))
    with pytest.raises(ValueError, match="shape"):
        dv.plot_2d_snapshot_grid(traj[:, :, :1], (0,))


def test_density_grid_is_the_exact_diffused_density(mixture, schedule):
    for t in (0, 10, T):
        xs, density = dv.density_grid(mixture, schedule, t, lim=3.0, grid_size=41)
        np.testing.assert_allclose(xs, np.linspace(-3, 3, 41), atol=1e-6)
        gx, gy = np.meshgrid(xs, xs)
        expected = mixture_pdf_2d(mixture, np.stack([gx.ravel(), gy.ravel()], 1), schedule, t)
        np.testing.assert_allclose(density.ravel(), expected, rtol=1e-9, atol=1e-300)


def test_density_contours_enclose_the_stated_mass(mixture, schedule, trajectories):
    ts, masses, lim, grid = (0, 20, T), (0.5, 0.9, 0.99), 3.5, 101
    fig = dv.plot_density_contours(
        mixture, schedule, ts, trajectory=trajectories["eight Gaussians"], masses=masses, lim=lim, grid_size=grid
    )
    assert_labelled(fig, len(ts))
    assert_square(fig)
    xs = np.linspace(-lim, lim, grid).astype(np.float32).astype(np.float64)
    gx, gy = np.meshgrid(xs, xs)
    points = np.stack([gx.ravel(), gy.ravel()], 1)
    for t in ts:
        density = mixture_pdf_2d(mixture, points, schedule, t)
        expected = np.sort(hdr_levels_reference(density, (xs[1] - xs[0]) ** 2, masses))
        np.testing.assert_allclose(artist(fig, f"density:{t}").levels, expected, rtol=1e-9)
        offsets = np.asarray(artist(fig, f"particles:{t}").get_offsets())
        np.testing.assert_array_equal(offsets, trajectories["eight Gaussians"][t])
        # The contours really hold their mass: the particles say so, within sampling noise.
        at_particles = mixture_pdf_2d(mixture, offsets, schedule, t)
        for m, level in zip(masses, expected[::-1], strict=True):
            assert abs(np.mean(at_particles >= level) - m) < 0.07


def test_animation_has_one_frame_per_step(trajectories, schedule):
    html = dv.diffusion_2d_animation_html(trajectories, schedule=schedule, num_frames=7, dpi=30)
    assert re.search(r"new Array\((\d+)\)", html).group(1) == "7"
    assert len(re.findall(r'frames\[\d+\] = "data:image/png;base64', html)) == 7
    ts = (0, 1, 2, 3, 10, T)
    html = dv.diffusion_2d_animation_html(trajectories["two moons"], ts=ts, dpi=30)
    assert len(re.findall(r'frames\[\d+\] = "data:image/png;base64', html)) == len(ts)
    with pytest.raises(ValueError, match="same number of steps"):
        dv.diffusion_2d_animation_html({"a": trajectories["two moons"], "b": trajectories["two moons"][:10]})


def test_snr_crossings_and_their_markers(schedule):
    cosine = dv.cosine_schedule(T)
    sizes = (0.1, 1.0)
    fig = dv.plot_snr_thresholds({"linear": schedule, "cosine": cosine}, sizes)
    assert_labelled(fig, 1)
    for name, s in (("linear", schedule), ("cosine", cosine)):
        abar = np.asarray(s.alpha_bars, np.float64)
        snr = abar[1:] / np.asarray(s.one_minus_alpha_bars, np.float64)[1:]
        _, y = artist(fig, f"snr:{name}").get_data()
        np.testing.assert_allclose(y, snr)
        crossings = dv.snr_crossings(s, sizes)
        for d in sizes:
            t_first = next(t for t in range(1, s.T + 1) if abar[t] / (1 - abar[t]) < 1 / d**2)
            assert crossings[d] == t_first
            mx, my = artist(fig, f"crossing:{name}:{d:g}").get_data()
            assert mx[0] == t_first and my[0] == pytest.approx(snr[t_first - 1])
    assert dv.snr_crossings(dv.constant_schedule(1e-4, 5), (0.1,)) == {0.1: None}


# --- reverse process pictures ------------------------------------------------------------------


@pytest.mark.parametrize("field", ["score", "eps", "denoiser"])
def test_quiver_arrows_are_the_exact_field(mixture, schedule, field):
    ts = (1, 15, T)
    fig = dv.plot_score_field(mixture, schedule, ts, field=field, grid_size=9, lim=3.0)
    assert_labelled(fig, len(ts))
    assert_square(fig)
    for t in ts:
        q = artist(fig, f"field:{t}")
        points = np.stack([np.asarray(q.X, np.float64), np.asarray(q.Y, np.float64)], 1)
        np.testing.assert_allclose(np.unique(points[:, 0]), np.linspace(-3, 3, 9), atol=1e-6)
        x = jnp.asarray(points, jnp.float32)
        if field == "score":
            exact = dv.mixture_score(schedule, mixture, x, t)
        elif field == "eps":
            exact = dv.optimal_eps(schedule, mixture, x, t)
        else:
            exact = dv.optimal_denoiser(schedule, mixture, x, t) - x
        arrows = np.stack([np.asarray(q.U, np.float64), np.asarray(q.V, np.float64)], 1)
        np.testing.assert_allclose(arrows, np.asarray(exact, np.float64), rtol=2e-5, atol=1e-5)


def test_score_field_refuses_eps_at_t0_and_unknown_fields(mixture, schedule):
    with pytest.raises(ValueError, match="t"):
        dv.plot_score_field(mixture, schedule, (0,), field="eps")
    with pytest.raises(ValueError, match="field"):
        dv.plot_score_field(mixture, schedule, (1,), field="velocity")
    with pytest.raises(ValueError, match="2-D"):
        dv.plot_score_field(dv.mixture_1d("bimodal"), schedule, (1,))


def exact_field(schedule, mixture, x, t, field):
    if field == "score":
        return dv.mixture_score(schedule, mixture, x, t)
    if field == "eps":
        return dv.optimal_eps(schedule, mixture, x, t)
    return dv.optimal_denoiser(schedule, mixture, x, t) - x


def test_score_field_scrubber_draws_the_exact_fields_and_particles_at_each_t(mixture, schedule, trajectories,
                                                                              captured_player):  # fmt: skip
    traj = trajectories["eight Gaussians"]
    ts, fields = (T, 20, 1), ("score", "eps", "denoiser")
    dv.score_field_scrubber_html(mixture, schedule, ts, fields=fields, trajectory=traj, grid_size=7)
    ((fig, draw, n),) = captured_player
    assert n == len(ts)
    assert_labelled(fig, 3)
    assert_square(fig)
    for i, t in enumerate(ts):
        draw(i)
        for ax, field in zip(fig.axes, fields, strict=True):
            (q,) = [c for c in ax.get_children() if type(c).__name__ == "Quiver"]
            points = np.stack([np.asarray(q.X, np.float64), np.asarray(q.Y, np.float64)], 1)
            np.testing.assert_allclose(np.unique(points[:, 0]), np.linspace(-3, 3, 7), atol=1e-6)
            x = jnp.asarray(points, jnp.float32)
            arrows = np.stack([np.asarray(q.U, np.float64), np.asarray(q.V, np.float64)], 1)
            exact = np.asarray(exact_field(schedule, mixture, x, t, field), np.float64)
            np.testing.assert_allclose(arrows, exact, rtol=2e-5, atol=1e-5)
            (particles,) = [c for c in ax.collections if c.get_offsets().shape[0] == N]
            np.testing.assert_array_equal(particles.get_offsets(), traj[t])
            assert ax.get_title().splitlines()[1].startswith(f"t = {t}, ")


def test_score_field_scrubber_html_has_one_distinct_frame_per_t(mixture, schedule):
    html = dv.score_field_scrubber_html(mixture, schedule, (T, 40, 10, 1), grid_size=5, dpi=25)
    frames = frame_pngs(html)
    assert len(frames) == 4 and len(set(frames)) == 4
    assert "<script" in html and len(html.encode()) < 1_000_000


def test_score_field_scrubber_rejects_bad_input(mixture, schedule, trajectories):
    with pytest.raises(ValueError, match="ts must hold at least 2 distinct"):
        dv.score_field_scrubber_html(mixture, schedule, (5,))
    with pytest.raises(ValueError, match="ts must hold at least 2 distinct"):
        dv.score_field_scrubber_html(mixture, schedule, (5, 5))
    with pytest.raises(ValueError, match="time step in 1"):  # eps* has no value at t = 0
        dv.score_field_scrubber_html(mixture, schedule, (0, 5), fields=("eps",))
    with pytest.raises(ValueError, match="field must be one of"):
        dv.score_field_scrubber_html(mixture, schedule, (1, 5), fields=("score", "velocity"))
    with pytest.raises(ValueError, match="fields must name"):
        dv.score_field_scrubber_html(mixture, schedule, (1, 5), fields=())
    with pytest.raises(ValueError, match="trajectory must have T"):
        dv.score_field_scrubber_html(mixture, schedule, (1, 5), trajectory=trajectories["two moons"][:10])
    with pytest.raises(ValueError, match="grid_size"):
        dv.score_field_scrubber_html(mixture, schedule, (1, 5), grid_size=1)


def test_samples_on_density_and_paths_draw_their_inputs(mixture, trajectories):
    traj = trajectories["eight Gaussians"]
    fig = dv.plot_samples_on_density(traj[T], traj[0], mixture=mixture)
    assert_labelled(fig, 2)
    assert_square(fig)
    np.testing.assert_array_equal(artist(fig, "samples").get_offsets(), traj[T])
    np.testing.assert_array_equal(artist(fig, "data").get_offsets(), traj[0])
    for every, steps in ((1, np.arange(T + 1)), (30, np.array([0, 30, 60, T]))):
        fig = dv.plot_2d_paths(traj, num_paths=3, every=every, mixture=mixture)
        assert_labelled(fig, 1)
        for i in range(3):
            segments = artist(fig, f"path:{i}").get_segments()
            assert len(segments) == len(steps) - 1
            np.testing.assert_allclose([seg[0] for seg in segments], traj[steps[:-1], i], rtol=1e-6)
            np.testing.assert_allclose([seg[1] for seg in segments], traj[steps[1:], i], rtol=1e-6)


# --- 1-D pictures: Gaussian facts, mixture, posterior, conditional means -----------------------


def test_gaussian_fact_histogram_and_formula():
    x = np.random.default_rng(0).normal(1.0, 2.0, 5000)
    fig = dv.plot_gaussian_fact(x, 1.0, 4.0, compare=("wrong", 1.0, 2.0), bins=40)
    assert_labelled(fig, 1)
    grid, pdf = artist(fig, "formula").get_data()
    np.testing.assert_allclose(pdf, stats.norm(1.0, 2.0).pdf(grid), rtol=1e-10)
    _, wrong = artist(fig, "compare").get_data()
    np.testing.assert_allclose(wrong, stats.norm(1.0, np.sqrt(2.0)).pdf(grid), rtol=1e-10)
    data = artist(fig, "samples").get_data()
    counts, _ = np.histogram(x, data.edges)
    np.testing.assert_allclose(data.values, counts / (x.size * np.diff(data.edges)))
    with pytest.raises(ValueError, match="variance"):
        dv.plot_gaussian_fact(x, 0.0, -1.0)


def test_gaussian_conditioning_matches_the_conditional_formula():
    rng = np.random.default_rng(1)
    mean, cov = np.array([0.5, -1.0]), np.array([[2.0, 0.9], [0.9, 1.0]])
    x = rng.multivariate_normal(mean, cov, 20_000)
    fig = dv.plot_gaussian_conditioning(x, mean, cov, 1.5, width=0.2)
    assert_labelled(fig, 2)
    grid, pdf = artist(fig, "conditional").get_data()
    c_mean = mean[1] + cov[1, 0] / cov[0, 0] * (1.5 - mean[0])
    c_var = cov[1, 1] - cov[1, 0] ** 2 / cov[0, 0]
    np.testing.assert_allclose(pdf, stats.norm(c_mean, np.sqrt(c_var)).pdf(grid), rtol=1e-10)
    in_slice = np.abs(x[:, 0] - 1.5) < 0.1
    np.testing.assert_array_equal(artist(fig, "slice").get_offsets(), x[in_slice])
    # the slice really follows the formula (sampling noise of ~1,000 points)
    assert abs(x[in_slice, 1].mean() - c_mean) < 0.05 and abs(x[in_slice, 1].var() / c_var - 1) < 0.12
    # the scatter panel is centred on the mean, rounded to whole units: (0, -1) +- 3.5
    assert fig.axes[0].get_xlim() == (-3.5, 3.5) and fig.axes[0].get_ylim() == (-4.5, 2.5)


def test_gaussian_conditioning_marginal_stays_visible_where_the_formula_covers_it():
    # With no correlation the formula curve is the marginal; the dashed marginal is drawn on
    # top of it, or the reader sees one red curve and a legend entry with nothing to match.
    x = np.random.default_rng(3).standard_normal((5_000, 2))
    fig = dv.plot_gaussian_conditioning(x, np.zeros(2), np.eye(2), 1.0)
    marginal, conditional = artist(fig, "marginal"), artist(fig, "conditional")
    np.testing.assert_allclose(conditional.get_ydata(), marginal.get_ydata(), rtol=1e-12)
    assert marginal.get_zorder() > conditional.get_zorder()


def test_gaussian_conditioning_scrubber_moves_the_slice_and_the_formula(captured_player):
    rng = np.random.default_rng(2)
    mean, cov = np.array([0.5, -1.0]), np.array([[2.0, 0.9], [0.9, 1.0]])
    x = rng.multivariate_normal(mean, cov, 5000)
    values = [1.5, -1.0, 0.0]  # frames in the order given
    dv.gaussian_conditioning_scrubber_html(x, mean, cov, values, width=0.2)
    ((fig, draw, n),) = captured_player
    assert n == 3
    c_var = cov[1, 1] - cov[1, 0] ** 2 / cov[0, 0]
    limits = None
    for i, a in enumerate(values):
        draw(i)
        assert_labelled(fig, 2)
        in_slice = np.abs(x[:, 0] - a) < 0.1
        np.testing.assert_array_equal(artist(fig, "slice").get_offsets(), x[in_slice])
        grid, pdf = artist(fig, "conditional").get_data()
        c_mean = mean[1] + cov[1, 0] / cov[0, 0] * (a - mean[0])
        np.testing.assert_allclose(pdf, stats.norm(c_mean, np.sqrt(c_var)).pdf(grid), rtol=1e-10)
        hist = artist(fig, "slice-histogram").get_data()
        counts, _ = np.histogram(x[in_slice, 1], hist.edges)
        np.testing.assert_allclose(hist.values, counts / (in_slice.sum() * np.diff(hist.edges)))
        ax_hist = fig.axes[1]
        assert ax_hist.get_ylim()[1] > max(hist.values.max(), pdf.max())  # nothing cut off
        assert limits is None or (ax_hist.get_xlim(), ax_hist.get_ylim()) == limits  # fixed axes while scrubbing
        limits = ax_hist.get_xlim(), ax_hist.get_ylim()
        texts = [t.get_text() for t in ax_hist.get_legend().get_texts()]
        assert f"{in_slice.sum():,} points" in texts[0] and f"{c_mean:.2f}" in texts[1]


def test_gaussian_conditioning_scrubber_html_has_one_distinct_frame_per_value():
    rng = np.random.default_rng(3)
    x = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.8], [0.8, 1.0]], 2000)
    html = dv.gaussian_conditioning_scrubber_html(x, np.zeros(2), [[1.0, 0.8], [0.8, 1.0]], [-1.0, 0.0, 1.0], dpi=30)
    frames = frame_pngs(html)
    assert len(frames) == 3 and len(set(frames)) == 3
    assert "<script" in html and len(html.encode()) < 500_000


def test_gaussian_conditioning_scrubber_rejects_bad_input():
    x, mean, cov = np.zeros((10, 2)), np.zeros(2), np.eye(2)
    for values in ([1.0], [1.0, 1.0], [0.0, np.nan]):
        with pytest.raises(ValueError, match="x1_values"):
            dv.gaussian_conditioning_scrubber_html(x, mean, cov, values)
    with pytest.raises(ValueError, match="width"):
        dv.gaussian_conditioning_scrubber_html(x, mean, cov, [0.0, 1.0], width=0.0)
    with pytest.raises(ValueError, match="samples"):
        dv.gaussian_conditioning_scrubber_html(np.zeros((10, 3)), mean, cov, [0.0, 1.0])
    with pytest.raises(ValueError, match="mean must have shape"):
        dv.gaussian_conditioning_scrubber_html(x, np.zeros(3), cov, [0.0, 1.0])
    with pytest.raises(ValueError, match="bins"):
        dv.gaussian_conditioning_scrubber_html(x, mean, cov, [0.0, 1.0], bins=0)


def test_mixture_1d_density_and_components():
    mix = dv.mixture_1d("bimodal")
    x = np.random.default_rng(3).normal(size=2000)
    fig = dv.plot_mixture_1d(mix, x)
    assert_labelled(fig, 1)
    grid, density = artist(fig, "density").get_data()
    mu, s = np.asarray(mix.means, np.float64)[:, 0], np.asarray(mix.stds, np.float64)[:, 0]  # float32 values
    np.testing.assert_allclose(mu, [-0.95, 0.95]) and np.testing.assert_allclose(s, [0.3, 0.3])
    expected = 0.5 * stats.norm(mu[0], s[0]).pdf(grid) + 0.5 * stats.norm(mu[1], s[1]).pdf(grid)
    np.testing.assert_allclose(density, expected, rtol=1e-9)
    _, comp = artist(fig, "component:1").get_data()
    np.testing.assert_allclose(comp, 0.5 * stats.norm(mu[1], s[1]).pdf(grid), rtol=1e-9)
    np.testing.assert_array_equal(artist(fig, "samples").get_data().values.sum() > 0, True)
    assert "0.9925" in fig.axes[0].get_title()


def test_posterior_check_and_conditional_mean_draw_their_inputs():
    grid = np.linspace(-3, 3, 301)
    bayes = stats.norm(0.2, 0.5).pdf(grid)
    fig = dv.plot_posterior_check(grid, bayes, 0.2, 0.25, prior=stats.norm(0, 1).pdf(grid),
                                  likelihood=2 * stats.norm(0.4, 0.7).pdf(grid))  # fmt: skip
    assert_labelled(fig, 1)
    _, formula = artist(fig, "formula").get_data()
    np.testing.assert_allclose(formula, bayes, rtol=1e-10)
    _, lik = artist(fig, "likelihood").get_data()
    assert np.trapezoid(lik, grid) == pytest.approx(1.0)
    assert fig.axes[0].get_xlim() == (-3.0, 3.0)  # the prior N(0, 1) is above 1/1000 of its peak to +-3.7
    wide = np.linspace(-20, 20, 4001)  # a grid far wider than the curves: the axis follows the curves
    fig = dv.plot_posterior_check(wide, stats.norm(0.2, 0.5).pdf(wide), 0.2, 0.25)
    lo, hi = fig.axes[0].get_xlim()
    reach = 0.5 * np.sqrt(2 * np.log(1000))  # where N(0.2, 0.5^2) falls to 1/1000 of its peak: 1.86
    assert lo == pytest.approx(0.2 - reach - 0.1 * reach, abs=0.02) and hi == pytest.approx(0.2 + reach + 0.1 * reach, abs=0.02)

    rng = np.random.default_rng(2)
    x = rng.normal(size=3000)
    y = 0.5 * x + rng.normal(size=3000)
    fig = dv.plot_conditional_mean(x, y, grid, 0.5 * grid, bins=12, x_range=(-3, 3))
    assert_labelled(fig, 1)
    centres, means = artist(fig, "bin-means").get_data()
    edges = np.linspace(-3, 3, 13)
    counts, _ = np.histogram(x, edges)
    assert len(centres) == np.sum(counts >= 20)  # sparse bins are left out
    for c, m in zip(centres, means, strict=True):
        i = np.searchsorted(edges, c) - 1
        in_bin = (x >= edges[i]) & (x < edges[i + 1])
        assert m == pytest.approx(y[in_bin].mean())


# --- explorers ---------------------------------------------------------------------------------


def shown_png(explorer) -> bytes:
    (bundle,) = explorer.output.outputs
    png = base64.b64decode(bundle["data"]["image/png"])
    assert png.startswith(PNG_MAGIC)
    return png


def test_diffusion_explorer_redraws_on_t_and_recomputes_on_settings(simulator_calls, schedule):
    schedules = {"linear": schedule, "cosine": dv.cosine_schedule(T)}
    datasets = {name: dv.TOY_DATASETS_2D[name] for name in ("two moons", "eight Gaussians")}  # compiled already
    e = dv.diffusion_2d_explorer(jax.random.key(5), datasets=datasets, schedules=schedules, n_particles=N, dpi=40)
    assert set(e.controls) == {"dataset", "schedule", "t"} and e.controls["t"].max == T
    assert (e.simulation_count, e.render_count, len(simulator_calls)) == (1, 1, 1)
    assert simulator_calls[0]["trajectory"] is True
    # every data set was drawn when the explorer was built (its sampler compiled then, not on the
    # reader's first pick in the menu), and a later pick uses the same particles
    assert set(e._data) == set(datasets)
    drawn = {name: x0.copy() for name, (x0, _) in e._data.items()}
    first = shown_png(e)
    assert e.trajectory.shape == (T + 1, N, 2)
    np.testing.assert_array_equal(e.trajectory[0], e.x0)

    for t in (1, 30, T):
        e.controls["t"].value = t
        np.testing.assert_array_equal(e._scatter.get_offsets(), e.trajectory[t])
        assert e.title.startswith(f"t = {t}:")
    assert (e.simulation_count, e.render_count, len(simulator_calls)) == (1, 4, 1)
    assert shown_png(e) != first

    e.controls["dataset"].value = "eight Gaussians"  # new data: simulate once
    assert (e.simulation_count, e.render_count) == (2, 5)
    np.testing.assert_array_equal(e.x0, drawn["eight Gaussians"])
    np.testing.assert_array_equal(e._scatter.get_offsets(), e.trajectory[T])
    e.controls["schedule"].value = "cosine"  # new schedule: simulate once
    assert (e.simulation_count, e.render_count) == (3, 6)
    e.controls["t"].value = 10
    e.controls["schedule"].value = "linear"  # back to a cached setting: no simulation
    e.controls["dataset"].value = "two moons"
    assert (e.simulation_count, e.render_count, len(simulator_calls)) == (3, 9, 3)
    # the same chain key for every setting: the noise is shared, the schedule is not
    assert e.title.startswith("t = 10:") and f"{host_abar(schedule, 10):.3f}" in e.title


def test_diffusion_explorer_refuses_mismatched_schedules():
    with pytest.raises(ValueError, match="same T"):
        dv.diffusion_2d_explorer(jax.random.key(0), schedules={"a": dv.linear_schedule(10), "b": dv.linear_schedule(20)})
    with pytest.raises(ValueError, match="dataset"):
        dv.diffusion_2d_explorer(jax.random.key(0), T=10, n_particles=50, dataset="spiral")


def test_score_field_explorer_precomputes_once_and_shows_the_exact_field(mixture, schedule, trajectories):
    traj = trajectories["eight Gaussians"]
    e = dv.score_field_explorer(mixture, schedule, trajectory=traj, grid_size=7, dpi=40)
    assert e.field_computations == 1 and e.render_count == 1
    first = shown_png(e)
    for field, t in (("score", 3), ("eps", 40), ("denoiser", 40), ("eps", 0), ("score", 0)):
        e.controls["field"].value = field
        e.controls["t"].value = t
        q = e.quiver
        x = jnp.asarray(np.stack([q.X, q.Y], 1), jnp.float32)
        if field == "score":
            exact = dv.mixture_score(schedule, mixture, x, t)
        elif field == "eps":
            exact = dv.optimal_eps(schedule, mixture, x, t) if t > 0 else jnp.zeros_like(x)
        else:
            exact = dv.optimal_denoiser(schedule, mixture, x, t) - x
        np.testing.assert_allclose(np.stack([q.U, q.V], 1), np.asarray(exact), rtol=2e-5, atol=1e-5)
        np.testing.assert_array_equal(e._particles.get_offsets(), traj[t])
        assert f"t = {t}," in e.title
    # 10 value changes, 3 of which set the field or t to the value it already had: 7 renders
    assert e.field_computations == 1 and e.render_count == 1 + 7
    assert shown_png(e) != first


def test_conditioning_explorer_redraws_from_fixed_draws():
    e = dv.gaussian_conditioning_explorer(jax.random.key(2), n=4000, rho=0.5, a=0.0, dpi=30)
    assert e.render_count == 1
    shown_png(e)
    e.sliders["rho"].value = -0.8
    e.sliders["a"].value = 1.2
    assert e.render_count == 3
    np.testing.assert_allclose(np.cov(e.samples.T), [[1, -0.8], [-0.8, 1]], atol=0.06)


def test_check_setup_lists_the_course_packages():
    found = dv.check_setup()
    assert list(found) == ["python", "jax", "jaxlib", "flax", "optax", "numpy", "matplotlib", "ipywidgets", "diffviz"]
    assert found["jax"] == jax.__version__ and found["diffviz"] == dv.__version__
