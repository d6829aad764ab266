"""The kernel-free live explorer of chapter 2 (diffviz.forward_1d_live): data, HTML and browser.

Two kinds of test:

* plain Python: the constructor's data and validation, the JSON payload (it decodes to the
  package's own numbers), the self-contained page (no URL outside it, scripts that cannot
  close early, the fallback picture and its alt text), and the shipped plotting library (the
  npm version package.json pins, declared as package data);
* in a browser (marked ``browser``; skipped without /usr/bin/chromium or Playwright): the
  output is written to a temporary file inside a host page and opened from ``file:`` (this
  stands in for the built book, which shows the same output; no `make book` needed). The
  numbers the front-end computes (alpha-bar, the marginal mean and variance, the density at a
  few points) must agree with diffviz's to 1e-5 relative; every slider moves by keyboard and by
  touch and changes the picture; no request leaves ``file:``/``data:``; no console error; at
  360 px nothing overflows; a saved state out of range is clamped and flagged, never NaN;
  without JavaScript the static picture shows, whole, with its alt text; and in a one-page
  Jupyter Book built offline (the book's route for a cell's HTML output) it runs from file:.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import re
import shutil
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from figtools import alt_text_problem  # tests/figtools.py
from test_book import CHROMIUM, CHROMIUM_ARGS  # one browser set-up for every browser test

import diffviz as dv
from diffviz.viz import live

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "diffviz" / "viz" / "assets"
TIMEOUT_MS = 60_000
RTOL = 1e-5
XS = [-2.5, -1.0, -0.3, 0.0, 0.7, 1.9]  # where the browser's density is compared


@pytest.fixture(scope="module")
def explorer():
    return dv.forward_1d_live(jax.random.key(7), dv.mixture_1d("bimodal"), n=10_000, T=100, beta=0.03, t=20)


def decode(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype="<f4")


# --- Python side ---------------------------------------------------------------------------------


def test_payload_decodes_to_the_packages_numbers(explorer):
    p = json.loads(json.dumps(explorer.payload))  # what the page receives
    key = jax.random.key(7)
    data_key, noise_key = jax.random.split(key)
    x0 = np.asarray(dv.sample_mixture(data_key, dv.mixture_1d("bimodal"), 10_000))[:, 0]
    eps = np.asarray(jax.random.normal(noise_key, (10_000,), jnp.float32))
    np.testing.assert_array_equal(decode(p["x0"]), x0)  # float32, bit for bit
    np.testing.assert_array_equal(decode(p["eps"]), eps)
    np.testing.assert_array_equal(explorer.x0, x0)
    assert (p["T"], p["beta"], p["t"], p["drift"]) == (100, 0.03, 20, True)
    mix = dv.mixture_1d("bimodal")
    assert p["mixture"]["weights"] == pytest.approx(np.asarray(mix.weights).tolist(), rel=1e-7)
    assert p["mixture"]["means"] == pytest.approx(np.asarray(mix.means)[:, 0].tolist(), rel=1e-7)
    assert p["mixture"]["stds"] == pytest.approx(np.asarray(mix.stds)[:, 0].tolist(), rel=1e-7)


def test_one_noise_draw_gives_the_exact_marginal_at_every_t(explorer):
    mix = dv.mixture_1d("bimodal")
    for beta, t, drift in ((0.03, 0, True), (0.03, 20, True), (0.1, 100, True), (0.03, 50, False)):
        exact_mean, exact_var = exact_moments(mix, beta, t, drift)
        x = explorer.x_t(beta, t, drift)
        se = math.sqrt(2 / x.size) * exact_var  # standard error of a sample variance (near-Gaussian)
        assert abs(np.var(x) - exact_var) < 4 * se + 0.02 * exact_var, (beta, t, drift)
        assert abs(np.mean(x) - exact_mean) < 4 * math.sqrt(exact_var / x.size)


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"beta": 0.0}, "beta"),
        ({"beta": 1.0}, "beta"),
        ({"beta": -0.1}, "beta"),
        ({"beta": float("nan")}, "beta"),
        ({"beta": 0.5}, "beta"),  # in (0, 1) but beyond the slider's end (beta_max = 0.2)
        ({"t": 101}, "t"),
        ({"t": -1}, "t"),
        ({"t": 2.0}, "t"),
        ({"n": 0}, "n"),
        ({"n": 2.5}, "n"),
        ({"T": 0}, "T"),
        ({"beta_max": 1.5}, "beta_max"),
        ({"beta_max": float("nan")}, "beta_max"),
        ({"drift": "yes"}, "drift"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(options, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        dv.forward_1d_live(jax.random.key(0), dv.mixture_1d("bimodal"), **{"n": 100, **options})


def test_refuses_a_2d_mixture_and_a_missing_key():
    with pytest.raises(ValueError, match=r"^mixture "):
        dv.forward_1d_live(jax.random.key(0), dv.eight_gaussians_mixture(), n=100)
    with pytest.raises(ValueError, match=r"^key "):
        dv.forward_1d_live(None, dv.mixture_1d("bimodal"), n=100)


def test_output_is_reproducible(explorer):
    again = dv.forward_1d_live(jax.random.key(7), dv.mixture_1d("bimodal"), n=10_000, T=100, beta=0.03, t=20)
    assert again.html == explorer.html


def self_contained_fallback_alt(explorer, scripts: int = 4) -> str:
    """Check that a live explorer's output fetches nothing and carries a PNG fallback; its alt text.

    ``scripts``: the data, uPlot, the shared helpers and the explorer's module(s).
    """
    page, out = explorer.page, explorer.html
    assert out == explorer._repr_html_() and "<iframe" in out and "srcdoc=" in out
    # Nothing is fetched: no src/href to a URL, no import; the data and the libraries are inline.
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?!data:)[a-z]+:""", page), "the page links something outside it"
    assert "import(" not in page and "@import" not in page
    # Scripts cannot end early (a "</script>" inside inlined text would cut them): the data, uPlot,
    # the shared sizing helper and the explorer's module.
    assert page.count("<script") == page.count("</script>") == scripts
    # The fallback: a PNG of the first state, with alt text in plain words.
    match = re.search(r'<img class="fallback" src="data:image/png;base64,([^"]+)" alt="([^"]+)"', page)
    assert match and base64.b64decode(match[1])[:8] == b"\x89PNG\r\n\x1a\n"
    alt = match[2].replace("&#x27;", "'")
    assert alt_text_problem(alt) is None
    return alt


