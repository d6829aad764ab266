"""Chapter 1's kernel-free conditioning explorer (diffviz.gaussian_conditioning_live).

The browser set-up, the host page and the checks every live explorer shares are test_live's. The
numbers the front-end computes (the conditional mean and variance, the formula's density at a few
points, the points in the slice and their mean x2, the histogram) must agree with Python's to 1e-5
relative; Python's closed form is checked against Bayes' rule on a grid (an independent route).
"""

from __future__ import annotations

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_live import (  # noqa: F401  (chromium: a fixture)
    assert_fallback_shows_without_javascript,
    chromium,
    decode,
    draws,
    host_page,
    one_page_book,
    opened,
    self_contained_fallback_alt,
    wait_redrawn,
)

import diffviz as dv
from diffviz.viz import live
from diffviz.viz.plots_gaussian import _conditional_gaussian

RTOL = 1e-5
XS = [-2.0, -0.4, 0.0, 0.8, 1.7]


@pytest.fixture(scope="module")
def explorer():
    return dv.gaussian_conditioning_live(jax.random.key(3), rho=0.8, a=1.0)


def python_numbers(explorer, rho: float, a: float) -> dict:
    """What diffviz says at (rho, a): the package's conditioning formula and the slice of its points."""
    mean, variance = _conditional_gaussian(np.zeros(2), np.array([[1.0, rho], [rho, 1.0]]), a)
    x = explorer.samples(rho)
    inside = np.abs(x[:, 0] - a) < explorer.width / 2
    xs = np.asarray(XS)
    return {
        "mean": mean,
        "variance": variance,
        "density": (np.exp(-0.5 * (xs - mean) ** 2 / variance) / np.sqrt(2 * np.pi * variance)).tolist(),
        "count": int(inside.sum()),
        "sliceMean": float(x[inside, 1].mean()),
        "x2": x[inside, 1],
    }


def assert_agrees(explorer, snap: dict) -> None:
    py = python_numbers(explorer, snap["rho"], snap["a"])
    assert snap["mean"] == pytest.approx(py["mean"], rel=RTOL, abs=1e-12)
    assert snap["variance"] == pytest.approx(py["variance"], rel=RTOL)
    assert snap["density"] == pytest.approx(py["density"], rel=RTOL)
    assert snap["count"] == py["count"]
    assert snap["sliceMean"] == pytest.approx(py["sliceMean"], rel=RTOL)
    edges = snap["lo"] + snap["bw"] * np.arange(snap["bins"] + 1)
    heights = np.histogram(py["x2"], edges)[0] / (py["count"] * snap["bw"])
    assert snap["hist"] == pytest.approx(heights.tolist(), rel=RTOL, abs=1e-9)


# --- Python side ---------------------------------------------------------------------------------


def test_payload_holds_the_draws_sorted_and_the_settings(explorer):
    p = json.loads(json.dumps(explorer.payload))
    z = np.asarray(jax.random.normal(jax.random.key(3), (10_000, 2), jnp.float32))  # the kernel widget's draws
    order = np.argsort(z[:, 0], kind="stable")
    np.testing.assert_array_equal(decode(p["z1"]), z[order, 0])
    np.testing.assert_array_equal(decode(p["z2"]), z[order, 1])
    assert (p["rho"], p["a"], p["width"], p["rho_max"], p["a_max"]) == (0.8, 1.0, 0.2, 0.95, 2.5)


@pytest.mark.parametrize(("rho", "a"), [(0.8, 1.0), (-0.55, 2.0), (0.0, -1.3), (0.95, 0.4)])
def test_closed_form_is_bayes_rule_on_a_grid(rho, a):
    """p(x2 | x1 = a) = p(a, x2) / p(a), with the joint density evaluated on a grid of x2."""
    x2 = np.linspace(-8, 8, 40_001)
    det = 1 - rho * rho
    joint = np.exp(-0.5 * (a * a - 2 * rho * a * x2 + x2 * x2) / det) / (2 * np.pi * math.sqrt(det))
    posterior = joint / np.trapezoid(joint, x2)
    mean = np.trapezoid(x2 * posterior, x2)
    variance = np.trapezoid((x2 - mean) ** 2 * posterior, x2)
    closed = dv.GaussianConditioningLive.conditional(rho, a)
    assert closed == pytest.approx((mean, variance), rel=1e-6, abs=1e-9)


