"""Chapters 4 and 5's kernel-free explorers (diffviz.forward_2d_live, diffviz.reverse_2d_live).

The browser set-up and the host page are test_live's. What the front-ends compute must agree
with diffviz: alpha-bar_t and 1 - alpha-bar_t (float32 schedules), the mean and variance of the
diffused eight Gaussians (dv.diffuse_mixture), its log-density (dv.mixture_log_prob) and the
exact eps* (dv.optimal_eps) at a few points, to 1e-5 relative; the diffused checkerboard's
moments (worked out here) and density (dv.checkerboard_diffused_log_prob) the same way, and the
browser's erfc to SciPy's on 5,000 points; the particles x_t to the stored
x0 and eps; the reverse chain's step noise to diffviz.viz.live_2d.chain_noise, and its particles
to the same chain run in Python with dv.optimal_eps (float32 there, float64 in the browser).
"""

from __future__ import annotations

import base64
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats
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
POINTS = [[0.3, -0.2], [1.1, 0.9], [-1.6, 0.4], [0.05, 1.7], [2.2, -2.0]]  # where densities and eps* are compared
MAX_KB = 600


@pytest.fixture(scope="module")
def forward():
    return dv.forward_2d_live(jax.random.key(4), dataset="eight Gaussians", t=100)


@pytest.fixture(scope="module")
def reverse():
    return dv.reverse_2d_live(jax.random.key(5), t=0)


def decode(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype="<i2").astype(np.float32) * np.float32(live_2d.SCALE)


def schedule(name: str, T: int = 1000):
    return {"linear": dv.linear_schedule, "cosine": dv.cosine_schedule}[name](T)


# --- what diffviz says ----------------------------------------------------------------------------


def python_numbers(name: str, t: int, points=POINTS) -> dict:
    s, eight = schedule(name), dv.eight_gaussians_mixture()
    q = dv.diffuse_mixture(s, eight, t)
    w, mu, sd = (np.asarray(a, np.float64) for a in (q.weights, q.means, q.stds))
    mean = (w[:, None] * mu).sum(0)
    variance = (w[:, None] * (sd**2 + mu**2)).sum(0) - mean**2
    x = jnp.asarray(points, jnp.float32)
    out = {"abar": float(s.alpha_bars[t]), "rest": float(s.one_minus_alpha_bars[t]), "mean": mean.tolist(), "variance": variance.tolist(),
           "logDensity": np.asarray(dv.mixture_log_prob(q, x), np.float64).tolist()}  # fmt: skip
    if t >= 1:
        out["epsStar"] = np.asarray(dv.optimal_eps(s, eight, x, t), np.float64).tolist()
        out["beta"] = float(s.betas[t])
    return out


def board_numbers(name: str, t: int, points=POINTS) -> dict:
    s = schedule(name)
    abar, rest = float(s.alpha_bars[t]), float(s.one_minus_alpha_bars[t])
    # The board is uniform on [-2, 2) in each coordinate: mean 0, variance 16/12 (not read from diffviz).
    log_q = dv.checkerboard_diffused_log_prob(jnp.asarray(points, jnp.float32), s.alpha_bars[t], one_minus_alpha_bar=s.one_minus_alpha_bars[t])
    return {"abar": abar, "rest": rest, "mean": [0.0, 0.0], "variance": [abar * 16 / 12 + rest] * 2,
            "logDensity": np.asarray(log_q, np.float64).tolist()}  # fmt: skip


def assert_board_agrees(snap: dict, name: str) -> None:
    py = board_numbers(name, snap["t"])
    for key in ("abar", "rest"):
        assert snap[key] == pytest.approx(py[key], rel=RTOL), key
    assert snap["mean"] == pytest.approx(py["mean"], abs=1e-6)
    assert snap["variance"] == pytest.approx(py["variance"], rel=RTOL)
    got, want = np.asarray(snap["logDensity"], np.float64), np.asarray(py["logDensity"], np.float64)
    assert np.array_equal(np.isneginf(got), np.isneginf(want)), (got, want)  # t = 0: -inf off the black squares
    fin = np.isfinite(want)
    # q_t to 1e-5 relative; where log q_t is very negative (t near 0, a point many sigma_t off a square) float32's
    # rounding of Python's log q is the limit (measured: 5.4e-7 |log q| at cosine t = 1, log q = -12,600)
    assert np.all(np.abs(got[fin] - want[fin]) <= RTOL + 1e-6 * np.abs(want[fin])), (got, want)


