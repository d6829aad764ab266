"""Figures of the learning chapters (6-8): labelled axes, drawn values equal to the inputs, no leaks.

Every figure is handed small known arrays and read back through the ``gid`` of its artists;
expected values (moving averages, weighted errors, densities) are recomputed here
independently, with NumPy and ``scipy.stats`` in float64. The slider widget is driven
without a kernel by setting its value.
"""

from __future__ import annotations

import base64
import re

import ipywidgets as widgets
import numpy as np
import pytest
from figtools import (  # tests/figtools.py
    artists,
    assert_floor_note_under_the_floor,
    assert_labelled,
    frames_in,
    line,
    offsets,
)
from scipy import stats

import diffviz as dv

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


pytestmark = pytest.mark.usefixtures("no_leaked_figures")  # defined in conftest.py


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(1234)


# --- helpers -----------------------------------------------------------------------------------


def eps_arrays(rng, ts, G=41):
    x = np.linspace(-2.0, 2.0, G)
    exact = np.stack([np.tanh((3.0 / t) * x) for t in ts])  # (K, G)
    learned = exact + 0.1 * rng.standard_normal(exact.shape)
    densities = np.stack([stats.norm.pdf(x, 0.0, 0.5 + 0.1 * t) for t in ts])
    return x, learned, exact, densities


# --- training figures --------------------------------------------------------------------------


def test_loss_curve_draws_every_step_and_a_trailing_moving_average(rng):
    losses = 0.3 + rng.random(500).astype(np.float32)
    fig = dv.plot_loss_curve(losses, smooth=50, floor=0.25)
    assert_labelled(fig, 1)
    x, y = line(fig, "raw")
    np.testing.assert_array_equal(x, np.arange(1, 501))
    np.testing.assert_allclose(y, losses, rtol=1e-6)
    x_s, y_s = line(fig, "smooth")
    np.testing.assert_array_equal(x_s, np.arange(50, 501))
    csum = np.concatenate([[0.0], np.cumsum(losses.astype(np.float64))])
    np.testing.assert_allclose(y_s, (csum[50:] - csum[:-50]) / 50, rtol=1e-9)  # mean of steps s-49..s
    _, floor = line(fig, "floor")
    assert np.all(floor == 0.25)
    assert fig.axes[0].get_yscale() == "log"


def test_loss_curve_compares_several_runs_and_clips_the_window(rng):
    runs = {"a": rng.random(30) + 0.1, "b": rng.random(80) + 0.1}
    fig = dv.plot_loss_curve(runs, smooth=40, log_y=False)
    assert_labelled(fig, 1)
    for name, values in runs.items():
        np.testing.assert_allclose(line(fig, f"raw:{name}")[1], values)
    x_a, y_a = line(fig, "smooth:a")  # window clipped to the run length: one point
    np.testing.assert_array_equal(x_a, [30])
    np.testing.assert_allclose(y_a, [runs["a"].mean()])
    assert line(fig, "smooth:b")[0].shape == (41,)
    assert "no artist" not in str(dv.plot_loss_curve(runs["a"], smooth=None).axes[0].get_lines())


def test_eps_small_multiples_draw_both_curves_per_t_with_the_weighted_error(rng):
    ts = (1, 10, 100, 1000)
    x, learned, exact, densities = eps_arrays(rng, ts)
    fig = dv.plot_eps_vs_exact(x, learned[:, :, None], exact, ts, densities=densities)
    assert_labelled(fig, len(ts))
    for k, t in enumerate(ts):
        xs, ys = line(fig, f"learned:{t}")
        np.testing.assert_allclose(xs, x)
        np.testing.assert_allclose(ys, learned[k])
        np.testing.assert_allclose(line(fig, f"exact:{t}")[1], exact[k])
        rms = np.sqrt(np.sum(densities[k] * (learned[k] - exact[k]) ** 2) / np.sum(densities[k]))
        assert f"t = {t}:" in fig.axes[k].get_title() and f"{rms:.3f}" in fig.axes[k].get_title()


