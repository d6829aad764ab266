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
from figtools import frame_pngs  # tests/figtools.py
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from PIL import Image

from diffviz import _player


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


@pytest.fixture(scope="module")
def players():
    """(matplotlib's own player HTML, the package's player HTML) of the same 5 frames."""
    fig, draw = _figure_and_draw()
    draw(4)
    fig.draw_without_rendering()
    fig.set_layout_engine(None)
    reference = FuncAnimation(fig, draw, frames=5, interval=100, blit=False, repeat=False).to_jshtml(default_mode="once")
    ours = _player.jshtml_player(*_figure_and_draw(), 5, interval_ms=100)
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
        diff = np.abs(a - b)
        assert diff.mean() < 1.5, f"mean colour error {diff.mean():.2f} levels of 255"
        assert np.mean(diff.max(axis=2) > 24) < 0.01, "more than 1% of the pixels changed visibly"
    assert len(ours) < 0.7 * len(reference), f"{len(ours)} bytes against matplotlib's {len(reference)}"


def test_only_the_frames_change(players):
    reference, ours = players
    strip = _player._FRAME  # the same frame pattern the package rewrites

    def skeleton(html: str) -> str:  # frames elided, and the random 32-hex-digit id of each player
        return re.sub(r"[0-9a-f]{32}", "<id>", strip.sub(lambda m: m.group(1) + "..." + m.group(3), html))

    assert skeleton(reference) == skeleton(ours)


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
    diff = np.abs(a - b)
    assert diff.mean() >= 1.5 or np.mean(diff.max(axis=2) > 24) >= 0.01
