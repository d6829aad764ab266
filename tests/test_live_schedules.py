"""Chapter 3's kernel-free schedule explorer (diffviz.schedule_live): data, HTML and browser.

The browser set-up and the host page are test_live's (same fixtures, same helpers). The
numbers the front-end computes (alpha-bar_t, 1 - alpha-bar_t, SNR, the prior KL) must agree with
diffviz's float32 schedules and prior_kl to 1e-5 relative at several schedules, T and t.
"""

from __future__ import annotations

import json

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
from diffviz.viz import live

RTOL = 1e-5
X0 = [0.7, -1.3, 2.0]  # one example with three entries: the KL sums over them
CASES = [(name, T) for name in ("linear", "cosine", "constant") for T in (10, 37, 1000)]


@pytest.fixture(scope="module")
def explorer():
    return dv.schedule_live(schedule="linear", T=50, x0=X0)


def python_numbers(name: str, T: int, ts: list[int]) -> dict:
    s = {"linear": dv.linear_schedule, "cosine": dv.cosine_schedule, "constant": lambda T: dv.constant_schedule(0.02, T)}[name](T)
    pick = lambda a: np.asarray(a, np.float64)[ts].tolist()
    return {
        "abar": pick(s.alpha_bars),
        "rest": pick(s.one_minus_alpha_bars),
        "snr": pick(s.snr),
        "kl": float(dv.prior_kl(s, np.asarray(X0, np.float32))),
    }