def test_eps_small_multiples_without_densities_use_the_plain_rms(rng):
    ts = (5, 50)
    x, learned, exact, _ = eps_arrays(rng, ts)
    fig = dv.plot_eps_vs_exact(x, learned, exact, ts, ncols=1)
    assert_labelled(fig, 2)
    rms = np.sqrt(np.mean((learned[1] - exact[1]) ** 2))
    assert f"{rms:.3f}" in fig.axes[1].get_title()


def test_eps_figures_reject_mismatched_shapes(rng):
    x, learned, exact, _ = eps_arrays(rng, (1, 2))
    with pytest.raises(ValueError, match="learned must have shape"):
        dv.plot_eps_vs_exact(x, learned[:1], exact, (1, 2))
    with pytest.raises(ValueError, match="finite"):
        dv.plot_eps_vs_exact(x, learned, exact * np.nan, (1, 2))
    with pytest.raises(ValueError, match="shape of ts"):
        dv.plot_eps_error_by_t([1, 10], [0.1])


def test_eps_error_by_t_draws_each_curve(rng):
    ts = np.array([1, 10, 100, 1000])
    errors = {"init": rng.random(4) + 0.5, "trained": rng.random(4) * 0.1 + 0.01}
    fig = dv.plot_eps_error_by_t(ts, errors)
    assert_labelled(fig, 1)
    for name, e in errors.items():
        xs, ys = line(fig, f"error:{name}")
        np.testing.assert_array_equal(xs, ts)
        np.testing.assert_allclose(ys, e)
    assert fig.axes[0].get_xscale() == "log"


# --- the widget ----------------------------------------------------------------------------------


def test_eps_explorer_only_redraws_from_the_given_arrays(rng):
    ts = (1, 10, 100, 1000)
    x, learned, exact, densities = eps_arrays(rng, ts)
    explorer = dv.eps_explorer(x, learned, exact, ts, densities=densities)
    assert isinstance(explorer.widget, widgets.VBox)
    assert isinstance(explorer.slider, widgets.SelectionSlider) and list(explorer.slider.options) == list(ts)
    assert explorer.render_count == 1 and explorer.t == 1
    explorer.slider.value = 100  # observers run synchronously, no kernel needed
    assert explorer.render_count == 2 and explorer.title.startswith("t = 100:")
    panel_lines = {ln.get_gid(): ln for ln in explorer.figure.axes[0].get_lines()}
    np.testing.assert_allclose(panel_lines["learned:100"].get_ydata(), learned[2])
    np.testing.assert_allclose(panel_lines["exact:100"].get_ydata(), exact[2])
    rms = np.sqrt(np.sum(densities[2] * (learned[2] - exact[2]) ** 2) / np.sum(densities[2]))
    assert explorer.last_rms == pytest.approx(rms)
    (bundle,) = explorer.output.outputs
    png = base64.b64decode(bundle["data"]["image/png"])
    assert png.startswith(PNG_MAGIC) and png == explorer.last_png
    assert explorer.figure.axes[0].get_xlabel() and explorer.figure.axes[0].get_ylabel()
    with pytest.raises(ValueError, match="one of ts"):
        dv.eps_explorer(x, learned, exact, ts, t=7)


# --- the widget's kernel-free counterpart: a player over t ----------------------------------------


def test_eps_scrubber_draws_one_frame_per_t_from_the_given_arrays(rng, captured_player):
    ts = (1000, 10, 100)  # frames in the order given
    x, learned, exact, densities = eps_arrays(rng, ts)
    dv.eps_scrubber_html(x, learned, exact, ts, densities=densities)
    ((fig, draw, n),) = captured_player
    assert n == len(ts)
    assert_labelled(fig, 1)
    for k, t in enumerate(ts):
        draw(k)
        xs, ys = line(fig, f"learned:{t}")
        np.testing.assert_allclose(xs, x)
        np.testing.assert_allclose(ys, learned[k])
        np.testing.assert_allclose(line(fig, f"exact:{t}")[1], exact[k])
        rms = np.sqrt(np.sum(densities[k] * (learned[k] - exact[k]) ** 2) / np.sum(densities[k]))
        assert fig.axes[0].get_title() == f"t = {t}:  RMS error under q(xₜ) = {rms:.3f}"


