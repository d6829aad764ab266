r"""Scrubbable players for the rendered book: every frame drawn now, embedded as PNG.

A live ``ipywidgets`` slider needs a Python kernel to redraw; the rendered book has none. The
course's stand-in is matplotlib's ``FuncAnimation(...).to_jshtml()``: HTML with its own slider
and play buttons and every frame embedded as a base64 PNG, so it works in any browser,
offline. Each ``*_scrubber_html`` / ``*_animation_html`` function of the plotting modules
builds one figure, a ``draw(i)`` that moves its artists to frame ``i``, and hands both to
:func:`jshtml_player`. The size of the HTML is about ``frames x (PNG of one frame) x 4/3``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def evenly_spaced_steps(last: int, num_frames: int) -> np.ndarray:
    """At most ``num_frames`` integers evenly spaced over ``0..last``, both ends included, no repeats."""
    return np.unique(np.round(np.linspace(0, last, num_frames)).astype(int))


def jshtml_player(fig: Figure, draw: Callable[[int], object], num_frames: int, *, interval_ms: int) -> str:
    """The HTML of a ``to_jshtml()`` player showing ``draw(0), ..., draw(num_frames - 1)`` on ``fig``.

    The figure is laid out once, with the texts of the last frame in place, and the layout is
    then frozen: with a layout engine on, every saved frame would pay for a layout pass and an
    extra draw, and the panels could shift a little from frame to frame while scrubbing.

    Args:
        fig: the figure every frame is drawn on.
        draw: ``draw(i)`` updates the figure's artists to frame ``i`` (it may return them).
        num_frames: the number of frames, ``>= 1``.
        interval_ms: time between frames when the player plays.

    Returns:
        The HTML as a string; the player starts on frame 0 and plays once.
    """
    from matplotlib.animation import FuncAnimation

    draw(num_frames - 1)
    fig.draw_without_rendering()
    fig.set_layout_engine(None)
    animation = FuncAnimation(fig, draw, frames=num_frames, interval=interval_ms, blit=False, repeat=False)
    return animation.to_jshtml(default_mode="once")
