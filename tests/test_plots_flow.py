"""Chapter 12's figures: the interpolant player and explorer draw a x0 + s eps from the given
coefficients (checked against NumPy), the path figure draws the given paths and their chords."""

from __future__ import annotations

import base64

import ipywidgets as widgets
import numpy as np
import pytest
from figtools import alt_text_problem

import diffviz as dv

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def cloud():
    rng = np.random.default_rng(0)
    x0, eps = rng.standard_normal((300, 2)), rng.standard_normal((300, 2))
    ts = np.linspace(0.0, 1.0, 5)
    schedule = dv.linear_schedule(1000)
    coefs = {name: tuple(dv.interpolant_coefficients(name, ts, schedule))[:2] for name in ("linear", "cosine", "vp")}
    return x0, eps, ts, coefs


def test_interpolant_player_draws_a_x0_plus_s_eps_per_frame(cloud, captured_player):
    # Planted bug caught: the panels drawing s x0 + a eps (the roles swapped).
    x0, eps, ts, coefs = cloud
    dv.interpolant_scrubber_html(x0, eps, ts, coefs)
    ((fig, draw, n),) = captured_player
    assert n == len(ts) and len(fig.axes) == 4
    assert alt_text_problem(captured_player.alts[0]) is None and "linear, cosine, vp" in captured_player.alts[0]
    for k in (0, 2, 4):
        draw(k)
        for ax, name in zip(fig.axes[:3], coefs):
            (pts,) = [c for c in ax.collections if c.get_gid() == "x_t"]
            a, s = coefs[name]
            np.testing.assert_allclose(pts.get_offsets(), a[k] * x0 + s[k] * eps, rtol=1e-5, atol=1e-6)
            assert ax.get_title().startswith(f"{name}: t = {ts[k]:.2f}")
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel()


def test_interpolant_explorer_switches_interpolant_and_time(cloud):
    x0, eps, ts, coefs = cloud
    e = dv.interpolant_explorer(x0, eps, ts, coefs, interpolant="cosine")
    assert isinstance(e.widget, widgets.VBox) and isinstance(e.selector, widgets.ToggleButtons)
    assert e.render_count == 1 and e.interpolant == "cosine" and e.t == 0.0
    e.slider.value = 2
    e.selector.value = "vp"
    assert e.render_count == 3 and e.title.startswith("vp: t = 0.50")
    (pts,) = [c for c in e.figure.axes[0].collections if c.get_gid() == "x_t"]
    a, s = coefs["vp"]
    np.testing.assert_allclose(pts.get_offsets(), a[2] * x0 + s[2] * eps, rtol=1e-5, atol=1e-6)
    (bundle,) = e.output.outputs
    assert base64.b64decode(bundle["data"]["image/png"]).startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match="interpolant must be one of"):
        dv.interpolant_explorer(x0, eps, ts, coefs, interpolant="ddpm")


def test_interpolant_figures_reject_bad_input(cloud):
    x0, eps, ts, coefs = cloud
    with pytest.raises(ValueError, match="eps must have the shape of x0"):
        dv.interpolant_scrubber_html(x0, eps[:10], ts, coefs)
    with pytest.raises(ValueError, match=r"coefficients\['linear'\] must be \(a, s\)"):
        dv.interpolant_scrubber_html(x0, eps, ts, {"linear": (ts[:2], ts[:2])})
    with pytest.raises(ValueError, match="ts must hold"):
        dv.interpolant_scrubber_html(x0, eps, [1.5], coefs)
    with pytest.raises(ValueError, match="at least 2 times"):
        dv.interpolant_scrubber_html(x0, eps, ts[:1], {k: (a[:1], s[:1]) for k, (a, s) in coefs.items()})


def test_flow_paths_draw_the_paths_and_their_chords():
    # Planted bug caught: chords drawn from the start to the second state instead of the end.
    rng = np.random.default_rng(1)
    p = np.cumsum(rng.standard_normal((11, 20, 2)) * 0.2, axis=0)
    fig = dv.plot_flow_paths({"curved": p, "pair": p[[0, -1]]}, data=rng.standard_normal((50, 2)), num_paths=5)
    assert len(fig.axes) == 2
    ax = fig.axes[0]
    cols = {c.get_gid(): c for c in ax.collections}
    segs = cols["paths"].get_segments()
    assert len(segs) == 5
    np.testing.assert_allclose(segs[3], p[:, 3])
    chords = cols["chords"].get_segments()
    np.testing.assert_allclose(chords[3], np.stack([p[0, 3], p[-1, 3]]))
    np.testing.assert_allclose(cols["ends"].get_offsets(), p[-1, :5])
    assert ax.get_title() == "curved" and ax.get_xlabel()
    with pytest.raises(ValueError, match="S >= 2"):
        dv.plot_flow_paths({"x": p[:1]})
    with pytest.raises(ValueError, match="num_paths"):
        dv.plot_flow_paths({"x": p}, num_paths=0)