def test_eps_scrubber_html_has_one_distinct_frame_per_t(rng):
    ts = (1, 10, 100, 1000)
    x, learned, exact, densities = eps_arrays(rng, ts)
    html = dv.eps_scrubber_html(x, learned, exact, ts, densities=densities, dpi=30)
    frames = re.findall(r'frames\[\d+\] = "data:image/png;base64,([^"]+)"', html)
    assert frames_in(html) == len(frames) == 4 and len(set(frames)) == 4
    assert "<script" in html and len(html.encode()) < 500_000


def test_eps_scrubber_rejects_bad_input(rng):
    x, learned, exact, _ = eps_arrays(rng, (1, 2))
    with pytest.raises(ValueError, match="ts must hold at least 2 distinct"):
        dv.eps_scrubber_html(x, learned[:1], exact[:1], (1,))
    with pytest.raises(ValueError, match="ts must hold at least 2 distinct"):
        dv.eps_scrubber_html(x, learned, exact, (2, 2))
    with pytest.raises(ValueError, match="learned must have shape"):
        dv.eps_scrubber_html(x, learned[:1], exact, (1, 2))
    with pytest.raises(ValueError, match="densities must be >= 0"):
        dv.eps_scrubber_html(x, learned, exact, (1, 2), densities=-np.ones_like(exact))


# --- sampling figures ----------------------------------------------------------------------------


def test_sample_histograms_show_the_sample_density_and_the_exact_data_density(rng):
    mixture = dv.mixture_1d("bimodal")
    samples = {"right": rng.normal(0.0, 1.0, 4000), "too narrow": rng.normal(0.0, 0.5, (4000, 1))}
    fig = dv.plot_sample_histograms(samples, mixture, bins=40)
    assert_labelled(fig, 2)
    for ax, (name, x) in zip(fig.axes, samples.items(), strict=True):
        (stairs,) = artists(fig, f"samples:{name}")
        edges = np.linspace(-3.0, 3.0, 41)
        counts, _ = np.histogram(np.ravel(x), edges)
        np.testing.assert_allclose(stairs.get_data().values, counts / (4000 * np.diff(edges)))
        grid, dens = line(fig, f"density:{name}")
        m, sd = float(np.float32(0.95)), float(np.float32(0.3))  # the mixture stores float32 parameters
        expected = 0.5 * stats.norm.pdf(grid, -m, sd) + 0.5 * stats.norm.pdf(grid, m, sd)
        np.testing.assert_allclose(dens, expected, rtol=1e-6)
        assert f"variance {np.var(x):.4f}" in ax.get_title() and "data 0.9925" in ax.get_title()


def test_samples_vs_data_scatter_the_given_points(rng):
    data = rng.standard_normal((500, 2))
    samples = {"DDPM": rng.standard_normal((300, 2)), "DDIM 10": rng.standard_normal((300, 2)) + 1}
    fig = dv.plot_samples_vs_data(samples, data, max_points=200)
    assert_labelled(fig, 3)
    np.testing.assert_allclose(offsets(fig, "data"), data[:200])
    for name, x in samples.items():
        np.testing.assert_allclose(offsets(fig, f"samples:{name}"), x[:200])
    assert fig.axes[0].get_xlim() == fig.axes[2].get_xlim()
    single = dv.plot_samples_vs_data(samples["DDPM"], data)
    np.testing.assert_allclose(offsets(single, "samples"), samples["DDPM"])
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        dv.plot_samples_vs_data(data[:, :1], data)


