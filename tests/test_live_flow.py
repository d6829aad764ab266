"""Chapter 12's kernel-free interpolant explorer (diffviz.interpolant_live).

The browser set-up and the host page are test_live's. What the front-end computes must agree
with diffviz: a(t) and s(t) of every interpolant (dv.interpolant_coefficients, float32; VP with
the schedule's continuous alpha-bar) at many times, to 1e-5 relative, and the particles' x_t,
their mean and variance, to the stored x0 and eps combined in NumPy.
"""

from __future__ import annotations

import base64
import json

import jax
import numpy as np
import pytest
from test_live import (  # noqa: F401  (chromium: a fixture)
    assert_fallback_shows_without_javascript,
    assert_fits,
    chromium,
    draws,
    host_page,
    one_page_book,
    opened,
    self_contained_fallback_alt,
    wait_redrawn,
)

import diffviz as dv
from diffviz.viz import live, live_2d

RTOL = 1e-5
TIMES = [0.0, 0.0003, 0.001, 0.0105, 0.07, 0.25, 0.3, 0.5, 0.777, 0.999, 1.0]  # where a(t), s(t) are compared
NAMES = ("linear", "cosine", "vp")


@pytest.fixture(scope="module")
def explorer():
    return dv.interpolant_live(jax.random.key(12), t=0.5)


def decode(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype="<i2").astype(np.float32) * np.float32(live_2d.SCALE)


# --- what diffviz says ----------------------------------------------------------------------------


def python_coefficients(name: str, times=TIMES) -> np.ndarray:
    c = dv.interpolant_coefficients(name, np.asarray(times, np.float32), dv.linear_schedule(1000))
    return np.stack([np.asarray(c.a, np.float64), np.asarray(c.s, np.float64)], axis=-1)  # (len(times), 2)


def assert_coefficients_agree(snap: dict) -> None:
    for name in NAMES:
        got, want = np.asarray(snap["coefficients"][name]), python_coefficients(name)
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-7, err_msg=name)
    a, s = python_coefficients(snap["interpolant"], [snap["t"]])[0]
    assert (snap["a"], snap["s"]) == pytest.approx((a, s), rel=RTOL, abs=1e-7)


def assert_particles_agree(snap: dict, explorer, frame=None) -> None:
    a, s = python_coefficients(snap["interpolant"], [snap["t"]])[0]
    x = a * explorer.x0.astype(np.float64) + s * explorer.eps.astype(np.float64)
    assert snap["particleMean"] == pytest.approx(x.mean(0).tolist(), rel=RTOL, abs=1e-6)
    assert snap["particleVariance"] == pytest.approx(x.var(0).tolist(), rel=RTOL)
    if frame is not None:
        got = frame.evaluate("i => window.diffvizLive.particles(i)", [0, 17, 9999])
        np.testing.assert_allclose(got, x[[0, 17, 9999]], rtol=RTOL, atol=1e-6)


def test_agreement_check_can_fail(explorer):
    snap = {"interpolant": "vp", "t": 0.3, "coefficients": {n: python_coefficients(n).tolist() for n in NAMES}}
    snap["a"], snap["s"] = python_coefficients("vp", [0.3])[0].tolist()
    assert_coefficients_agree(snap)
    bad = json.loads(json.dumps(snap))
    bad["coefficients"]["vp"][4][1] *= 1 + 3e-5  # s(0.07) of VP a little off
    with pytest.raises(AssertionError):
        assert_coefficients_agree(bad)
    with pytest.raises(AssertionError):
        assert_coefficients_agree({**snap, "t": 0.31})
    x = explorer.x_t("vp", 0.3)
    moments = {**snap, "particleMean": x.mean(0).tolist(), "particleVariance": x.var(0).tolist()}
    assert_particles_agree(moments, explorer)
    with pytest.raises(AssertionError):
        assert_particles_agree({**moments, "particleVariance": [v * (1 + 3e-5) for v in moments["particleVariance"]]}, explorer)


