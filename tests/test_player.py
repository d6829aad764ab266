"""The kernel-free players: frames stored as palette PNGs look like matplotlib's own frames.

The reference is matplotlib's unmodified ``to_jshtml()`` output for the same animation,
decoded here with Pillow; the comparison is pixel by pixel, in RGB.
"""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from figtools import alt_text_problem, frame_pngs  # tests/figtools.py
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from PIL import Image
from test_live import chromium  # noqa: F401  (a fixture: one browser set-up for the browser tests)

from diffviz.viz import player as _player


def _figure_and_draw():
    """A small figure with anti-aliased lines, text, a filled area and a colour map: 5 frames."""
    fig = Figure(figsize=(3.0, 2.0), dpi=90, layout="constrained")
    ax = fig.add_subplot()
    x = np.linspace(0, 2 * np.pi, 200)
    (curve,) = ax.plot(x, np.sin(x), color="tab:red", lw=2)
    ax.fill_between(x, -1, np.cos(x), color="tab:blue", alpha=0.3)
    ax.imshow(np.linspace(0, 1, 64).reshape(8, 8), extent=(0, 1, 0, 1), cmap="viridis")
    title = ax.set_title("frame 0")
    ax.set(xlabel="x", ylabel="y")

    def draw(i: int):
        curve.set_ydata(np.sin(x + i))
        title.set_text(f"frame {i}: ᾱₜ = {0.1 * i:.2f}")
        return curve, title

    return fig, draw


def _rgb(b64: str) -> np.ndarray:
    with Image.open(io.BytesIO(base64.b64decode(b64))) as image:
        mode = image.mode
        rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    white.alpha_composite(rgba)
    return mode, np.asarray(white.convert("RGB"), np.int32)


def _visibly_different(a: np.ndarray, b: np.ndarray) -> str | None:
    """Why two RGB pictures of the same size differ to the eye, or None: a mean error of 1.5
    of 255 levels, or over 1% of the pixels off by more than 24 levels in some channel."""
    diff = np.abs(a - b)
    if diff.mean() >= 1.5:
        return f"mean colour error {diff.mean():.2f} levels of 255"
    if np.mean(diff.max(axis=2) > 24) >= 0.01:
        return f"{np.mean(diff.max(axis=2) > 24):.1%} of the pixels changed visibly"
    return None


ALT = 'A sine curve shifting to the right over 5 frames, with "quotes" & an ampersand.'


@pytest.fixture(scope="module")
def players():
    """(matplotlib's own player HTML, the package's player HTML) of the same 5 frames."""
    fig, draw = _figure_and_draw()
    _player.freeze_layout(fig, draw, 5)
    reference = FuncAnimation(fig, draw, frames=5, interval=100, blit=False, repeat=False).to_jshtml(default_mode="once")
    ours = _player.jshtml_player(*_figure_and_draw(), 5, interval_ms=100, alt=ALT)
    return reference, ours


def test_palette_frames_are_the_same_pictures_in_less_room(players):
    reference, ours = players
    ref_frames, our_frames = frame_pngs(reference), frame_pngs(ours)
    assert len(ref_frames) == len(our_frames) == 5
    for ref, new in zip(ref_frames, our_frames, strict=True):
        ref_mode, a = _rgb(ref)
        our_mode, b = _rgb(new)
        assert ref_mode == "RGBA" and our_mode == "P"  # matplotlib's RGBA became a palette image
        assert a.shape == b.shape == (180, 270, 3)  # 3 x 2 inches at 90 dpi
        assert _visibly_different(a, b) is None, _visibly_different(a, b)
    assert len(ours) < 0.7 * len(reference), f"{len(ours)} bytes against matplotlib's {len(reference)}"


def test_only_the_frames_change(players):
    reference, ours = players
    strip = _player._FRAME  # the same frame pattern the package rewrites

    def skeleton(html: str) -> str:  # frames elided, and the random 32-hex-digit id of each player
        return re.sub(r"[0-9a-f]{32}", "<id>", strip.sub(lambda m: m.group(1) + "..." + m.group(3), html))

    alt = ' alt="A sine curve shifting to the right over 5 frames, with &quot;quotes&quot; &amp; an ampersand."'
    assert ours.count(alt) == 1 and "alt=" not in reference
    assert ours.startswith(_player.FIT_COLUMN_STYLE)  # the rules that fit the player to a phone's column
    # the alt text, escaped, and those rules are the only other changes
    assert skeleton(reference) == skeleton(ours.replace(alt, "").removeprefix(_player.FIT_COLUMN_STYLE))