def test_samples_vs_data_keep_every_data_point_in_view_and_count_the_runaways(rng):
    data = rng.uniform(-2.0, 2.0, (500, 2))
    data[0] = (-2.5, 2.5)  # one data point on the edge of the cloud: it must stay in view
    good = rng.uniform(-1.5, 1.5, (1000, 2))
    runaway = good.copy()
    runaway[:3] = ((80.0, 0.0), (0.0, -120.0), (50.0, 50.0))  # three samples far out
    fig = dv.plot_samples_vs_data({"good": good, "runaway": runaway}, data)
    (x_lo, x_hi), (y_lo, y_hi) = fig.axes[0].get_xlim(), fig.axes[0].get_ylim()
    assert x_lo < -2.5 and y_hi > 2.5 and x_hi < 5 and y_lo > -5  # every data point, no runaway
    assert all(ax.get_xlim() == (x_lo, x_hi) and ax.get_ylim() == (y_lo, y_hi) for ax in fig.axes)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "data (500 points)" and titles[1] == "good (1,000 points)"
    assert titles[2] == "runaway (1,000 points)\n3 of them beyond the axes"


def test_every_2d_sample_picture_keeps_the_data_whole_and_leaves_runaways_out(rng, captured_player):
    """The scatter, the paths and the animation: all data in view, a runaway 60 units out is not."""
    data = rng.uniform(-2.0, 2.0, (300, 2))
    data[0] = (3.0, -3.0)  # one data point at the edge: 1 in 300, beyond the 99.5th percentile
    traj = 0.5 * rng.standard_normal((11, 300, 2))
    traj[:, 5] = (60.0, 0.0)  # a runaway, at every step
    figs = [
        dv.plot_samples_vs_data(traj[0], data),
        dv.plot_reverse_paths(traj, num_paths=2, data=data),
    ]
    dv.reverse_animation_html(traj, num_frames=3, data=data)
    figs.append(captured_player[0][0])
    for fig in figs:
        (_, x_hi), (y_lo, _) = fig.axes[0].get_xlim(), fig.axes[0].get_ylim()
        assert x_hi > 3.0 and y_lo < -3.0, "the edge data point is outside the axes"
        assert x_hi < 10.0, "the runaway sample stretched the axes"


def test_reverse_paths_1d_run_from_T_on_the_left_to_0(rng):
    traj = rng.standard_normal((21, 50, 1)).cumsum(axis=0)
    fig = dv.plot_reverse_paths(traj, num_paths=3, num_background=10)
    assert_labelled(fig, 1)
    for i in range(3):
        xs, ys = line(fig, f"path-{i}")
        np.testing.assert_array_equal(xs, np.arange(21))
        np.testing.assert_allclose(ys, traj[:, i, 0])
    assert fig.axes[0].get_xlim() == (20.0, 0.0)


def test_reverse_paths_2d_follow_the_points_in_the_plane(rng):
    traj = rng.standard_normal((11, 40, 2))
    ts = np.array([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000])
    fig = dv.plot_reverse_paths(traj, ts=ts, num_paths=4, data=rng.standard_normal((100, 2)))
    assert_labelled(fig, 1)
    for i in range(4):
        xs, ys = line(fig, f"path-{i}")
        np.testing.assert_allclose(xs, traj[:, i, 0])
        np.testing.assert_allclose(ys, traj[:, i, 1])
    np.testing.assert_allclose(offsets(fig, "samples"), traj[0, 4:])
    with pytest.raises(ValueError, match="increasing"):
        dv.plot_reverse_paths(traj, ts=ts[::-1])


@pytest.mark.parametrize(("rows", "num_frames", "expected"), [(11, 30, 11), (101, 30, 30), (101, 5, 5)])
def test_reverse_animation_has_the_expected_frames(rng, rows, num_frames, expected):
    traj = rng.standard_normal((rows, 200, 2))
    html = dv.reverse_animation_html(traj, num_frames=num_frames, data=rng.standard_normal((100, 2)), dpi=40)
    assert frames_in(html) == expected
    assert "<script" in html and len(html.encode()) < 1_500_000


