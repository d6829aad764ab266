"""Chapter 13's kernel-free guidance explorer (diffviz.guidance_live).

The browser set-up and the host page are test_live's. What the front-end computes must agree with
diffviz: the exact guided noise prediction (dv.guided_eps, classifier-free) at a few points, steps,
classes and scales to 1e-5 relative; its DDIM samples with the same run in Python, written here
step by step with dv.guided_eps and the schedule (float32 there, float64 in the browser); its
readout with dv.guidance_readout of its own samples.
"""

from __future__ import annotations

import base64
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_live import (  # noqa: F401  (chromium: a fixture)
    assert_fallback_shows_without_javascript,
    assert_fits,
    chromium,
    draws,
    host_page,
    opened,
    self_contained_fallback_alt,
    wait_redrawn,
)

import diffviz as dv
from diffviz.viz import live, live_2d

RTOL = 1e-5
POINTS = [[0.3, -0.2], [1.1, 0.9], [-1.6, 0.4], [0.05, 1.7], [2.2, -2.0]]
TOY = dv.labelled_toy("eight_gaussians")
SCHEDULE = dv.linear_schedule(1000)


@pytest.fixture(scope="module")
def explorer():
    return dv.guidance_live(jax.random.key(13), c=0, w=3.0)


def ddim_by_hand(x_T: np.ndarray, c: int, w: float, num_steps: int = 50) -> np.ndarray:
    """DDIM with eta = 0 and the exact guided eps, step by step with the public dv.guided_eps (float32)."""
    grid = [int(t) for t in np.asarray(dv.ddim_timesteps(1000, num_steps))][::-1]
    abar = np.asarray(SCHEDULE.alpha_bars)
    x = jnp.asarray(x_T, jnp.float32)
    for i, t in enumerate(grid):
        s = grid[i + 1] if i + 1 < len(grid) else 0
        eps = dv.guided_eps(SCHEDULE, TOY, x, t, c, w)
        x0 = (x - np.sqrt(1 - abar[t]) * eps) / np.sqrt(abar[t])
        x = np.sqrt(abar[s]) * x0 + np.sqrt(1 - abar[s]) * eps
    return np.asarray(x, np.float64)


# --- Python side ----------------------------------------------------------------------------------


def test_payload_is_the_start_and_the_labelled_toy(explorer):
    p = json.loads(json.dumps(explorer.payload))
    x_T = np.frombuffer(base64.b64decode(p["x_T"]), "<i2").astype(np.float32).reshape(-1, 2) * np.float32(live_2d.SCALE)
    np.testing.assert_array_equal(x_T, explorer.x_T)
    np.testing.assert_allclose(x_T, np.asarray(jax.random.normal(jax.random.key(13), (3000, 2))), atol=live_2d.SCALE / 2)
    assert (
        p["labels"] == [0, 0, 0, 1, 1, 1, 2, 2] and p["classes"] == 3 and (p["c"], p["w"], p["w_max"], p["w_step"]) == (0, 3.0, 10.0, 0.5)
    )
    assert p["steps"] == np.asarray(dv.ddim_timesteps(1000, 50)).tolist()
    assert type(explorer) is dv.GuidanceLive and {"GuidanceLive", "guidance_live"} <= set(dv.__all__)  # public, both names
    assert np.asarray(p["mixture"]["stds"]) == pytest.approx(np.asarray(TOY.mixture.stds), rel=1e-7)