def test_the_points_have_the_correlation_they_claim(explorer):
    for rho in (-0.9, 0.0, 0.5):
        x = explorer.samples(rho)
        r = np.corrcoef(x.T)[0, 1]
        assert abs(r - rho) < 4 * (1 - rho * rho) / math.sqrt(x.shape[0]) + 1e-3, (rho, r)


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"rho": 0.96}, "rho"),
        ({"rho": -1.0}, "rho"),
        ({"rho": float("nan")}, "rho"),
        ({"rho": "0.5"}, "rho"),
        ({"a": 3.0}, "a"),
        ({"a": float("inf")}, "a"),
        ({"width": 0.0}, "width"),
        ({"n": 0}, "n"),
        ({"rho_max": 1.0}, "rho_max"),
        ({"rho_max": 0.0}, "rho_max"),
        ({"a_max": -1.0}, "a_max"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(options, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        dv.gaussian_conditioning_live(jax.random.key(0), **{"n": 100, **options})


def test_refuses_a_missing_key():
    with pytest.raises(ValueError, match=r"^key "):
        dv.gaussian_conditioning_live(None, n=100)


def test_page_is_self_contained_with_a_described_fallback(explorer):
    alt = self_contained_fallback_alt(explorer)
    assert "10,000 samples" in alt and "rho = 0.80" in alt and "mean 0.80" in alt
    assert len(explorer.html.encode()) < 350_000
    again = dv.gaussian_conditioning_live(jax.random.key(3), rho=0.8, a=1.0)
    assert again.html == explorer.html


def test_agreement_check_can_fail(explorer):
    py = python_numbers(explorer, 0.8, 1.0)
    edges = -4.7 + 0.18 * np.arange(54)
    snap = {"rho": 0.8, "a": 1.0, **{k: py[k] for k in ("mean", "variance", "density", "count", "sliceMean")},
            "lo": -4.7, "bw": 0.18, "bins": 53, "hist": (np.histogram(py["x2"], edges)[0] / (py["count"] * 0.18)).tolist()}  # fmt: skip
    assert_agrees(explorer, snap)
    for key, factor in (("variance", 1 + 3e-5), ("sliceMean", 1 - 3e-5)):
        with pytest.raises(AssertionError):
            assert_agrees(explorer, {**snap, key: snap[key] * factor})
    with pytest.raises(AssertionError):
        assert_agrees(explorer, {**snap, "count": snap["count"] + 1})
    with pytest.raises(AssertionError):
        assert_agrees(explorer, {**snap, "a": 1.1})


# --- in a browser ----------------------------------------------------------------------------------


def snapshot(frame) -> dict:
    return frame.evaluate("xs => window.diffvizLive.snapshot(xs)", XS)


def pictures(frame) -> list[str]:
    return frame.evaluate("() => [...document.querySelectorAll('.plot canvas')].map(c => c.toDataURL())")


@pytest.fixture(scope="module")
def page_url(explorer, tmp_path_factory):
    return host_page(explorer.html, tmp_path_factory.mktemp("live_conditioning") / "chapter.html")


@pytest.mark.browser
def test_numbers_agree_with_python_and_every_slider_moves(chromium, explorer, page_url):  # noqa: F811
    with opened(chromium, page_url) as (page, frame, errors, foreign):
        first = snapshot(frame)
        assert (first["rho"], first["a"]) == (0.8, 1.0)
        assert_agrees(explorer, first)
        for selector, key, field, expected, changed in (
            ("#s-a", "ArrowRight", "a", 1.1, (0, 1)),  # a moves the slice (left) and the histogram (right)
            ("#s-rho", "ArrowLeft", "rho", 0.75, (0, 1)),
            ("#s-rho", "End", "rho", 0.95, (0, 1)),
            ("#s-a", "Home", "a", -2.5, (0, 1)),
        ):
            before, n = pictures(frame), draws(frame)
            frame.focus(selector)
            page.keyboard.press(key)
            wait_redrawn(frame, n)
            snap = snapshot(frame)
            assert snap[field] == pytest.approx(expected), selector
            after = pictures(frame)
            assert all(after[i] != before[i] for i in changed), f"{selector} {key}: a plot did not change"
            assert_agrees(explorer, snap)
        for selector, field in (("#s-rho", "rho"), ("#s-a", "a")):  # touch: a tap near the left end
            n, old = draws(frame), snapshot(frame)[field]
            box = frame.locator(selector).bounding_box()
            page.touchscreen.tap(box["x"] + 0.3 * box["width"], box["y"] + box["height"] / 2)
            wait_redrawn(frame, n)
            snap = snapshot(frame)
            assert snap[field] != old, f"{selector}: a tap did not move it"
            assert_agrees(explorer, snap)
        assert errors == [] and foreign == []


@pytest.mark.browser
def test_fits_a_360px_column(chromium, page_url):  # noqa: F811
    with opened(chromium, page_url, width=360) as (page, frame, errors, foreign):
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
        overflow = frame.evaluate(
            """() => { const w = document.documentElement.clientWidth;
                return [...document.querySelectorAll('#root *')].filter(e => e.getBoundingClientRect().right > w + 0.5)
                  .map(e => e.tagName + '.' + e.className); }"""
        )
        assert overflow == []
        page.wait_for_function(
            """() => { const f = document.querySelector('iframe');
                return Math.abs(f.getBoundingClientRect().height - f.contentDocument.documentElement.scrollHeight) <= 2; }"""
        )
        assert errors == [] and foreign == []


@pytest.mark.browser
def test_out_of_range_saved_state_is_clamped_and_flagged(chromium, explorer, tmp_path):  # noqa: F811
    for bad, expected in (
        ({"rho": 1.5, "a": 9.0}, (0.95, 2.5)),
        ({"rho": -1.0, "a": -4.0}, (-0.95, -2.5)),
        ({"rho": "NaN", "a": None}, (0.0, 0.0)),
    ):
        saved = json.dumps({**explorer.payload, **bad})
        page_html = explorer.page.replace(live._script_safe(json.dumps(explorer.payload)), live._script_safe(saved))
        assert page_html != explorer.page
        output = explorer.html.replace(live.html.escape(explorer.page, quote=True), live.html.escape(page_html, quote=True))
        with opened(chromium, host_page(output, tmp_path / "saved.html")) as (_, frame, errors, _foreign):
            snap = snapshot(frame)
            assert (snap["rho"], snap["a"]) == pytest.approx(expected), bad
            flag = frame.locator(".flag")
            assert flag.is_visible() and "saved state" in flag.inner_text()
            assert_agrees(explorer, snap)
            shown = frame.evaluate("() => [...document.querySelectorAll('.title, .stats, output')].map(e => e.textContent).join(' ')")
            assert "NaN" not in shown and "Infinity" not in shown, shown
            assert errors == []


@pytest.mark.browser
def test_without_javascript_the_static_picture_shows_with_its_alt_text(chromium, explorer, page_url):  # noqa: F811
    assert_fallback_shows_without_javascript(chromium, page_url, explorer.alt_text)


@pytest.mark.slow
@pytest.mark.browser
def test_live_in_a_one_page_jupyter_book_built_offline(chromium, explorer, tmp_path):  # noqa: F811
    url = one_page_book(tmp_path, explorer.html, repr(explorer), "dv.gaussian_conditioning_live(key, rho=0.8, a=1.0)")
    for width in (1280, 360):
        with opened(chromium, url, width=width) as (page, frame, errors, foreign):
            n = draws(frame)
            frame.focus("#s-a")
            page.keyboard.press("ArrowRight")
            wait_redrawn(frame, n)
            snap = snapshot(frame)
            assert snap["a"] == pytest.approx(1.1)
            assert_agrees(explorer, snap)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= width
            assert foreign == []
            assert [e for e in errors if "srcdoc" in e] == []