def test_page_is_self_contained_with_a_described_fallback(explorer):
    alt = self_contained_fallback_alt(explorer)
    assert "10,000 particles" in alt and "beta = 0.030" in alt
    # What it weighs: 80 kB of float32 particles (base64: 107 kB), uPlot 51 kB, the PNG.
    assert len(explorer.html.encode()) < 300_000


def test_shipped_plotting_library_is_the_pinned_npm_version():
    pinned = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]["uplot"]
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"]["node_modules/uplot"]["version"] == pinned
    assert json.loads((ASSETS / "versions.json").read_text(encoding="utf-8")) == {"uplot": pinned}
    js = (ASSETS / "uplot.min.js").read_text(encoding="utf-8")
    assert js.startswith(f"/*! https://github.com/leeoniya/uPlot (v{pinned}) */")
    assert "MIT License" in (ASSETS / "uplot.LICENSE").read_text(encoding="utf-8")
    npm = ROOT / "node_modules" / "uplot"
    if (npm / "package.json").is_file():  # after `npm ci`: the copies are byte for byte npm's files
        assert json.loads((npm / "package.json").read_text(encoding="utf-8"))["version"] == pinned
        for source, name in [("dist/uPlot.iife.min.js", "uplot.min.js"), ("dist/uPlot.min.css", "uplot.min.css"), ("LICENSE", "uplot.LICENSE")]:
            assert (npm / source).read_bytes() == (ASSETS / name).read_bytes(), name