# --- Python side ----------------------------------------------------------------------------------


def test_payload_is_the_data_and_one_noise_draw(explorer):
    p = json.loads(json.dumps(explorer.payload))
    shown = (p["dataset"], p["interpolants"], p["interpolant"], p["t"], p["schedule"], p["T"])
    assert shown == ("two moons", list(NAMES), "linear", 0.5, "linear", 1000)
    data_key, noise_key = jax.random.split(jax.random.key(12))
    x0, eps = decode(p["x0"]).reshape(-1, 2), decode(p["eps"]).reshape(-1, 2)
    np.testing.assert_array_equal(x0, explorer.x0)  # what Python keeps is what the page decodes
    np.testing.assert_array_equal(eps, explorer.eps)
    np.testing.assert_allclose(x0, np.asarray(dv.sample_moons(data_key, 10_000)), atol=live_2d.SCALE / 2)
    np.testing.assert_allclose(eps, np.asarray(jax.random.normal(noise_key, (10_000, 2))), atol=live_2d.SCALE / 2)
    # the VP schedule the browser rebuilds is the chapter's dv.linear_schedule(1000)
    s = dv.linear_schedule(1000)
    assert (p["beta_start"], p["beta_end"]) == pytest.approx((float(s.betas[1]), float(s.betas[-1])), rel=1e-6)