def times(T: int) -> list[int]:
    return [1, 2, T // 2, T - 1, T]


def assert_agrees(snap: dict) -> None:
    py = python_numbers(snap["schedule"], snap["T"], times(snap["T"]))
    for key in ("abar", "rest", "snr"):
        assert snap[key] == pytest.approx(py[key], rel=RTOL), (snap["schedule"], snap["T"], key)
    assert snap["kl"] == pytest.approx(py["kl"], rel=RTOL), (snap["schedule"], snap["T"], "kl")


# --- Python side -------------------------------------------------------------------------------


def test_payload_holds_settings_and_the_x0_moments_only(explorer):
    p = json.loads(json.dumps(explorer.payload))
    assert (p["schedule"], p["T"], p["T_min"], p["T_max"]) == ("linear", 50, 10, 1000)
    assert p["x0_size"] == 3 and p["x0_sum_sq"] == pytest.approx(sum(x * x for x in X0), rel=1e-7)
    assert (p["cosine_s"], p["max_beta"], p["beta_start"], p["beta_end"], p["beta"]) == (0.008, 0.999, 1e-4, 0.02, 0.02)


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"schedule": "quadratic"}, "schedule"),
        ({"schedule": 3}, "schedule"),
        ({"T": 5}, "T"),
        ({"T": 1001}, "T"),
        ({"T": 50.0}, "T"),
        ({"T": True}, "T"),
        ({"T_min": 0}, "T_min"),
        ({"T_min": 60, "T_max": 40, "T": 50}, "T_min"),
        ({"beta": 1.5}, "beta"),
        ({"beta_end": 0.0}, "beta_end"),
        ({"x0": float("nan")}, "x0"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(options, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        dv.schedule_live(**options)


def test_page_is_self_contained_with_a_described_fallback(explorer):
    assert "linear schedule with T = 50" in self_contained_fallback_alt(explorer)
    assert len(explorer.html.encode()) < 200_000  # uPlot 51 kB, the PNG about 70 kB, the module 10 kB (escaped)


def test_agreement_check_can_fail():
    snap = {"schedule": "cosine", "T": 37, **python_numbers("cosine", 37, times(37))}
    assert_agrees(snap)
    for key in ("abar", "rest", "snr"):
        with pytest.raises(AssertionError):
            assert_agrees({**snap, key: [x * (1 + 3e-5) for x in snap[key]]})
    with pytest.raises(AssertionError):
        assert_agrees({**snap, "kl": snap["kl"] * (1 - 3e-5)})
    with pytest.raises(AssertionError):
        assert_agrees({**snap, "T": 38})  # the numbers of T = 37 are not those of T = 38


# --- in a browser --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page_url(explorer, tmp_path_factory):
    return host_page(explorer.html, tmp_path_factory.mktemp("live_schedules") / "chapter.html")


def pictures(frame) -> list[str]:
    return frame.evaluate("() => [...document.querySelectorAll('.plot canvas')].map(c => c.toDataURL())")


@pytest.mark.browser
def test_browser_numbers_agree_with_diffviz(chromium, page_url):  # noqa: F811
    with opened(chromium, page_url) as (_page, frame, errors, foreign):
        for name, T in CASES:
            snap = frame.evaluate("([n, T, ts]) => window.diffvizLive.numbers(n, T, ts)", [name, T, times(T)])
            assert_agrees(snap)
        first = frame.evaluate("ts => window.diffvizLive.snapshot(ts)", times(50))
        assert (first["schedule"], first["T"]) == ("linear", 50)
        assert_agrees(first)
        assert errors == [] and foreign == []


@pytest.mark.browser
def test_every_control_changes_the_plots(chromium, page_url):  # noqa: F811
    with opened(chromium, page_url) as (page, frame, errors, foreign):
        before, n = pictures(frame), draws(frame)
        assert len(before) == 3
        frame.focus("#s-T")
        page.keyboard.press("ArrowRight")
        wait_redrawn(frame, n)
        snap = frame.evaluate("ts => window.diffvizLive.snapshot(ts)", times(51))
        assert snap["T"] == 51
        assert_agrees(snap)
        after = pictures(frame)
        assert all(a != b for a, b in zip(after, before, strict=True)), "a plot did not change with T"
        for name in ("cosine", "constant"):
            before, n = pictures(frame), draws(frame)
            frame.select_option("#s-schedule", name)
            wait_redrawn(frame, n)
            snap = frame.evaluate("ts => window.diffvizLive.snapshot(ts)", times(51))
            assert (snap["schedule"], snap["T"]) == (name, 51)
            assert_agrees(snap)
            after = pictures(frame)
            assert all(a != b for a, b in zip(after, before, strict=True)), f"a plot did not change for {name}"
        assert errors == [] and foreign == []


@pytest.mark.browser
def test_fits_a_360px_column(chromium, page_url):  # noqa: F811
    with opened(chromium, page_url, width=360) as (page, frame, errors, foreign):
        assert_fits(page, frame, 360)
        assert errors == [] and foreign == []


@pytest.mark.browser
def test_out_of_range_saved_state_is_clamped_and_flagged(chromium, explorer, tmp_path):  # noqa: F811
    for bad, expected in (
        ({"T": 5000}, ("linear", 1000)),
        ({"T": 2}, ("linear", 10)),
        ({"T": "NaN"}, ("linear", 10)),
        ({"T": 40.6}, ("linear", 41)),
        ({"schedule": "sigmoid"}, ("linear", 50)),
    ):
        saved = json.dumps({**explorer.payload, **bad})
        page_html = explorer.page.replace(live._script_safe(json.dumps(explorer.payload)), live._script_safe(saved))
        assert page_html != explorer.page
        output = explorer.html.replace(live.html.escape(explorer.page, quote=True), live.html.escape(page_html, quote=True))
        with opened(chromium, host_page(output, tmp_path / "saved.html")) as (_, frame, errors, _foreign):
            snap = frame.evaluate("ts => window.diffvizLive.snapshot(ts)", times(expected[1]))
            assert (snap["schedule"], snap["T"]) == expected, bad
            flag = frame.locator(".flag")
            assert flag.is_visible() and "saved state" in flag.inner_text()
            assert_agrees(snap)
            shown = frame.evaluate("() => [...document.querySelectorAll('.title, output')].map(e => e.textContent).join(' ')")
            assert "NaN" not in shown and "Infinity" not in shown, shown
            assert errors == []


@pytest.mark.browser
def test_without_javascript_the_static_picture_shows_with_its_alt_text(chromium, explorer, page_url):  # noqa: F811
    assert_fallback_shows_without_javascript(chromium, page_url, explorer.alt_text)


@pytest.mark.slow
@pytest.mark.browser
def test_live_in_a_one_page_jupyter_book_built_offline(chromium, explorer, tmp_path):  # noqa: F811
    """The book's route (test_live.one_page_book): from file:, at 1280 and 390 px, T answers a
    key and the schedule selector, the numbers still agree, and nothing leaves the disk."""
    url = one_page_book(tmp_path, explorer.html, repr(explorer), 'dv.schedule_live(schedule="linear", T=50)')
    for width in (1280, 390):
        with opened(chromium, url, width=width) as (page, frame, errors, foreign):
            n = draws(frame)
            frame.focus("#s-T")
            page.keyboard.press("ArrowRight")
            wait_redrawn(frame, n)
            n = draws(frame)
            frame.select_option("#s-schedule", "cosine")
            wait_redrawn(frame, n)
            snap = frame.evaluate("ts => window.diffvizLive.snapshot(ts)", times(51))
            assert (snap["schedule"], snap["T"]) == ("cosine", 51)
            assert_agrees(snap)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= width
            assert foreign == []
            # (this bare book's theme logs errors of its own; the course's book removes them)
            assert [e for e in errors if "srcdoc" in e] == []