def test_assets_are_package_data():
    import fnmatch
    import tomllib

    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert "diffviz.viz" in tool["packages"]
    patterns = tool["package-data"]["diffviz.viz"]
    for path in ASSETS.iterdir():
        assert any(fnmatch.fnmatch(f"assets/{path.name}", p) for p in patterns), path.name
    for name in ("uplot.min.js", "uplot.min.css", "uplot.LICENSE", "forward_1d_live.js", "versions.json"):
        assert (ASSETS / name).is_file()


# --- what diffviz says (float32, through the public API) ------------------------------------------


def exact_mixture(mix, beta: float, t: int, drift: bool):
    schedule = dv.constant_schedule(beta, 100)
    return (dv.diffuse_mixture if drift else dv.random_walk_mixture)(schedule, mix, t)


def exact_moments(mix, beta: float, t: int, drift: bool) -> tuple[float, float]:
    m = exact_mixture(mix, beta, t, drift)
    w, mu, s = (np.asarray(a, np.float64).reshape(-1) for a in (m.weights, m.means, m.stds))
    mean = float(np.sum(w * mu))
    return mean, float(np.sum(w * (s**2 + mu**2)) - mean**2)


def python_numbers(beta: float, t: int, drift: bool) -> dict:
    mix = dv.mixture_1d("bimodal")
    schedule = dv.constant_schedule(beta, 100)
    mean, variance = exact_moments(mix, beta, t, drift)
    density = np.exp(np.asarray(dv.mixture_log_prob(exact_mixture(mix, beta, t, drift), jnp.asarray(XS)[:, None]), np.float64))
    return {"abar": float(schedule.alpha_bars[t]), "mean": mean, "variance": variance, "density": density.tolist()}


def assert_agrees(snap: dict) -> None:
    py = python_numbers(snap["beta"], snap["t"], snap["drift"])
    if snap["drift"]:
        assert snap["abar"] == pytest.approx(py["abar"], rel=RTOL)
    assert snap["mean"] == pytest.approx(py["mean"], rel=RTOL, abs=1e-6)  # the bimodal mean is 0
    assert snap["variance"] == pytest.approx(py["variance"], rel=RTOL)
    assert snap["density"] == pytest.approx(py["density"], rel=RTOL)
    assert all(math.isfinite(h) for h in snap["hist"])


def test_agreement_check_can_fail():
    snap = {"beta": 0.03, "t": 20, "drift": True, "hist": [0.0], **python_numbers(0.03, 20, True)}
    assert_agrees(snap)
    for key, factor in (("abar", 1 + 3e-5), ("variance", 1 - 3e-5)):
        with pytest.raises(AssertionError):
            assert_agrees({**snap, key: snap[key] * factor})
    with pytest.raises(AssertionError):
        assert_agrees({**snap, "t": 21})  # the numbers of t = 20 are not those of t = 21


# --- in a browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found (Debian: apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="the Python playwright package (pip install -e '.[book]')")
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="diffviz-chromium-")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def host_page(output_html: str, path: Path) -> str:
    """A page like a book chapter's column (at most 760 px wide) holding the output; its file: URL."""
    path.write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>host</title></head>'
        '<body style="margin:0 auto;max-width:760px;padding:0 8px;box-sizing:border-box">'
        f"<p>Before the explorer.</p>{output_html}<p>After it.</p></body></html>",
        encoding="utf-8",
    )
    return path.as_uri()