def test_python_run_is_ddim_with_the_guided_field(explorer):
    idx = np.arange(0, 3000, 150)
    for c, w in ((0, 3.0), (2, 0.0)):
        np.testing.assert_allclose(explorer.sample(c, w)[idx], ddim_by_hand(explorer.x_T[idx], c, w), atol=2e-5)
    # w = 0 samples the class: the readout of plain conditional sampling is the class's own
    x = explorer.sample(1, 0.0)
    exact = np.asarray(dv.sample_mixture(jax.random.key(1), dv.class_mixture(TOY, 1), 3000))
    r, r_exact = dv.guidance_readout(TOY, x, 1), dv.guidance_readout(TOY, exact, 1)
    # (DDIM's 50 deterministic steps pull a little towards the modes: measured +0.11 in log p, -0.03 in spread)
    assert abs(float(r.log_likelihood) - float(r_exact.log_likelihood)) < 0.2 and abs(float(r.spread) - float(r_exact.spread)) < 0.06
    guided = dv.guidance_readout(TOY, explorer.sample(1, 3.0), 1)
    assert float(guided.spread) < float(r_exact.spread) - 0.2  # and guidance is far from it


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"w": float("nan")}, "w"),
        ({"w": -0.5}, "w"),
        ({"w": 10.5}, "w"),
        ({"w": 0.3}, "w"),
        ({"w": "3"}, "w"),
        ({"c": 3}, "c"),
        ({"c": -1}, "c"),
        ({"c": 1.0}, "c"),
        ({"schedule": "constant"}, "schedule"),
        ({"num_steps": 0}, "num_steps"),
        ({"num_steps": 21}, "num_steps"),
        ({"n": 0}, "n"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(options, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        dv.guidance_live(jax.random.key(0), **{"n": 20, "T": 20, "num_steps": 5, **options})


def test_page_is_self_contained_light_and_described(explorer):
    alt = self_contained_fallback_alt(explorer, scripts=5)
    assert "3,000 samples" in alt and "w = 3" in alt and "class 0" in alt
    assert len(explorer.html.encode()) < 250_000, f"{len(explorer.html.encode()) / 1e3:.0f} kB"
    assert dv.guidance_live(jax.random.key(13), c=0, w=3.0).html == explorer.html  # reproducible


# --- in a browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def url(explorer, tmp_path_factory):
    return host_page(explorer.html, tmp_path_factory.mktemp("live_guidance") / "ch13.html")


def picture(frame) -> str:
    return frame.evaluate("() => document.querySelector('.plot canvas').toDataURL()")


def snap(frame) -> dict:
    return frame.evaluate("() => window.diffvizLive.snapshot()")


def assert_readout_is_pythons(snap: dict, samples: np.ndarray) -> None:
    r = dv.guidance_readout(TOY, samples.astype(np.float32), snap["c"])
    assert snap["logLik"] == pytest.approx(float(r.log_likelihood), rel=1e-4)
    assert snap["onClass"] == pytest.approx(float(r.on_class), abs=1e-6)
    assert snap["spread"] == pytest.approx(float(r.spread), rel=1e-4)


@pytest.mark.browser
def test_guided_field_and_samples_agree_with_python(chromium, url, explorer):  # noqa: F811
    with opened(chromium, url) as (_page, frame, errors, foreign):
        for t, c, w in ((1000, 0, 3.0), (500, 1, 7.5), (40, 2, 0.0), (1, 0, 10.0)):
            got = frame.evaluate("([p, t, c, w]) => window.diffvizLive.guidedEps(p, t, c, w)", [POINTS, t, c, w])
            want = np.asarray(dv.guided_eps(SCHEDULE, TOY, jnp.asarray(POINTS, jnp.float32), t, c, w), np.float64)
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-6, err_msg=f"t = {t}, c = {c}, w = {w}")
        idx = [0, 1, 2, 123, 1500, 2999]
        for c, w in ((0, 3.0), (1, 6.0)):
            got = np.asarray(frame.evaluate("([c, w, i]) => window.diffvizLive.samples(c, w, i)", [c, w, idx]))
            np.testing.assert_allclose(got, ddim_by_hand(explorer.x_T[idx], c, w), atol=1e-4, err_msg=f"c = {c}, w = {w}")
        s = snap(frame)
        assert (s["c"], s["w"]) == (0, 3.0)
        assert_readout_is_pythons(s, np.asarray(frame.evaluate("() => window.diffvizLive.allSamples(0, 3)")).reshape(-1, 2))
        assert errors == [] and foreign == []


@pytest.mark.browser
def test_slider_and_menu_redraw(chromium, url):  # noqa: F811
    with opened(chromium, url) as (page, frame, errors, foreign):
        spread = [snap(frame)["spread"]]
        for key, w in (("ArrowRight", 3.5), ("End", 10.0), ("Home", 0.0)):
            before, n = picture(frame), draws(frame)
            frame.focus("#s-w")
            page.keyboard.press(key)
            wait_redrawn(frame, n)
            s = snap(frame)
            assert s["w"] == w and picture(frame) != before, key
            spread.append(s["spread"])
        assert spread[2] < spread[1] < spread[3]  # guidance shrinks the spread: w = 10 < 3.5 < 0
        frame.wait_for_function("() => window.diffvizLive.ready", timeout=120_000)
        assert frame.evaluate("() => window.diffvizLive.runs") == 3 * 21  # every class and scale, once
        n = draws(frame)
        frame.focus("#s-w")
        page.keyboard.press("End")  # from the cache: redrawn, not rerun
        wait_redrawn(frame, n)
        assert frame.evaluate("() => window.diffvizLive.runs") == 3 * 21 and snap(frame)["w"] == 10.0
        for c in ("2", "1"):
            before, n = picture(frame), draws(frame)
            frame.select_option("#s-c", c)
            wait_redrawn(frame, n)
            s = snap(frame)
            assert (s["c"], s["w"]) == (int(c), 10.0) and picture(frame) != before and s["onClass"] > 0.95
        before, n = picture(frame), draws(frame)
        box = frame.locator("#s-w").bounding_box()
        page.touchscreen.tap(box["x"] + 0.3 * box["width"], box["y"] + box["height"] / 2)
        wait_redrawn(frame, n)
        assert 1.5 <= snap(frame)["w"] <= 4.5 and picture(frame) != before
        assert snap(frame)["ms"] < 1000  # one run of 3,000 points and 50 steps
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
        ({"w": 25}, (0, 10.0)),
        ({"w": -2}, (0, 0.0)),
        ({"w": "NaN"}, (0, 0.0)),
        ({"w": 2.3}, (0, 2.5)),
        ({"c": 7}, (2, 3.0)),
        ({"c": None}, (0, 3.0)),
    ],
)
def test_out_of_range_saved_state_is_clamped_and_flagged(chromium, explorer, tmp_path, bad, expected):  # noqa: F811
    saved = json.dumps({**explorer.payload, **bad})
    page_html = explorer.page.replace(live._script_safe(json.dumps(explorer.payload)), live._script_safe(saved))
    assert page_html != explorer.page
    output = explorer.html.replace(live.html.escape(explorer.page, quote=True), live.html.escape(page_html, quote=True))
    with opened(chromium, host_page(output, tmp_path / "saved.html")) as (_, frame, errors, _foreign):
        s = snap(frame)
        assert (s["c"], s["w"]) == expected
        flag = frame.locator(".flag")
        assert flag.is_visible() and "saved state" in flag.inner_text()
        shown = frame.evaluate("() => [...document.querySelectorAll('.title, .stats, output')].map(e => e.textContent).join(' ')")
        assert "NaN" not in shown and "Infinity" not in shown, shown
        assert errors == []


@pytest.mark.browser
def test_without_javascript_the_static_picture_shows_with_its_alt_text(chromium, url, explorer):  # noqa: F811
    assert_fallback_shows_without_javascript(chromium, url, explorer.alt_text, min_width=250)