def test_reverse_animation_refuses_1d_trajectories(rng):
    with pytest.raises(ValueError, match="2-D points"):
        dv.reverse_animation_html(rng.standard_normal((5, 10, 1)))


def test_quality_vs_steps_draws_each_sampler_and_the_floor():
    results = {"DDIM, eta = 0": ([10, 20, 50, 100], [0.2, 0.1, 0.05, 0.04]), "DDPM": ([1000], [0.03])}
    fig = dv.plot_quality_vs_steps(results, floor=0.02)
    assert_labelled(fig, 1)
    for name, (steps, values) in results.items():
        xs, ys = line(fig, f"quality:{name}")
        np.testing.assert_array_equal(xs, steps)
        np.testing.assert_allclose(ys, values)
    assert np.all(line(fig, "floor")[1] == 0.02)
    with pytest.raises(ValueError, match="same length"):
        dv.plot_quality_vs_steps({"x": ([1, 2], [0.1])})


# --- likelihood figures --------------------------------------------------------------------------


def test_bound_comparison_bars_are_the_values_with_a_bits_axis():
    values = {"exact eps*, beta": 0.95, "exact eps*, beta-tilde": 1.41, "network": 1.6}
    fig = dv.plot_bound_comparison(values, errors={"network": 0.03}, reference=0.94, dim=1)
    assert_labelled(fig, 1)
    for name, h in values.items():
        (bar,) = artists(fig, f"bar:{name}")
        assert bar.get_height() == pytest.approx(h)
    assert np.all(line(fig, "reference")[1] == 0.94)
    (secondary,) = fig.axes[0].child_axes
    assert "bits" in secondary.get_ylabel()


def test_bound_terms_and_their_running_share(rng):
    ts = np.arange(2, 101)
    terms = {"exact": 1.0 / ts**2, "network": 2.0 / ts**1.5}
    fig = dv.plot_bound_terms(ts, terms)
    assert_labelled(fig, 2)
    for name, vals in terms.items():
        xs, ys = line(fig, f"terms:{name}")
        np.testing.assert_array_equal(xs, ts)
        np.testing.assert_allclose(ys, vals)
        _, share = line(fig, f"cumulative:{name}")
        np.testing.assert_allclose(share, np.cumsum(vals) / vals.sum())
        assert share[-1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match=">= 0"):
        dv.plot_bound_terms(ts, -terms["exact"])
    with pytest.raises(ValueError, match=">= 2"):
        dv.plot_bound_terms(np.arange(1, 100), terms["exact"])


def test_bound_vs_T_adds_up_the_three_parts():
    T = np.array([10, 50, 200, 1000])
    linear = dv.BoundTerms(prior=np.array([1.2, 0.4, 0.07, 2e-9]), diffusion=np.array([3.2, 3.7, 4.0, 4.1]),
                           decoder=np.array([-3.2, -3.2, -3.2, -3.2]))  # fmt: skip
    fig = dv.plot_bound_vs_T(T, {"linear": linear}, nll=0.94, floor=1e-6)
    assert_labelled(fig, 2)
    xs, total = line(fig, "total:linear")
    np.testing.assert_array_equal(xs, T)
    np.testing.assert_allclose(total, linear.prior + linear.diffusion + linear.decoder)
    np.testing.assert_allclose(line(fig, "prior:linear")[1], [1.2, 0.4, 0.07, 1e-6])
    assert np.all(line(fig, "nll")[1] == 0.94)
    assert_floor_note_under_the_floor(fig.axes[1], 1e-6)
    with pytest.raises(ValueError, match="BoundTerms"):
        dv.plot_bound_vs_T(T, {"bad": {"prior": T}})
