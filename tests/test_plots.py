"""The course figures: labelled axes, exact curves that really are exact, no leaked figures.

Curves are read back from the returned Figure (each carries a ``gid``) and compared with
densities computed independently here with ``scipy.stats`` and float64 arithmetic, not with
the package's own helpers.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from figtools import (  # tests/figtools.py
    artists,
    assert_floor_note_under_the_floor,
    assert_labelled,
    frame_pngs,
    frames_in,
    line,
)
from scipy import stats

import diffviz as dv

T = 60
BETA = 0.05


pytestmark = pytest.mark.usefixtures("no_leaked_figures")  # defined in conftest.py


@pytest.fixture(scope="module")
def mixture():
    return dv.mixture_1d("trimodal")  # unequal weights: a stricter check than a symmetric mixture


@pytest.fixture(scope="module")
def schedule():
    return dv.constant_schedule(BETA, T)


@pytest.fixture(scope="module")
def chains(mixture, schedule):
    """``(with shrink, random walk)`` trajectories ``(T+1, n, 1)`` from the same start and noise."""
    k_data, k_chain = jax.random.split(jax.random.key(7))
    x0 = dv.sample_mixture(k_data, mixture, 3000)
    drift = dv.run_forward_chain(k_chain, schedule, x0, trajectory=True)
    walk = dv.run_forward_chain(k_chain, schedule, x0, trajectory=True, drift=False)
    return np.asarray(drift), np.asarray(walk)


# --- helpers -----------------------------------------------------------------------------------


def mixture_pdf(mixture, x, *, scale=1.0, added_var=0.0):
    """sum_k w_k N(x; scale * mu_k, scale^2 s_k^2 + added_var), in float64 with scipy."""
    w = np.asarray(mixture.weights, np.float64)
    mu = np.asarray(mixture.means, np.float64)[:, 0]
    s = np.asarray(mixture.stds, np.float64)[:, 0]
    sd = np.sqrt(scale**2 * s**2 + added_var)
    return sum(wk * stats.norm.pdf(x, scale * mk, sk) for wk, mk, sk in zip(w, mu, sd, strict=True))


def data_variance(mixture) -> float:
    w = np.asarray(mixture.weights, np.float64)
    mu = np.asarray(mixture.means, np.float64)[:, 0]
    s = np.asarray(mixture.stds, np.float64)[:, 0]
    return float(np.sum(w * (s**2 + mu**2)) - np.sum(w * mu) ** 2)


# --- (a) snapshot ------------------------------------------------------------------------------


@pytest.mark.parametrize("t", [0, 1, 10, T])
def test_snapshot_draws_the_exact_diffused_density(mixture, schedule, chains, t):
    fig = dv.plot_diffusion_snapshot(chains[0][t], mixture, schedule, t)
    assert_labelled(fig, 1)
    x, y = line(fig, "exact-density")
    abar = (1 - BETA) ** t  # independent of the schedule's own arrays
    np.testing.assert_allclose(y, mixture_pdf(mixture, x, scale=np.sqrt(abar), added_var=1 - abar), rtol=2e-4, atol=1e-6)
    _, ref = line(fig, "standard-normal")
    np.testing.assert_allclose(ref, stats.norm.pdf(x), rtol=1e-6)
    title = fig.axes[0].get_title()
    assert f"t = {t}" in title and "β = 0.05" in title and f"ᾱₜ = {abar:.3f}" in title


def test_snapshot_histogram_is_the_particle_density(mixture, schedule, chains):
    x_t = chains[0][10][:, 0]
    fig = dv.plot_diffusion_snapshot(x_t, mixture, schedule, 10, bins=50, x_range=(-5.0, 5.0))
    (hist,) = artists(fig, "particles")
    data = hist.get_data()
    counts, edges = np.histogram(x_t, np.linspace(-5, 5, 51))
    np.testing.assert_allclose(data.edges, edges)
    np.testing.assert_allclose(data.values, counts / (x_t.size * 0.2))  # a density: area = fraction of particles
    assert fig.axes[0].get_xlim() == (-5.0, 5.0)


@pytest.mark.parametrize("t", [0, 20, T])
def test_random_walk_density_has_variance_var0_plus_t_beta(mixture, schedule, chains, t):
    fig = dv.plot_diffusion_snapshot(chains[1][t], mixture, schedule, t, drift=False)
    assert_labelled(fig, 1)
    x, y = line(fig, "exact-density")
    np.testing.assert_allclose(y, mixture_pdf(mixture, x, added_var=t * BETA), rtol=2e-4, atol=1e-6)
    # the plotted curve itself, integrated numerically, has the random walk's variance
    mass = np.trapezoid(y, x)
    mean = np.trapezoid(x * y, x) / mass
    variance = np.trapezoid((x - mean) ** 2 * y, x) / mass
    assert mass == pytest.approx(1.0, abs=1e-4)
    assert variance == pytest.approx(data_variance(mixture) + t * BETA, rel=2e-3)
    stats_text = next(iter(artists(fig, "stats"))).get_text()
    assert f"{data_variance(mixture) + t * BETA:8.3f}" in stats_text
    assert fig.axes[0].get_title().startswith("random walk")


def test_random_walk_mixture_keeps_means_and_adds_the_summed_betas(mixture):
    schedule = dv.schedule_from_betas(jnp.array([0.1, 0.2, 0.05]))
    for t, added in [(0, 0.0), (1, 0.1), (3, 0.35)]:
        walk = dv.random_walk_mixture(schedule, mixture, t)
        np.testing.assert_allclose(walk.means, mixture.means)
        np.testing.assert_allclose(walk.weights, mixture.weights)
        np.testing.assert_allclose(np.asarray(walk.stds) ** 2, np.asarray(mixture.stds) ** 2 + added, rtol=1e-6)
    with pytest.raises(ValueError, match="t"):
        dv.random_walk_mixture(schedule, mixture, 4)


def test_random_walk_mixture_matches_the_simulated_walk(mixture, schedule, chains):
    walk = dv.random_walk_mixture(schedule, mixture, T)
    # Kolmogorov-Smirnov against the exact CDF of the random walk's mixture
    w = np.asarray(walk.weights)
    mu, sd = np.asarray(walk.means)[:, 0], np.asarray(walk.stds)[:, 0]
    cdf = lambda x: sum(wk * stats.norm.cdf(x, mk, sk) for wk, mk, sk in zip(w, mu, sd, strict=True))
    assert stats.kstest(chains[1][T][:, 0], cdf).pvalue > 1e-3


def test_snapshot_rejects_bad_input(mixture, schedule, chains):
    with pytest.raises(ValueError, match="x_t"):
        dv.plot_diffusion_snapshot(np.zeros((10, 2)), mixture, schedule, 1)
    with pytest.raises(ValueError, match="1-D GaussianMixture"):
        dv.plot_diffusion_snapshot(chains[0][1], dv.eight_gaussians_mixture(), schedule, 1)
    with pytest.raises(ValueError, match="t"):
        dv.plot_diffusion_snapshot(chains[0][1], mixture, schedule, T + 1)


# --- small multiples and the jshtml player -------------------------------------------------------


def test_snapshot_grid_has_one_exact_panel_per_beta_and_t(mixture, chains):
    ts = (0, 5, T)
    fig = dv.plot_snapshot_grid({BETA: chains[0], 0.2: chains[0]}, mixture, ts)  # the density depends only on beta
    assert_labelled(fig, 6)
    curves = artists(fig, "exact-density")
    assert len(curves) == 6
    for row, beta in enumerate((BETA, 0.2)):
        for col, t in enumerate(ts):
            curve = curves[row * len(ts) + col]
            abar = (1 - beta) ** t
            x = np.asarray(curve.get_xdata(), np.float64)
            expected = mixture_pdf(mixture, x, scale=np.sqrt(abar), added_var=1 - abar)
            np.testing.assert_allclose(curve.get_ydata(), expected, rtol=2e-4, atol=1e-6)
            assert f"t = {t}" in fig.axes[row * len(ts) + col].get_title()
    assert fig.get_suptitle().startswith(r"Rows: $\beta$; columns: step $t$")
    one_row = dv.plot_snapshot_grid({0.03: chains[0]}, mixture, ts)  # one beta: the title names it instead of rows
    assert one_row.get_suptitle().startswith(r"$\beta = 0.03$; columns: step $t$")


def test_scrubber_html_embeds_one_frame_per_step_and_stays_small(mixture, schedule, chains):
    html = dv.snapshot_scrubber_html(chains[0], mixture, schedule)  # the defaults: 40 frames
    expected = len(np.unique(np.round(np.linspace(0, T, 40)).astype(int)))
    assert frames_in(html) == expected <= 40
    assert len(html.encode()) < 2_000_000
    assert "<script" in html and "animation" in html.lower()


def test_scrubber_html_frame_count_follows_num_frames(mixture, schedule, chains):
    html = dv.snapshot_scrubber_html(chains[1][:11], mixture, schedule, drift=False, num_frames=6)
    assert frames_in(html) == 6  # steps 0, 2, 4, 6, 8, 10


# --- (b) particle paths --------------------------------------------------------------------------


@pytest.mark.parametrize("which", [0, 1])
def test_particle_paths_draw_the_given_trajectories(mixture, schedule, chains, which):
    traj = chains[which]
    fig = dv.plot_particle_paths(traj, schedule, mixture, drift=which == 0, num_paths=4, num_background=50)
    assert_labelled(fig, 1)
    for i in range(4):
        x, y = line(fig, f"path-{i}")
        np.testing.assert_array_equal(x, np.arange(T + 1))
        np.testing.assert_allclose(y, traj[:, i, 0])
    band = artists(fig, "exact-band")[0]
    top = band.get_paths()[0].vertices[:, 1].max()
    t = np.arange(T + 1)
    v0 = data_variance(mixture)
    var_t = v0 + t * BETA if which else 1 + (1 - BETA) ** t * (v0 - 1)
    assert top == pytest.approx(2 * np.sqrt(var_t.max()), rel=1e-3)  # widest point of mean (0) + 2 std
    assert "T = 60" in fig.axes[0].get_title().replace("$", "")


# --- (c) schedules and (d) prior KL --------------------------------------------------------------


def test_plot_schedules_draws_alpha_bar_snr_and_noise():
    schedules = {"linear": dv.linear_schedule(200), "cosine": dv.cosine_schedule(200)}
    fig = dv.plot_schedules(schedules)
    assert_labelled(fig, 3)
    assert fig.axes[1].get_yscale() == "log"
    for name, s in schedules.items():
        betas = np.asarray(s.betas, np.float64)[1:]
        abar = np.cumprod(1 - betas)
        t, y = line(fig, f"alpha_bar:{name}")
        np.testing.assert_array_equal(t, np.arange(1, 201))
        np.testing.assert_allclose(y, abar, rtol=1e-5, atol=1e-9)  # float32 storage
        np.testing.assert_allclose(line(fig, f"noise:{name}")[1], 1 - abar, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(line(fig, f"snr:{name}")[1], abar / (1 - abar), rtol=1e-3)
    assert "T = 200" in fig.get_suptitle()


def prior_kl_by_hand(abar: float, x0: float) -> float:
    return 0.5 * (abar * x0**2 - abar - np.log1p(-abar))


def test_plot_prior_kl_matches_prior_kl_and_the_formula():
    fns = {"linear": dv.linear_schedule, "constant": lambda T: dv.constant_schedule(0.02, T)}
    T_values = [10, 50, 200, 1000]
    fig = dv.plot_prior_kl(fns, T_values, x0=1.5, marks=[("linear", 50)], floor=1e-9)
    assert_labelled(fig, 1)
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_yscale() == "log"
    for name, fn in fns.items():
        T_drawn, kl = line(fig, f"kl:{name}")
        np.testing.assert_array_equal(T_drawn, T_values)
        direct = [max(float(dv.prior_kl(fn(T), jnp.array([1.5]))), 1e-9) for T in T_values]
        np.testing.assert_allclose(kl, direct, rtol=1e-5)
        by_hand = [max(prior_kl_by_hand(float(np.prod(1 - np.asarray(fn(T).betas, np.float64))), 1.5), 1e-9) for T in T_values]
        np.testing.assert_allclose(kl, by_hand, rtol=2e-3, atol=1e-7)  # float32 resolution
    # the T = 50 linear mark: alpha_bar_50 = 0.60 and the KL annotated next to it
    notes = [t.get_text() for t in fig.axes[0].texts]
    assert any("T = 50" in n and "0.60" in n for n in notes)
    assert_floor_note_under_the_floor(fig.axes[0], 1e-9)


def test_plot_schedule_grid_one_panel_per_T():
    fns = {"linear": dv.linear_schedule, "cosine": dv.cosine_schedule}
    fig = dv.plot_schedule_grid(fns, [20, 100])
    assert_labelled(fig, 2)
    for T_ in (20, 100):
        frac, abar = line(fig, f"alpha_bar:linear:{T_}")
        np.testing.assert_allclose(frac, np.arange(T_ + 1) / T_)
        np.testing.assert_allclose(abar, np.asarray(dv.linear_schedule(T_).alpha_bars), rtol=1e-6)


# --- the schedule explorer's kernel-free counterpart: a player over T ----------------------------


def test_schedule_scrubber_draws_every_schedule_at_each_T(captured_player):
    fns = {"linear": dv.linear_schedule, "cosine": dv.cosine_schedule}
    T_values = [30, 10, 200]  # frames in the order given
    dv.schedule_scrubber_html(fns, T_values, x0=1.5, num_T=5)
    ((fig, draw, n),) = captured_player
    assert n == 3
    assert_labelled(fig, 3)
    assert fig.axes[1].get_yscale() == "log" and fig.axes[2].get_xscale() == "log"
    for i, T_ in enumerate(T_values):
        draw(i)
        for name, fn in fns.items():
            betas = np.asarray(fn(T_).betas, np.float64)[1:]
            abar = np.cumprod(1 - betas)  # float64, independent of the package's alpha_bars
            t, y = line(fig, f"alpha_bar:{name}")
            np.testing.assert_array_equal(t, np.arange(1, T_ + 1))
            np.testing.assert_allclose(y, abar, rtol=1e-5, atol=1e-9)
            np.testing.assert_allclose(line(fig, f"noise:{name}")[1], 1 - abar, rtol=1e-4, atol=1e-7)
            snr = np.maximum(abar / (1 - abar), 1e-8)
            np.testing.assert_allclose(line(fig, f"snr:{name}")[1], snr, rtol=2e-3)
            mark_T, mark_kl = line(fig, f"mark:{name}")
            assert mark_T.tolist() == [T_]
            np.testing.assert_allclose(mark_kl, max(prior_kl_by_hand(abar[-1], 1.5), 1e-8), rtol=2e-3, atol=1e-7)
        assert f"T = {T_} steps" in fig.get_suptitle()
        assert fig.axes[0].get_xlim()[1] == T_ + 1
        for ax in fig.axes[1:]:  # the SNR and the KL are drawn at 1e-8 at least
            assert_floor_note_under_the_floor(ax, 1e-8)
    # the fixed KL curves: prior_kl at log-spaced T from 10 to 200, and at every frame's T
    T_curve, kl = line(fig, "kl:linear")
    assert {10, 30, 200} <= set(T_curve.astype(int).tolist())
    direct = [max(float(dv.prior_kl(dv.linear_schedule(int(T_)), jnp.array([1.5]))), 1e-8) for T_ in T_curve]
    np.testing.assert_allclose(kl, direct, rtol=1e-5)


def test_schedule_scrubber_html_has_one_distinct_frame_per_T():
    fns = {"linear": dv.linear_schedule, "constant": lambda T: dv.constant_schedule(0.02, T)}
    html = dv.schedule_scrubber_html(fns, [10, 40, 160, 640], dpi=30)
    frames = frame_pngs(html)
    assert len(frames) == 4 and len(set(frames)) == 4  # one per T, and no two alike
    assert "<script" in html and len(html.encode()) < 1_000_000


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"T_values": [50]}, "T_values"),  # a single frame: nothing to scrub
        ({"T_values": [50, 50]}, "T_values"),
        ({"T_values": [0, 10]}, "T_values"),
        ({"T_values": [10.0, 20.0]}, "T_values"),
        ({"schedule_fns": {}}, "schedule_fns"),
        ({"num_T": 1}, "num_T"),
        ({"floor": 0.0}, "floor"),
    ],
)
def test_schedule_scrubber_rejects_bad_input(kwargs, name):
    args = {"schedule_fns": {"linear": dv.linear_schedule}, "T_values": [10, 20]} | kwargs
    with pytest.raises(ValueError, match=name):
        dv.schedule_scrubber_html(**args)


# --- (e) closed form vs simulation ---------------------------------------------------------------


@pytest.fixture(scope="module")
def from_one_point():
    """20,000 chains from x0 = 1.5 with beta = 0.05: x_t for every t up to 10."""
    schedule = dv.constant_schedule(0.05, 10)
    return np.asarray(dv.run_forward_chain(jax.random.key(3), schedule, jnp.full((20_000, 1), 1.5), trajectory=True))


def test_closed_form_check_draws_the_right_and_the_wrong_formula(from_one_point):
    fig = dv.plot_closed_form_check(from_one_point[10], 1.5, 0.05, 10)
    assert_labelled(fig, 1)
    x, y = line(fig, "closed-form")
    abar = 0.95**10
    np.testing.assert_allclose(y, stats.norm.pdf(x, np.sqrt(abar) * 1.5, np.sqrt(1 - abar)), rtol=1e-4)
    xs, ys = line(fig, "seed-formula")
    np.testing.assert_allclose(ys, stats.norm.pdf(xs, np.sqrt(0.95**10) * 1.5, np.sqrt(0.05**10)), rtol=1e-6, atol=1e-300)
    assert ys.max() > 1e5 > fig.axes[0].get_ylim()[1]  # the seed's curve is a spike far off the chart
    assert any("spike" in t.get_text() for t in fig.axes[0].texts)
    # the simulated chain agrees with the closed form, not with the seed's formula
    samples = from_one_point[10][:, 0]
    assert stats.kstest(samples, stats.norm(np.sqrt(abar) * 1.5, np.sqrt(1 - abar)).cdf).pvalue > 1e-3
    title = fig.axes[0].get_title()
    assert "t = 10" in title and "0.599" in title


def test_closed_form_and_seed_formula_agree_at_t_1(from_one_point):
    fig = dv.plot_closed_form_check(from_one_point[1], 1.5, 0.05, 1)
    x, correct = line(fig, "closed-form")
    xs, seed = line(fig, "seed-formula")
    np.testing.assert_allclose(np.interp(x, xs, seed), correct, rtol=1e-5, atol=1e-12)
