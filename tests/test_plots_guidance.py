"""Chapter 13's figures, its guidance-scale explorer and the explorer's kernel-free twin."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import diffviz as dv

SCHEDULE = dv.linear_schedule(1000)
TOY = dv.labelled_toy("eight_gaussians")


@pytest.fixture(scope="module")
def explorer():
    return dv.guidance_explorer(jax.random.key(0), SCHEDULE, TOY, c=0, ws=(0, 1, 5), n=300, num_steps=8)


def test_explorer_samples_once_per_class_and_the_slider_only_redraws(explorer):
    assert explorer.sample_runs == 3 and len(explorer.samples) == 3
    renders = explorer.render_count
    explorer.controls["w"].value = 5.0
    assert explorer.render_count == renders + 1 and explorer.sample_runs == 3
    assert "w = 5" in explorer.title and "modes" in explorer.title
    assert explorer.last_png.startswith(b"\x89PNG")
    # the panel shows the samples of the chosen scale
    np.testing.assert_allclose(explorer._panel.scatter.get_offsets(), explorer.samples[2])
    explorer.controls["c"].value = 2
    assert explorer.sample_runs == 6 and "class 2" in explorer.title
    explorer.controls["c"].value = 0  # cached: no new sampling
    assert explorer.sample_runs == 6


def test_explorer_samples_are_the_guided_ode_and_guidance_shrinks_the_spread(explorer):
    w0, w5 = explorer.readouts[0], explorer.readouts[2]
    assert float(w5.spread) < float(w0.spread)
    x = dv.ode_sample(jax.random.key(0), dv.continuous_guided_eps_fn(SCHEDULE, TOY, 0, 1.0), SCHEDULE, (300, 2),
                      dv.power_time_grid(8)).samples  # fmt: skip
    np.testing.assert_allclose(explorer.samples[1], np.asarray(x), atol=1e-5)


def test_scrubber_has_one_frame_per_scale_and_alt_text(explorer):
    html = dv.guidance_scrubber_html(TOY, 0, explorer.ws, explorer.samples, readouts=explorer.readouts, dpi=40)
    assert html.count("frames[") >= len(explorer.ws) and 'alt="Guided samples of class 0' in html
    with pytest.raises(ValueError, match=r"^ws and samples"):
        dv.guidance_scrubber_html(TOY, 0, explorer.ws[:2], explorer.samples)


def test_figures_draw_what_they_say(explorer):
    fig = dv.plot_labelled_mixture(TOY, samples=np.zeros((4, 2)), labels=np.array([0, 1, 2, 2]))
    assert {a.get_gid() for a in fig.axes[0].collections} >= {"samples-0", "samples-1", "samples-2"}
    fig = dv.plot_noisy_classifier(SCHEDULE, TOY, [0, 300], c=1)
    mesh = next(a for a in fig.axes[0].collections if a.get_gid() == "classifier-t0")
    assert 0.0 <= mesh.get_array().min() and mesh.get_array().max() <= 1.0
    fig = dv.plot_noisy_classifier(SCHEDULE, dv.labelled_toy("bimodal"), [0, 300], c=1)
    x, y = fig.axes[0].get_lines()[0].get_data()
    np.testing.assert_allclose(np.interp(0.0, x, y), 0.5, atol=0.01)  # p(1 | 0) = 1/2 by symmetry
    fig = dv.plot_guided_samples(TOY, 0, explorer.ws, explorer.samples, readouts=explorer.readouts)
    assert len(fig.axes) == 3
    fig = dv.plot_guidance_readouts(explorer.ws, {"ode": explorer.readouts})
    assert len(fig.axes) == 4
    tilted = dv.tilted_density(TOY, 0, 1.0, grid_size=60)
    gap = dv.tilted_gap(jax.random.key(1), explorer.samples[1], tilted)
    fig = dv.plot_tilted_gap(TOY, 0, 1.0, tilted, explorer.samples[1], gap)
    mesh = next(a for a in fig.axes[2].collections if a.get_gid() == "mass-difference")
    np.testing.assert_allclose(np.asarray(mesh.get_array()).ravel(), np.asarray(gap.sample_mass - gap.density_mass).T.ravel(), atol=1e-6)
    with pytest.raises(ValueError, match=r"^c "):
        dv.plot_noisy_classifier(SCHEDULE, TOY, [0], c=3)
