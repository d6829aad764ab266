r"""Scrubbable players for the rendered book: every frame drawn now, embedded as PNG.

A live ``ipywidgets`` slider needs a Python kernel to redraw; the rendered book has none. The
course's stand-in is matplotlib's ``FuncAnimation(...).to_jshtml()``: HTML with its own slider
and play buttons and every frame embedded as a base64 PNG, so it works in any browser,
offline. Each ``*_scrubber_html`` / ``*_animation_html`` function of the plotting modules
builds one figure, a ``draw(i)`` that moves its artists to frame ``i``, and hands both to
:func:`jshtml_player`. The size of the HTML is about ``frames x (PNG of one frame) x 4/3``.

Each frame is stored as a 256-colour palette PNG instead of matplotlib's full-colour RGBA
one. A plot has few distinct colours, so the picture barely changes (anti-aliased edges
and text are the only places with many shades), and the frames take about 2.5x less room
(measured on chapter 4's player: 547 kB -> 217 kB for 24 frames). The players spend that on
resolution: their default dpi is about what the static figures use, so their text is legible.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable
from html import escape as html_escape
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def evenly_spaced_steps(last: int, num_frames: int) -> np.ndarray:
    """At most ``num_frames`` integers evenly spaced over ``0..last``, both ends included, no repeats."""
    return np.unique(np.round(np.linspace(0, last, num_frames)).astype(int))


def jshtml_player(fig: Figure, draw: Callable[[int], object], num_frames: int, *, interval_ms: int, alt: str) -> str:
    """The HTML of a ``to_jshtml()`` player showing ``draw(0), ..., draw(num_frames - 1)`` on ``fig``.

    The figure is laid out once, with the texts of the last frame in place, and the layout is
    then frozen: with a layout engine on, every saved frame would pay for a layout pass and an
    extra draw, and the panels could shift a little from frame to frame while scrubbing.

    Args:
        fig: the figure every frame is drawn on.
        draw: ``draw(i)`` updates the figure's artists to frame ``i`` (it may return them).
        num_frames: the number of frames, ``>= 1``.
        interval_ms: time between frames when the player plays.
        alt: what the frames show, in plain words, for screen readers: it becomes the alt text
            of the player's image (every frame shares it).

    Returns:
        The HTML as a string; the player starts on frame 0 and plays once.
    """
    from matplotlib.animation import FuncAnimation

    freeze_layout(fig, draw, num_frames)
    animation = FuncAnimation(fig, draw, frames=num_frames, interval=interval_ms, blit=False, repeat=False)
    return FIT_COLUMN_STYLE + with_alt_text(palette_frames(animation.to_jshtml(default_mode="once")), alt)


# matplotlib's player has a fixed-width slider (374 px), nine 36 px buttons on one line and an
# image at its natural size: on a 360-390 px phone its right edge and last button are cut off.
# These rules (more specific than matplotlib's, so they win wherever they sit on the page) let
# the player shrink to the text column: the image scales, the slider takes the width there is,
# and the buttons narrow a little and wrap onto a second line when they must.
FIT_COLUMN_STYLE = """<style>
.animation { max-width: 100%; box-sizing: border-box; }
.animation img { max-width: 100%; height: auto; }
.animation input[type=range].anim-slider { width: 374px; max-width: 100%; box-sizing: border-box; }
.animation .anim-buttons { display: flex; flex-wrap: wrap; justify-content: center; gap: 2px; }
.animation .anim-buttons button { flex: 0 1 36px; min-width: 30px; min-height: 30px; }
.animation .anim-state { display: flex; flex-wrap: wrap; justify-content: center; align-items: center; }
</style>
"""


# The image a to_jshtml() player shows its frames in: `<img id="_anim_img<hex>">`.
_FRAME_IMG = re.compile(r'<img id="_anim_img[0-9a-f]+"')


def with_alt_text(html: str, alt: str) -> str:
    """A ``to_jshtml()`` player's HTML with ``alt`` (escaped) as the alt text of its frame image."""
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(f"alt must be a non-empty description of the frames; got {alt!r}")
    found = _FRAME_IMG.findall(html)
    if len(found) != 1:
        raise ValueError(f"expected one player image in the HTML, found {len(found)}")
    return _FRAME_IMG.sub(lambda m: f'{m.group(0)} alt="{html_escape(alt, quote=True)}"', html)


def freeze_layout(fig: Figure, draw: Callable[[int], object], num_frames: int) -> None:
    """Lay ``fig`` out once, with the texts of the last frame in place, and keep that layout."""
    draw(num_frames - 1)
    fig.draw_without_rendering()
    fig.set_layout_engine(None)


# A frame of a to_jshtml() player: `frames[i] = "data:image/png;base64,<base64 with \-newlines>"`.
_FRAME = re.compile(r'(frames\[\d+\] = "data:image/png;base64,)([^"]*)(")')


def palette_png(png: bytes) -> bytes:
    """``png`` as a PNG of at most 256 colours, flattened onto white (no dithering: flat areas stay flat)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        rgba = image.convert("RGBA")
    flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat.alpha_composite(rgba)
    palette = flat.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def palette_frames(html: str) -> str:
    """A ``to_jshtml()`` player's HTML with every embedded frame replaced by :func:`palette_png` of it."""

    def convert(match: re.Match) -> str:
        png = base64.b64decode(match.group(2).replace("\\", "").replace("\n", ""))
        return match.group(1) + base64.b64encode(palette_png(png)).decode("ascii") + match.group(3)

    return _FRAME.sub(convert, html)