@contextlib.contextmanager
def opened(chromium, url: str, *, width: int = 1280):
    """The host page and the explorer's frame, with the console errors and foreign requests seen."""
    context = chromium.new_context(viewport={"width": width, "height": 900}, has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    foreign: list[str] = []

    def route(r):
        if r.request.url.split(":", 1)[0] in {"file", "data", "blob", "about"}:
            r.continue_()
        else:
            foreign.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: errors.append(f"{m.text} (at {m.location.get('url', '')})") if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    try:
        page.goto(url, wait_until="load")
        frame = page.wait_for_selector("iframe").content_frame()
        frame.wait_for_function("() => window.diffvizLive && window.diffvizLive.draws > 0")
        yield page, frame, errors, foreign
    finally:
        context.close()


def snapshot(frame) -> dict:
    return frame.evaluate("xs => window.diffvizLive.snapshot(xs)", XS)


def picture(frame) -> str:
    return frame.evaluate("() => document.querySelector('.plot canvas').toDataURL()")


def wait_redrawn(frame, draws_before: int) -> None:
    frame.wait_for_function("n => window.diffvizLive.draws > n", arg=draws_before)


def draws(frame) -> int:
    return frame.evaluate("() => window.diffvizLive.draws")


@pytest.fixture(scope="module")
def page_url(explorer, tmp_path_factory):
    return host_page(explorer.html, tmp_path_factory.mktemp("live") / "chapter.html")


@pytest.mark.browser
def test_numbers_agree_with_python_and_every_slider_moves(chromium, page_url):
    with opened(chromium, page_url) as (page, frame, errors, foreign):
        first = snapshot(frame)
        assert (first["beta"], first["t"], first["drift"]) == (0.03, 20, True)
        assert_agrees(first)
        # keyboard: t and beta one step each, then the toggle
        for selector, key, field, expected in (("#s-t", "ArrowRight", "t", 21), ("#s-beta", "ArrowRight", "beta", 0.031)):
            before, n = picture(frame), draws(frame)
            frame.focus(selector)
            page.keyboard.press(key)
            wait_redrawn(frame, n)
            snap = snapshot(frame)
            assert snap[field] == pytest.approx(expected), selector
            assert picture(frame) != before, f"{selector}: the picture did not change"
            assert_agrees(snap)
        before, n = picture(frame), draws(frame)
        frame.focus("#s-walk")
        page.keyboard.press("Space")
        wait_redrawn(frame, n)
        walk = snapshot(frame)
        assert walk["drift"] is False and picture(frame) != before
        assert_agrees(walk)
        assert walk["variance"] == pytest.approx(python_numbers(0.031, 21, False)["variance"], rel=RTOL)
        # touch: a tap near the right end of each slider's track moves it there
        for selector, field in (("#s-t", "t"), ("#s-beta", "beta")):
            before, n, old = picture(frame), draws(frame), snapshot(frame)[field]
            box = frame.locator(selector).bounding_box()  # in the page's coordinates
            page.touchscreen.tap(box["x"] + 0.8 * box["width"], box["y"] + box["height"] / 2)
            wait_redrawn(frame, n)
            snap = snapshot(frame)
            assert snap[field] > old, f"{selector}: a tap did not move it"
            assert picture(frame) != before
            assert_agrees(snap)
        assert errors == [] and foreign == []


def assert_fits(page, frame, width: int) -> None:
    """Nothing in the explorer reaches past a ``width``-px column, and its frame is as tall as its content."""
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    overflow = frame.evaluate(
        """() => { const w = document.documentElement.clientWidth;
            return [...document.querySelectorAll('#root *')].filter(e => e.getBoundingClientRect().right > w + 0.5)
              .map(e => e.tagName + '.' + e.className); }"""
    )
    assert overflow == []
    assert frame.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    # the iframe is as tall as its content (nothing cut off at the bottom, no scroll bar)
    page.wait_for_function(
        """() => { const f = document.querySelector('iframe');
            return Math.abs(f.getBoundingClientRect().height - f.contentDocument.documentElement.scrollHeight) <= 2; }"""
    )


@pytest.mark.browser
def test_fits_a_360px_column_and_the_frame_fits_its_content(chromium, page_url):
    with opened(chromium, page_url, width=360) as (page, frame, errors, foreign):
        assert_fits(page, frame, 360)
        assert errors == [] and foreign == []


@pytest.mark.browser
def test_out_of_range_saved_state_is_clamped_and_flagged(chromium, explorer, tmp_path):
    for bad, expected in (
        ({"beta": 5.0, "t": 1000}, (0.2, 100)),
        ({"beta": -1.0, "t": -3}, (0.001, 0)),
        ({"beta": "NaN", "t": None}, (0.001, 0)),
        ({"t": 7.6}, (0.03, 8)),
    ):
        saved = json.dumps({**explorer.payload, **bad})
        page_html = explorer.page.replace(live._script_safe(json.dumps(explorer.payload)), live._script_safe(saved))
        assert page_html != explorer.page
        output = explorer.html.replace(live.html.escape(explorer.page, quote=True), live.html.escape(page_html, quote=True))
        url = host_page(output, tmp_path / "saved.html")
        with opened(chromium, url) as (_, frame, errors, _foreign):
            snap = snapshot(frame)
            assert (snap["beta"], snap["t"]) == pytest.approx(expected), bad
            flag = frame.locator(".flag")
            assert flag.is_visible() and "saved state" in flag.inner_text()
            assert_agrees(snap)  # finite, and the numbers of the clamped state
            shown = frame.evaluate("() => [...document.querySelectorAll('.title, .stats, output')].map(e => e.textContent).join(' ')")
            assert "NaN" not in shown and "Infinity" not in shown, shown
            assert errors == []


def assert_fallback_shows_without_javascript(chromium, url: str, alt: str, min_width: int = 300) -> None:
    """With JavaScript off, the explorer's static PNG loads whole inside its frame, with ``alt``."""
    context = chromium.new_context(viewport={"width": 760, "height": 900}, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        frame = page.wait_for_selector("iframe").content_frame()
        image = frame.locator("img.fallback")
        image.wait_for()
        frame.wait_for_function("() => { const i = document.querySelector('img.fallback'); return i.complete && i.naturalWidth > 0; }")
        assert image.get_attribute("alt") == alt
        box, frame_box = image.bounding_box(), page.locator("iframe").bounding_box()
        assert box["width"] > min_width and box["y"] + box["height"] <= frame_box["y"] + frame_box["height"] + 1, "the picture is cut off"
    finally:
        context.close()


@pytest.mark.browser
def test_without_javascript_the_static_picture_shows_with_its_alt_text(chromium, explorer, page_url):
    assert_fallback_shows_without_javascript(chromium, page_url, explorer.alt_text)


def one_page_book(tmp_path: Path, html: str, plain: str, source: str = "dv.explorer(...)") -> str:
    """Build a one-page Jupyter Book whose one code cell's stored output is ``html``; its file: URL.

    Not `make book`: a one-page Jupyter Book 1.x over a notebook whose stored output is the given
    HTML (MyST-NB writes a cell's text/html output into the page, the book's route), built with
    execution off (seconds). Skips without jupyter-book (the book extra).
    """
    import subprocess
    import sys

    import nbformat

    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    if not jupyter_book.is_file():
        pytest.skip("jupyter-book is not installed (the book extra)")
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/html": html, "text/plain": plain}, execution_count=1)]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Live\n\nThe output:"), cell])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "live.ipynb")
    (tmp_path / "_config.yml").write_text('title: live\nexecute:\n  execute_notebooks: "off"\n', encoding="utf-8")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: live\n", encoding="utf-8")
    build = subprocess.run([str(jupyter_book), "build", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    return (tmp_path / "_build" / "html" / "live.html").as_uri()


@pytest.mark.slow
@pytest.mark.browser
def test_live_in_a_one_page_jupyter_book_built_offline(chromium, explorer, tmp_path):
    """The route the book takes, on one page (:func:`one_page_book`).

    The explorer must draw and answer a key from file:, with no request leaving the disk and no
    error inside its frame, at 390 px too.
    """
    url = one_page_book(tmp_path, explorer.html, repr(explorer), "dv.forward_1d_live(key, data)")
    for width in (1280, 390):
        with opened(chromium, url, width=width) as (page, frame, errors, foreign):
            n = draws(frame)
            frame.focus("#s-t")
            page.keyboard.press("ArrowRight")
            wait_redrawn(frame, n)
            assert snapshot(frame)["t"] == 21
            assert page.evaluate("() => document.documentElement.scrollWidth") <= width
            assert foreign == []
            # (this bare book's theme logs errors of its own; the course's book removes them)
            assert [e for e in errors if "srcdoc" in e] == []