def test_x_t_is_the_interpolant_of_the_stored_pairs(explorer):
    for name, t in (("linear", 0.0), ("cosine", 0.4), ("vp", 0.3), ("vp", 1.0)):
        want = dv.interpolate(name, explorer.x0, explorer.eps, t, dv.linear_schedule(1000))
        np.testing.assert_allclose(explorer.x_t(name, t), np.asarray(want), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"interpolant": "ve"}, "interpolant"),
        ({"interpolant": None}, "interpolant"),
        ({"t": 1.01}, "t"),
        ({"t": -0.1}, "t"),
        ({"t": float("nan")}, "t"),
        ({"dataset": "spiral"}, "dataset"),
        ({"schedule": "sigmoid"}, "schedule"),
        ({"n": 0}, "n"),
        ({"T": 0}, "T"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(options, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        dv.interpolant_live(jax.random.key(0), **{"n": 50, **options})


def test_refuses_a_missing_key():
    with pytest.raises(ValueError, match=r"^key "):
        dv.interpolant_live(None, n=50)


def test_page_is_self_contained_light_and_described(explorer):
    alt = self_contained_fallback_alt(explorer, scripts=5)
    assert "10,000" in alt and "t = 0.50" in alt and "linear" in alt
    assert len(explorer.html.encode()) < 400_000, f"{len(explorer.html.encode()) / 1e3:.0f} kB"


def test_output_is_reproducible(explorer):
    assert dv.interpolant_live(jax.random.key(12), t=0.5).html == explorer.html


# --- in a browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def url(explorer, tmp_path_factory):
    return host_page(explorer.html, tmp_path_factory.mktemp("live_flow") / "ch12.html")


def picture(frame) -> str:
    return frame.evaluate("() => document.querySelector('.plot canvas').toDataURL()")


def snap(frame) -> dict:
    return frame.evaluate("times => window.diffvizLive.snapshot(times)", TIMES)


@pytest.mark.browser
def test_numbers_agree_and_every_control_changes_the_picture(chromium, url, explorer):  # noqa: F811
    with opened(chromium, url) as (page, frame, errors, foreign):
        first = snap(frame)
        assert (first["interpolant"], first["t"]) == ("linear", 0.5)
        assert_coefficients_agree(first)
        assert_particles_agree(first, explorer, frame)
        for key, t in (("ArrowRight", 0.51), ("ArrowLeft", 0.5), ("Home", 0.0), ("End", 1.0)):
            before, n = picture(frame), draws(frame)
            frame.focus("#s-t")
            page.keyboard.press(key)
            wait_redrawn(frame, n)
            s = snap(frame)
            assert s["t"] == pytest.approx(t) and picture(frame) != before, key
            assert_particles_agree(s, explorer, frame)
        for _ in range(70):
            page.keyboard.press("ArrowLeft")  # t = 0.30
        for name in ("vp", "cosine"):
            before, n = picture(frame), draws(frame)
            frame.select_option("#s-interpolant", name)
            wait_redrawn(frame, n)
            s = snap(frame)
            assert (s["interpolant"], s["t"]) == (name, pytest.approx(0.3)) and picture(frame) != before
            assert_coefficients_agree(s)
            assert_particles_agree(s, explorer, frame)
        readout = frame.locator(".title").inner_text()
        assert "a(t) = 0.891" in readout and "s(t) = 0.454" in readout, readout  # cos, sin of 0.15 pi
        # touch: a tap near the left end of the slider's track
        before, n = picture(frame), draws(frame)
        box = frame.locator("#s-t").bounding_box()
        page.touchscreen.tap(box["x"] + 0.1 * box["width"], box["y"] + box["height"] / 2)
        wait_redrawn(frame, n)
        assert 0.0 < snap(frame)["t"] < 0.25 and picture(frame) != before
        assert errors == [] and foreign == []


@pytest.mark.browser
def test_fits_a_360px_column(chromium, url):  # noqa: F811
    with opened(chromium, url, width=360) as (page, frame, errors, foreign):
        assert_fits(page, frame, 360)
        assert errors == [] and foreign == []


@pytest.mark.browser
@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"t": 3.0}, ("linear", 1.0)),
        ({"t": -0.5}, ("linear", 0.0)),
        ({"t": "NaN"}, ("linear", 0.0)),
        ({"t": None}, ("linear", 0.0)),
        ({"interpolant": "ve"}, ("linear", 0.5)),
    ],
)
def test_out_of_range_saved_state_is_clamped_and_flagged(chromium, explorer, tmp_path, bad, expected):  # noqa: F811
    saved = json.dumps({**explorer.payload, **bad})
    page_html = explorer.page.replace(live._script_safe(json.dumps(explorer.payload)), live._script_safe(saved))
    assert page_html != explorer.page
    output = explorer.html.replace(live.html.escape(explorer.page, quote=True), live.html.escape(page_html, quote=True))
    with opened(chromium, host_page(output, tmp_path / "saved.html")) as (_, frame, errors, _foreign):
        s = snap(frame)
        assert (s["interpolant"], s["t"]) == expected
        flag = frame.locator(".flag")
        assert flag.is_visible() and "saved state" in flag.inner_text()
        assert_coefficients_agree(s)
        assert_particles_agree(s, explorer)
        shown = frame.evaluate("() => [...document.querySelectorAll('.title, .stats, output')].map(e => e.textContent).join(' ')")
        assert "NaN" not in shown and "Infinity" not in shown, shown
        assert errors == []


@pytest.mark.browser
def test_without_javascript_the_static_picture_shows_with_its_alt_text(chromium, url, explorer):  # noqa: F811
    assert_fallback_shows_without_javascript(chromium, url, explorer.alt_text, min_width=250)


@pytest.mark.slow
@pytest.mark.browser
def test_live_in_a_one_page_jupyter_book_built_offline(chromium, explorer, tmp_path):  # noqa: F811
    """The book's route (test_live's one-page book): from file:, the slider answers, at 390 px too."""
    url = one_page_book(tmp_path, explorer.html, repr(explorer), "dv.interpolant_live(key)")
    for width in (1280, 390):
        with opened(chromium, url, width=width) as (page, frame, errors, foreign):
            n = draws(frame)
            frame.focus("#s-t")
            page.keyboard.press("ArrowRight")
            wait_redrawn(frame, n)
            assert snap(frame)["t"] == pytest.approx(0.51)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= width
            assert foreign == []
            assert [e for e in errors if "srcdoc" in e] == []  # (the bare book's theme logs errors of its own)
