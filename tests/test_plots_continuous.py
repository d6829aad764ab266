"""Chapter 11's figures: ODE against SDE paths, and the sampler family's samples by NFE.

Each figure is read back through its artists' ``gid`` (tests/figtools.py): the lines and points
drawn must be exactly the arrays given, frame by frame for the player and control by control
for the live explorer.
"""

from __future__ import annotations

import base64

import ipywidgets as widgets
import numpy as np
import pytest
from figtools import artist, assert_labelled, frames_in, line, offsets  # tests/figtools.py

import diffviz as dv

pytestmark = pytest.mark.usefixtures("no_leaked_figures")  # defined in conftest.py
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NFES = (10, 20, 50)


@pytest.fixture(scope="module")
def runs():
    rng = np.random.default_rng(11)
    samples = {"DDIM": rng.standard_normal((3, 200, 2)), "ODE Heun": rng.standard_normal((3, 200, 2)) * 0.5 + 1.0}
    scores = {"DDIM": np.array([3.0, 2.0, 1.1]), "ODE Heun": np.array([1.5, 1.2, 1.0])}
    return samples, scores


def test_ode_sde_paths_draw_the_given_paths_against_t():
    rng = np.random.default_rng(0)
    ts = np.linspace(1.0, 0.001, 11)
    ode, sde = rng.standard_normal((11, 30, 1)), rng.standard_normal((11, 30))
    fig = dv.plot_ode_sde_paths(ts, ode, sde, num_paths=3, num_background=10)
    assert_labelled(fig, 2)
    for i in range(3):
        np.testing.assert_allclose(line(fig, f"ode:{i}")[0], ts)
        np.testing.assert_allclose(line(fig, f"ode:{i}")[1], ode[:, i, 0])
        np.testing.assert_allclose(line(fig, f"sde:{i}")[1], sde[:, i])
    assert fig.axes[0].get_xlim() == (1.0, 0.001)  # time runs towards the data at the right
    with pytest.raises(ValueError, match="must both have shape"):
        dv.plot_ode_sde_paths(ts, ode, sde[:, :20])
    with pytest.raises(ValueError, match="ode_path must be a 1-D path"):
        dv.plot_ode_sde_paths(ts, rng.standard_normal((11, 30, 2)), sde)


def test_solver_scrubber_draws_every_sampler_at_each_nfe(runs, captured_player):
    samples, scores = runs
    eight = dv.eight_gaussians_mixture()
    dv.solver_scrubber_html(samples, NFES, eight, scores=scores, ncols=2)
    ((fig, draw, n),) = captured_player
    assert n == len(NFES)
    assert_labelled(fig, 2)
    for k, nfe in enumerate(NFES):
        draw(k)
        for ax, (label, arr) in zip(fig.axes, samples.items(), strict=True):
            points = [c for c in ax.collections if c.get_gid() == "samples"]
            assert len(points) == 1
            np.testing.assert_allclose(np.asarray(points[0].get_offsets()), arr[k])
            beyond = int(np.sum(np.max(np.abs(arr[k]), axis=1) > 2.6))
            assert ax.get_title().startswith(f"{label}\nNFE {nfe}, SW1 {scores[label][k]:.2f}x floor")
            assert (f"{beyond} beyond the axes" in ax.get_title()) == (beyond > 0)
    assert "NFE 10 to 50" in captured_player.alts[0]


def test_solver_scrubber_html_has_one_distinct_frame_per_nfe(runs):
    samples, scores = runs
    html = dv.solver_scrubber_html(samples, NFES, dv.eight_gaussians_mixture(), scores=scores, dpi=30)
    assert frames_in(html) == len(NFES) and "<script" in html


def test_solver_scrubber_rejects_bad_input(runs):
    samples, scores = runs
    eight = dv.eight_gaussians_mixture()
    with pytest.raises(ValueError, match=r"samples\['DDIM'\] must have shape"):
        dv.solver_scrubber_html({"DDIM": samples["DDIM"][:2]}, NFES, eight)
    with pytest.raises(ValueError, match="nfes must be distinct positive integers"):
        dv.solver_scrubber_html(samples, (10, 10, 50), eight)
    with pytest.raises(ValueError, match="scores must map the same labels"):
        dv.solver_scrubber_html(samples, NFES, eight, scores={"DDIM": scores["DDIM"]})
    with pytest.raises(ValueError, match="samples must be a non-empty mapping"):
        dv.solver_scrubber_html({}, NFES, eight)


def test_solver_explorer_only_redraws_from_the_given_samples(runs):
    samples, scores = runs
    explorer = dv.solver_explorer(samples, NFES, dv.eight_gaussians_mixture(), scores=scores)
    assert isinstance(explorer.widget, widgets.VBox)
    assert isinstance(explorer.sampler, widgets.Dropdown) and list(explorer.sampler.options) == list(samples)
    assert isinstance(explorer.slider, widgets.SelectionSlider) and list(explorer.slider.options) == list(NFES)
    assert explorer.render_count == 1 and explorer.title.startswith("DDIM\nNFE 10, SW1 3.00x floor")
    explorer.slider.value = 50  # observers run synchronously, no kernel needed
    explorer.sampler.value = "ODE Heun"
    assert explorer.render_count == 3 and explorer.title.startswith("ODE Heun\nNFE 50, SW1 1.00x floor")
    np.testing.assert_allclose(offsets(explorer.figure, "samples"), samples["ODE Heun"][2])
    (bundle,) = explorer.output.outputs
    png = base64.b64decode(bundle["data"]["image/png"])
    assert png.startswith(PNG_MAGIC) and png == explorer.last_png
    assert artist(explorer.figure, "density") is not None
    with pytest.raises(ValueError, match="must have shape"):
        dv.solver_explorer({"DDIM": samples["DDIM"][:, :, :1]}, NFES, dv.eight_gaussians_mixture())