def assert_heat_agrees(heat: dict, name: str, t: int) -> None:
    """The checkerboard's shaded grid (a product of 1-D factors in the browser) against diffviz at the cell centres."""
    G, lim = heat["G"], heat["lim"]
    centres = -lim + (np.arange(G) + 0.5) * 2 * lim / G
    gx, gy = np.meshgrid(centres, centres[::-1])  # row 0 at the top
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    want = np.asarray(board_numbers(name, t, points)["logDensity"], np.float64)
    got = np.log(np.asarray(heat["density"], np.float64))
    assert np.all(np.abs(got - want) <= RTOL + 1e-6 * np.abs(want)), np.max(np.abs(got - want))


def assert_agrees(snap: dict, name: str = "linear") -> None:
    if snap.get("dataset") == "checkerboard":
        assert_board_agrees(snap, name)
        return
    py = python_numbers(name, snap["t"])
    for key in ("abar", "rest", "beta"):
        if key in snap and key in py:
            assert snap[key] == pytest.approx(py[key], rel=RTOL), key
    assert snap["mean"] == pytest.approx(py["mean"], abs=1e-6)  # the eight Gaussians' mean is 0
    assert snap["variance"] == pytest.approx(py["variance"], rel=RTOL)
    assert np.exp(snap["logDensity"]) == pytest.approx(np.exp(py["logDensity"]), rel=RTOL)
    if "epsStar" in snap and "epsStar" in py:
        assert np.ravel(snap["epsStar"]) == pytest.approx(np.ravel(py["epsStar"]), rel=RTOL, abs=1e-6)


def test_agreement_check_can_fail():
    snap = {"t": 100, **python_numbers("linear", 100)}
    assert_agrees(snap)
    for key, factor in (("abar", 1 + 3e-5), ("rest", 1 - 3e-5), ("beta", 1 + 3e-5)):
        with pytest.raises(AssertionError):
            assert_agrees({**snap, key: snap[key] * factor})
    with pytest.raises(AssertionError):
        assert_agrees({**snap, "variance": [v * (1 + 3e-5) for v in snap["variance"]]})
    with pytest.raises(AssertionError):
        assert_agrees({**snap, "logDensity": [v + 3e-5 for v in snap["logDensity"]]})
    with pytest.raises(AssertionError):
        assert_agrees({**snap, "epsStar": [[a * (1 + 3e-5), b] for a, b in snap["epsStar"]]})
    with pytest.raises(AssertionError):
        assert_agrees({**snap, "t": 101})
    for t in (0, 1, 100):
        board = {"t": t, "dataset": "checkerboard", **board_numbers("linear", t)}
        assert_agrees(board)
        with pytest.raises(AssertionError):
            assert_agrees({**board, "logDensity": [v + 2e-5 + 2e-6 * abs(v) for v in board["logDensity"]]})
        with pytest.raises(AssertionError):
            assert_agrees({**board, "variance": [v * (1 + 3e-5) for v in board["variance"]]})
    board = {"t": 0, "dataset": "checkerboard", **board_numbers("linear", 0)}
    with pytest.raises(AssertionError):  # a finite value where the board has none
        assert_agrees({**board, "logDensity": [-50.0 if math.isinf(v) else v for v in board["logDensity"]]})


# --- Python side ----------------------------------------------------------------------------------


def test_forward_payload_is_the_data_and_one_noise_draw(forward):
    p = json.loads(json.dumps(forward.payload))
    assert p["datasets"] == list(dv.TOY_DATASETS_2D) and (p["dataset"], p["schedule"], p["T"], p["t"]) == ("eight Gaussians", "linear", 1000, 100)
    data_key, noise_key = jax.random.split(jax.random.key(4))
    for i, (name, sampler) in enumerate(dv.TOY_DATASETS_2D.items()):
        x0 = decode(p["x0"][name]).reshape(-1, 2)
        np.testing.assert_array_equal(x0, forward.x0[name])  # what Python keeps is what the page decodes
        np.testing.assert_allclose(x0, np.asarray(sampler(jax.random.fold_in(data_key, i), 10_000)), atol=live_2d.SCALE / 2)
    eps = decode(p["eps"]).reshape(-1, 2)
    np.testing.assert_array_equal(eps, forward.eps)
    np.testing.assert_allclose(eps, np.asarray(jax.random.normal(noise_key, (10_000, 2))), atol=live_2d.SCALE / 2)
    mix = dv.eight_gaussians_mixture()
    assert np.asarray(p["mixtures"]["eight Gaussians"]["means"]) == pytest.approx(np.asarray(mix.means), rel=1e-7)
    board = p["boards"]["checkerboard"]  # the black unit squares [i, i+1) x [j, j+1), i + j even
    assert board["side"] == 1.0
    assert sorted(map(tuple, board["corners"])) == sorted((i, j) for i in range(-2, 2) for j in range(-2, 2) if (i + j) % 2 == 0)