def test_alt_text_goes_on_the_one_player_image_or_fails():
    html = '<div><img id="_anim_img0123abcd">\n<input type="range"></div>'
    assert _player.with_alt_text(html, "frames <1>") == '<div><img id="_anim_img0123abcd" alt="frames &lt;1&gt;">\n<input type="range"></div>'
    for bad in ("", "   ", None):
        with pytest.raises(ValueError, match="alt must be a non-empty"):
            _player.with_alt_text(html, bad)
    with pytest.raises(ValueError, match="found 0"):
        _player.with_alt_text("<div></div>", "frames")
    with pytest.raises(ValueError, match="found 2"):
        _player.with_alt_text(html + html, "frames")


def test_a_two_colour_palette_would_fail_the_picture_check(players):
    """The checks above can fail: the same frames squeezed to 2 colours break them."""
    reference, _ = players
    b64 = frame_pngs(reference)[0]
    with Image.open(io.BytesIO(base64.b64decode(b64))) as image:
        crushed = image.convert("RGB").quantize(colors=2, dither=Image.Dither.NONE)
    out = io.BytesIO()
    crushed.save(out, format="PNG")
    _, a = _rgb(b64)
    _, b = _rgb(base64.b64encode(out.getvalue()).decode("ascii"))
    assert _visibly_different(a, b) is not None


# --- every player fits its frames: nothing drawn beyond the edge of the picture ---------------


def _overhang(fig, draw, n) -> list[str]:
    """Frames whose drawn content (the tight bbox: texts, tick labels, legends) leaves the figure,
    laid out as the player lays it out."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    _player.freeze_layout(fig, draw, n)
    width, height = fig.get_size_inches()
    slack = 1.0 / fig.dpi  # one pixel
    bad = []
    for i in sorted({0, n // 2, n - 1}):
        draw(i)
        box = fig.get_tightbbox(fig.canvas.get_renderer())
        if box.x0 < -slack or box.y0 < -slack or box.x1 > width + slack or box.y1 > height + slack:
            bad.append(f"frame {i}: content spans x {box.x0:.2f}..{box.x1:.2f}, y {box.y0:.2f}..{box.y1:.2f} in a {width:.2f} x {height:.2f} inch figure")
    return bad


def test_every_player_keeps_its_texts_inside_the_frame(captured_player):
    """The course's seven players, with the labels and sizes the chapters use."""
    import jax
    import jax.numpy as jnp

    import diffviz as dv

    rng = np.random.default_rng(0)
    key = jax.random.key(0)
    bimodal = dv.mixture_1d("bimodal")
    short = dv.constant_schedule(0.03, 100)
    path_1d = dv.run_forward_chain(key, short, dv.sample_mixture(key, bimodal, 2000), trajectory=True)
    dv.snapshot_scrubber_html(path_1d, bimodal, short, num_frames=6)  # chapter 2
    schedule_fns = {  # chapter 3's names
        "linear 1e-4 → 0.02": dv.linear_schedule,
        "cosine (s = 0.008)": dv.cosine_schedule,
        "constant β = 0.02": lambda T: dv.constant_schedule(0.02, T),
    }
    dv.schedule_scrubber_html(schedule_fns, [10, 100, 1000], x0=1.0)
    linear = dv.linear_schedule(1000)
    paths = {name: rng.standard_normal((1001, 300, 2)) for name in ("swiss roll", "two moons", "eight Gaussians", "checkerboard")}
    dv.diffusion_2d_animation_html(paths, schedule=linear, ts=[0, 42, 1000])  # chapter 4
    eight = dv.eight_gaussians_mixture()
    dv.score_field_scrubber_html(eight, linear, [1000, 100, 1], fields=("score", "denoiser"), trajectory=paths["two moons"])  # chapter 5
    dv.gaussian_conditioning_scrubber_html(rng.standard_normal((2000, 2)), jnp.zeros(2), jnp.array([[1.0, 0.8], [0.8, 1.0]]), [-2.0, 0.0, 2.0])  # chapter 1
    xs = np.linspace(-3, 3, 241)[:, None]
    curves = rng.standard_normal((3, 241))
    dv.eps_scrubber_html(xs, curves, curves + 0.1, [1, 10, 1000], densities=np.abs(curves))  # chapter 6
    dv.reverse_animation_html(rng.standard_normal((31, 500, 2)), ts=np.arange(31), num_frames=5, data=rng.standard_normal((500, 2)))  # chapter 7
    assert len(captured_player) == 7
    names = ["chapter 2", "chapter 3", "chapter 4", "chapter 5", "chapter 1", "chapter 6", "chapter 7"]  # call order
    problems = {name: _overhang(*call) for name, call in zip(names, captured_player, strict=True)}
    assert not any(problems.values()), {name: found for name, found in problems.items() if found}
    # Each player describes its frames for screen readers, in plain words (no TeX), with the
    # frame count and range it was given.
    alts = dict(zip(names, captured_player.alts, strict=True))
    assert {name: alt_text_problem(a) for name, a in alts.items() if alt_text_problem(a)} == {}
    assert "6 frames from t = 0 to t" not in alts["chapter 2"] and "6 frames from t = 0 to 100" in alts["chapter 2"]
    assert "3 frames from T = 10 to 1000" in alts["chapter 3"] and "cosine (s = 0.008)" in alts["chapter 3"]
    assert "4 scatter plots" in alts["chapter 4"] and "checkerboard" in alts["chapter 4"]
    assert "from t = 1000 to 1" in alts["chapter 5"] and "particles of a reverse run" in alts["chapter 5"]
    assert "3 frames from a = -2 to 2" in alts["chapter 1"]
    assert "density of x_t" in alts["chapter 6"] and "from t = 1 to 1000" in alts["chapter 6"]
    assert "5 frames" in alts["chapter 7"] and "t = 30 (Gaussian noise) to t = 0" in alts["chapter 7"]