def test_one_noise_draw_gives_the_exact_marginal(forward):
    eight = dv.eight_gaussians_mixture()
    for name, t in (("linear", 0), ("linear", 100), ("cosine", 500), ("linear", 1000)):
        x = forward.x_t("eight Gaussians", name, t)
        q = dv.diffuse_mixture(schedule(name), eight, t)
        exact_var = float(np.sum(np.asarray(q.weights)[:, None] * (np.asarray(q.stds) ** 2 + np.asarray(q.means) ** 2), axis=0)[0])
        assert abs(np.var(x[:, 0]) - exact_var) < 4 * math.sqrt(2 / len(x)) * exact_var + 0.01, (name, t)
        # the particles follow q_t: a KS test of the distance to the origin against a large exact sample
        ref = np.asarray(dv.sample_mixture(jax.random.key(t), q, 40_000))
        assert stats.ks_2samp(np.hypot(*x.T), np.hypot(*ref.T)).pvalue > 1e-3, (name, t)


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"dataset": "spiral"}, "dataset"),
        ({"dataset": "checkerboard", "datasets": ["two moons"]}, "dataset"),
        ({"datasets": ["two moons", "banana"]}, "datasets"),
        ({"datasets": []}, "datasets"),
        ({"schedule": "quadratic"}, "schedule"),
        ({"t": 1001}, "t"),
        ({"t": -1}, "t"),
        ({"t": 2.0}, "t"),
        ({"n": 0}, "n"),
        ({"T": 0}, "T"),
    ],
)
def test_forward_bad_input_is_refused_naming_the_parameter(options, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        dv.forward_2d_live(jax.random.key(0), **{"n": 50, **options})


@pytest.mark.parametrize(
    ("args", "options", "name"),
    [
        ((None,), {}, "key"),
        ((jax.random.key(0), dv.mixture_1d("bimodal")), {}, "mixture"),
        ((jax.random.key(0),), {"t": 1001}, "t"),
        ((jax.random.key(0),), {"t": -2}, "t"),
        ((jax.random.key(0),), {"schedule": "constant"}, "schedule"),
        ((jax.random.key(0),), {"num_paths": 99}, "num_paths"),
        ((jax.random.key(0),), {"n": 0}, "n"),
    ],
)
def test_reverse_bad_input_is_refused_naming_the_parameter(args, options, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        dv.reverse_2d_live(*args, **{"n": 50, "T": 20, "t": 0, **options})


def test_chain_noise_is_standard_normal_and_fresh_at_every_step():
    z = np.concatenate([live_2d.chain_noise(1234, t, np.arange(10_000), 10_000) for t in range(1, 21)])  # (200,000, 2)
    assert stats.kstest(z[:, 0], "norm").pvalue > 1e-3 and stats.kstest(z[:, 1], "norm").pvalue > 1e-3
    assert abs(np.corrcoef(z[:, 0], z[:, 1])[0, 1]) < 0.01
    a, b = live_2d.chain_noise(1234, 5, np.arange(10_000), 10_000), live_2d.chain_noise(1234, 6, np.arange(10_000), 10_000)
    assert abs(np.corrcoef(a[:, 0], b[:, 0])[0, 1]) < 0.04  # steps do not reuse noise
    assert not np.allclose(live_2d.chain_noise(1235, 5, np.arange(100), 10_000), a[:100])  # another seed, other noise
    np.testing.assert_array_equal(live_2d.chain_noise(1234, 5, [7, 3], 10_000), a[[7, 3]])  # any (t, i) on its own


def test_python_chain_lands_on_the_data(reverse):
    run = reverse.chain(np.arange(2000))
    x = run[0]
    eight = np.asarray(dv.eight_gaussians_mixture().means)
    d = np.linalg.norm(x[:, None, :] - eight[None], axis=2)
    assert np.mean(d.min(1) < 3 * 0.14) > 0.97
    np.testing.assert_allclose(np.bincount(d.argmin(1), minlength=8) / 2000, 1 / 8, atol=0.03)
    np.testing.assert_array_equal(run[1000], reverse.x_T[:2000])


@pytest.mark.parametrize("which", ["forward", "reverse"])
def test_pages_are_self_contained_light_and_described(which, forward, reverse):
    explorer = {"forward": forward, "reverse": reverse}[which]
    alt = self_contained_fallback_alt(explorer, scripts=5)
    assert "10,000" in alt and ("t = 100" in alt if which == "forward" else "t = 0" in alt)
    assert len(explorer.html.encode()) < MAX_KB * 1000, f"{len(explorer.html.encode()) / 1e3:.0f} kB"


def test_outputs_are_reproducible(forward):
    again = dv.forward_2d_live(jax.random.key(4), dataset="eight Gaussians", t=100)
    assert again.html == forward.html


# --- in a browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def urls(forward, reverse, tmp_path_factory):
    folder = tmp_path_factory.mktemp("live_2d")
    return {"forward": host_page(forward.html, folder / "ch4.html"), "reverse": host_page(reverse.html, folder / "ch5.html")}


def picture(frame) -> str:
    return frame.evaluate("() => document.querySelector('.plot canvas').toDataURL()")


def snap(frame) -> dict:
    return frame.evaluate("p => window.diffvizLive.snapshot(p)", POINTS)


def wait_ready(frame) -> None:
    frame.wait_for_function("() => window.diffvizLive.ready", timeout=120_000)


@pytest.mark.browser
def test_forward_numbers_agree_and_every_control_changes_the_picture(chromium, urls, forward):  # noqa: F811
    with opened(chromium, urls["forward"]) as (page, frame, errors, foreign):
        first = snap(frame)
        assert (first["dataset"], first["schedule"], first["t"], first["density"]) == ("eight Gaussians", "linear", 100, True)
        assert_agrees(first)

        def check_particles(s):
            x = forward.x_t(s["dataset"], s["schedule"], s["t"])
            assert s["particleMean"] == pytest.approx(x.mean(0).tolist(), rel=RTOL, abs=1e-6)
            assert s["particleVariance"] == pytest.approx(x.var(0).tolist(), rel=RTOL)
            got = frame.evaluate("i => window.diffvizLive.particles(i)", [0, 17, 9999])
            np.testing.assert_allclose(got, x[[0, 17, 9999]], rtol=RTOL, atol=1e-6)

        check_particles(first)
        for key, t in (("ArrowRight", 101), ("ArrowLeft", 100), ("End", 1000)):
            before, n = picture(frame), draws(frame)
            frame.focus("#s-t")
            page.keyboard.press(key)
            wait_redrawn(frame, n)
            s = snap(frame)
            assert s["t"] == t and picture(frame) != before, key
            assert_agrees(s)
            check_particles(s)
        frame.focus("#s-t")
        page.keyboard.press("Home")
        for _ in range(60):
            page.keyboard.press("ArrowRight")  # t = 60
        before, n = picture(frame), draws(frame)
        frame.select_option("#s-schedule", "cosine")
        wait_redrawn(frame, n)
        s = snap(frame)
        assert (s["schedule"], s["t"]) == ("cosine", 60) and picture(frame) != before
        assert_agrees(s, "cosine")
        for name in ("swiss roll", "two moons"):
            before, n = picture(frame), draws(frame)
            frame.select_option("#s-dataset", name)
            wait_redrawn(frame, n)
            s = snap(frame)
            assert s["dataset"] == name and picture(frame) != before and "mean" not in s
            assert frame.is_disabled("#s-density") and s["density"] is False  # no exact density to shade
            check_particles(s)
        # the checkerboard: its exact q_t, from the squares' corners and the browser's own erfc
        before, n = picture(frame), draws(frame)
        frame.select_option("#s-dataset", "checkerboard")
        wait_redrawn(frame, n)
        s = snap(frame)
        assert (s["dataset"], s["density"]) == ("checkerboard", True) and picture(frame) != before
        assert not frame.is_disabled("#s-density")
        assert_agrees(s, "cosine")
        check_particles(s)
        for name, t in (("cosine", 0), ("cosine", 1), ("cosine", 999), ("linear", 1000), ("linear", 2), ("linear", 150)):
            frame.select_option("#s-schedule", name)
            frame.evaluate("t => { const s = document.querySelector('#s-t'); s.value = String(t); s.dispatchEvent(new Event('input')); }", t)
            s = snap(frame)
            assert (s["schedule"], s["t"]) == (name, t)
            assert_agrees(s, name)
        assert_heat_agrees(frame.evaluate("() => window.diffvizLive.heat()"), "linear", 150)  # the shaded grid too
        before, n = picture(frame), draws(frame)
        frame.click("#s-density")
        wait_redrawn(frame, n)
        assert snap(frame)["density"] is False and picture(frame) != before
        assert frame.evaluate("() => window.diffvizLive.heat()") is None
        frame.click("#s-density")  # (on again: the eight Gaussians' toggle below starts from on)
        frame.select_option("#s-dataset", "eight Gaussians")
        before, n = picture(frame), draws(frame)
        frame.click("#s-density")
        wait_redrawn(frame, n)
        assert snap(frame)["density"] is False and picture(frame) != before
        # touch: a tap near the left end of the slider's track
        before, n = picture(frame), draws(frame)
        box = frame.locator("#s-t").bounding_box()
        page.touchscreen.tap(box["x"] + 0.2 * box["width"], box["y"] + box["height"] / 2)
        wait_redrawn(frame, n)
        assert 100 < snap(frame)["t"] < 300 and picture(frame) != before
        assert errors == [] and foreign == []


@pytest.mark.browser
def test_browser_erfc_and_log_phi_agree_with_scipy(chromium, urls):  # noqa: F811
    """The erfc behind the checkerboard's q_t (series below 2, Laplace's continued fraction above), on 5,000 points."""
    from scipy import special

    rng = np.random.default_rng(7)
    x = np.concatenate([np.linspace(-6.0, 27.0, 2001), rng.uniform(-1, 1, 3000) * 10 ** rng.uniform(-8, 2.5, 3000),
                        [0.0, 2.0, np.nextafter(2.0, 0.0), 1e-300]])  # fmt: skip
    with opened(chromium, urls["forward"]) as (_page, frame, errors, foreign):
        got = np.asarray(frame.evaluate("xs => xs.map((x) => window.diffviz2D.erfc(x))", x.tolist()))
        log_phi = np.asarray(frame.evaluate("xs => xs.map((x) => window.diffviz2D.logPhi(x))", x.tolist()))
        assert errors == [] and foreign == []
    want = special.erfc(x)
    shown = want > 1e-300  # (past x = 26.5 erfc is below double's normal range)
    assert np.max(np.abs(got[shown] / want[shown] - 1)) < 1e-11  # measured: 1.9e-13
    ref = special.log_ndtr(x)
    assert np.all(np.abs(log_phi - ref) <= 1e-12 * np.maximum(1.0, np.abs(ref)))  # measured: 2.3e-13 relative


@pytest.mark.browser
def test_reverse_numbers_agree_and_the_chain_is_pythons(chromium, urls, reverse):  # noqa: F811
    with opened(chromium, urls["reverse"]) as (_page, frame, errors, foreign):
        wait_ready(frame)
        first = snap(frame)
        assert first["t"] == 0
        assert_agrees(first)
        for t in (1000, 999, 500, 37, 1):  # the exact eps* and q_t at other steps (the browser's own functions)
            frame.evaluate("t => { document.querySelector('#s-t').value = String(1000 - t); document.querySelector('#s-t').dispatchEvent(new Event('input')); }", t)
            assert_agrees(snap(frame))
        idx = [0, 1, 2, 123, 4567, 9999]
        noise = frame.evaluate("([t, i]) => window.diffvizLive.noise(t, i)", [640, idx])
        np.testing.assert_allclose(noise, live_2d.chain_noise(reverse.seed, 640, idx, reverse.n), rtol=1e-12, atol=1e-12)
        run = reverse.chain(idx)  # float32, diffviz's eps* and step
        for t in (1000, 900, 500, 200, 50, 0):
            got = np.asarray(frame.evaluate("([t, i]) => window.diffvizLive.particles(t, i)", [t, idx]))
            np.testing.assert_allclose(got, run[t], atol=1e-4, err_msg=f"t = {t}")  # measured: 6e-6 after 1000 steps
        path = np.asarray(frame.evaluate("() => window.diffvizLive.path(0)"))
        np.testing.assert_allclose(path, run[:, 0], atol=1e-4)
        assert snap(frame)["near"] > 0 and errors == [] and foreign == []


@pytest.mark.browser
def test_reverse_slider_moves_by_keyboard_and_touch(chromium, urls):  # noqa: F811
    with opened(chromium, urls["reverse"]) as (page, frame, errors, foreign):
        wait_ready(frame)
        near_end = snap(frame)["near"]
        assert near_end > 0.97  # the data came back: 99% near a centre with 1000 exact steps
        for key, t in (("ArrowLeft", 1), ("ArrowLeft", 2), ("ArrowRight", 1), ("Home", 1000)):
            before, n = picture(frame), draws(frame)
            frame.focus("#s-t")
            page.keyboard.press(key)
            wait_redrawn(frame, n)
            assert snap(frame)["t"] == t and picture(frame) != before, key
        assert snap(frame)["near"] < 0.5  # pure noise: few points near a centre
        before, n = picture(frame), draws(frame)
        box = frame.locator("#s-t").bounding_box()
        page.touchscreen.tap(box["x"] + 0.7 * box["width"], box["y"] + box["height"] / 2)
        wait_redrawn(frame, n)
        assert 150 < snap(frame)["t"] < 450 and picture(frame) != before
        assert errors == [] and foreign == []


@pytest.mark.browser
@pytest.mark.parametrize("which", ["forward", "reverse"])
def test_fits_a_360px_column(chromium, urls, which):  # noqa: F811
    with opened(chromium, urls[which], width=360) as (page, frame, errors, foreign):
        assert_fits(page, frame, 360)
        assert errors == [] and foreign == []


@pytest.mark.browser
@pytest.mark.parametrize(
    ("which", "bad", "expected"),
    [
        ("forward", {"t": 5000}, ("eight Gaussians", "linear", 1000)),
        ("forward", {"t": -3}, ("eight Gaussians", "linear", 0)),
        ("forward", {"t": "NaN"}, ("eight Gaussians", "linear", 0)),
        ("forward", {"t": 40.6}, ("eight Gaussians", "linear", 41)),
        ("forward", {"dataset": "spiral", "schedule": "sigmoid"}, ("swiss roll", "linear", 100)),
        ("reverse", {"t": 5000}, (None, None, 1000)),
        ("reverse", {"t": None}, (None, None, 1000)),
        ("reverse", {"t": 7.6}, (None, None, 8)),
    ],
)
def test_out_of_range_saved_state_is_clamped_and_flagged(chromium, forward, reverse, tmp_path, which, bad, expected):  # noqa: F811
    explorer = {"forward": forward, "reverse": reverse}[which]
    saved = json.dumps({**explorer.payload, **bad})
    page_html = explorer.page.replace(live._script_safe(json.dumps(explorer.payload)), live._script_safe(saved))
    assert page_html != explorer.page
    output = explorer.html.replace(live.html.escape(explorer.page, quote=True), live.html.escape(page_html, quote=True))
    with opened(chromium, host_page(output, tmp_path / "saved.html")) as (_, frame, errors, _foreign):
        if which == "reverse":
            wait_ready(frame)
        s = snap(frame)
        assert (s.get("dataset"), s.get("schedule"), s["t"]) == expected
        flag = frame.locator(".flag")
        assert flag.is_visible() and "saved state" in flag.inner_text()
        if "mean" in s:
            assert_agrees(s)
        shown = frame.evaluate("() => [...document.querySelectorAll('.title, .stats, output')].map(e => e.textContent).join(' ')")
        assert "NaN" not in shown and "Infinity" not in shown, shown
        assert errors == []


@pytest.mark.browser
@pytest.mark.parametrize("which", ["forward", "reverse"])
def test_without_javascript_the_static_picture_shows_with_its_alt_text(chromium, urls, forward, reverse, which):  # noqa: F811
    assert_fallback_shows_without_javascript(chromium, urls[which], {"forward": forward, "reverse": reverse}[which].alt_text, min_width=250)


@pytest.mark.slow
@pytest.mark.browser
def test_reverse_live_in_a_one_page_jupyter_book_built_offline(chromium, reverse, tmp_path):  # noqa: F811
    """The book's route (test_live's one-page book): the chain runs from file:, the slider answers, at 390 px too."""
    url = one_page_book(tmp_path, reverse.html, repr(reverse), "dv.reverse_2d_live(key)")
    for width in (1280, 390):
        with opened(chromium, url, width=width) as (page, frame, errors, foreign):
            wait_ready(frame)
            n = draws(frame)
            frame.focus("#s-t")
            page.keyboard.press("ArrowLeft")
            wait_redrawn(frame, n)
            assert snap(frame)["t"] == 1
            assert page.evaluate("() => document.documentElement.scrollWidth") <= width
            assert foreign == []
            assert [e for e in errors if "srcdoc" in e] == []  # (the bare book's theme logs errors of its own)