# --- on a phone: the player fits the text column ------------------------------------------------

# Every box inside each player, against the box of the cell output that holds it (the book clips
# what sticks out of it): [player, element, how far its right edge passes the output's, in px].
_OVERFLOW_JS = """() => [...document.querySelectorAll('div.animation')].flatMap((player, i) => {
  const room = player.closest('.cell_output, .output') || document.body;
  const right = room.getBoundingClientRect().right;
  return [player, ...player.querySelectorAll('*')].map(e => [i, e.tagName + (e.title ? ' ' + e.title : ''),
    Math.round(e.getBoundingClientRect().right - right)]).filter(([, , over]) => over > 0.5);
})"""


@pytest.fixture(scope="module")
def phone_book(tmp_path_factory):
    """A one-page Jupyter Book (test_live.one_page_book) holding chapter 2's and chapter 4's players."""
    import jax
    from test_live import one_page_book

    import diffviz as dv

    key = jax.random.key(0)
    bimodal = dv.mixture_1d("bimodal")
    short = dv.constant_schedule(0.03, 100)
    path_1d = dv.run_forward_chain(key, short, dv.sample_mixture(key, bimodal, 2000), trajectory=True)
    rng = np.random.default_rng(0)
    paths = {name: rng.standard_normal((1001, 300, 2)) for name in ("swiss roll", "two moons", "eight Gaussians", "checkerboard")}
    html = dv.snapshot_scrubber_html(path_1d, bimodal, short, num_frames=4) + dv.diffusion_2d_animation_html(
        paths, schedule=dv.linear_schedule(1000), ts=[0, 42, 1000]
    )
    return one_page_book(tmp_path_factory.mktemp("player_book"), html, "players", "HTML(dv.snapshot_scrubber_html(...))")


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("width", [360, 390])
def test_players_fit_a_phone_column_in_a_built_page(chromium, phone_book, width):  # noqa: F811
    """At 360 and 390 px nothing of a player passes the output box (which the book clips), the
    last button shows whole, the picture scales down, and the slider still scrubs by touch."""
    context = chromium.new_context(viewport={"width": width, "height": 800}, has_touch=True)
    context.route("**/*", lambda r: r.continue_() if r.request.url.split(":", 1)[0] in {"file", "data"} else r.abort())
    try:
        page = context.new_page()
        page.goto(phone_book, wait_until="load")
        page.wait_for_function("() => [...document.images].every(i => i.complete)")
        assert page.locator("div.animation").count() == 2
        assert page.evaluate(_OVERFLOW_JS) == []
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        for player in page.locator("div.animation").all():
            last = player.locator("button[title='Increase speed']").bounding_box()
            room = player.locator("xpath=ancestor::div[contains(@class, 'cell_output')]").bounding_box()
            assert last["x"] >= room["x"] and last["x"] + last["width"] <= room["x"] + room["width"] + 0.5
            image = player.locator("img[id^=_anim_img]")
            assert image.bounding_box()["width"] <= room["width"] + 0.5
            assert image.evaluate("i => i.naturalWidth") > 0
        slider = page.locator("input.anim-slider").first
        slider.scroll_into_view_if_needed()
        box = slider.bounding_box()
        page.touchscreen.tap(box["x"] + 0.9 * box["width"], box["y"] + box["height"] / 2)
        page.wait_for_function("s => s.value !== '0'", arg=slider.element_handle())
    finally:
        context.close()
