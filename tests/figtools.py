"""Reading figures back in the plot tests: artists by ``gid``, their data, axis labels, players.

Every course figure tags the artists a test needs with a ``gid``; these helpers find them and
return their data as float64 NumPy arrays, so the tests compare numbers, not pictures.
"""

from __future__ import annotations

import re

import numpy as np
from matplotlib.figure import Figure

_FRAME = re.compile(r'frames\[\d+\] = "data:image/png;base64,([^"]+)"')


def artists(fig: Figure, gid: str) -> list:
    """Every artist of every Axes of ``fig`` tagged ``gid`` (at least one)."""
    found = [a for ax in fig.axes for a in ax.get_children() if a.get_gid() == gid]
    assert found, f"no artist with gid {gid!r}"
    return found


def artist(fig: Figure, gid: str):
    """The one artist tagged ``gid``."""
    found = artists(fig, gid)
    assert len(found) == 1, f"expected one artist with gid {gid!r}, found {len(found)}"
    return found[0]


def line(fig: Figure, gid: str) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of the one Line2D tagged ``gid``."""
    found = artist(fig, gid)
    return np.asarray(found.get_xdata(), np.float64), np.asarray(found.get_ydata(), np.float64)


def offsets(fig: Figure, gid: str) -> np.ndarray:
    """The ``(n, 2)`` points of the one scatter tagged ``gid``."""
    return np.asarray(artist(fig, gid).get_offsets(), np.float64)


def assert_labelled(fig: Figure, n_axes: int) -> None:
    """``fig`` is a Figure with ``n_axes`` Axes, each with an x and a y label."""
    assert isinstance(fig, Figure)
    assert len(fig.axes) == n_axes
    for ax in fig.axes:
        assert ax.get_xlabel().strip(), "every x axis needs a label"
        assert ax.get_ylabel().strip(), "every y axis needs a label"


def frame_pngs(html: str) -> list[str]:
    """The base64 PNG of every frame of a ``to_jshtml()`` player, in order."""
    return _FRAME.findall(html)


def frames_in(html: str) -> int:
    """How many frames a ``to_jshtml()`` player embeds."""
    return len(frame_pngs(html))


def assert_floor_note_under_the_floor(ax, floor: float) -> None:
    """A log axis clipped at ``floor`` says so in a note drawn wholly below the floor line,
    where no clipped curve can run through it (checked in display pixels)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = ax.figure
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    notes = [t for t in ax.texts if t.get_gid() == "floor-note"]
    assert len(notes) == 1, "no note saying where clipped values are drawn"
    assert f"{floor:g}" in notes[0].get_text()
    floor_pixel = ax.transData.transform((ax.get_xlim()[0], floor))[1]
    note = notes[0].get_window_extent(renderer)
    assert note.y1 < floor_pixel, f"the note (top at {note.y1:.0f} px) reaches the floor line ({floor_pixel:.0f} px)"
    assert note.y0 >= ax.get_window_extent(renderer).y0, "the note hangs below the axes"


# Alt text (figures' cell metadata mystnb.image.alt, and the players' frame image) is read
# aloud by screen readers: a sentence or three of plain text, no TeX or Markdown.
ALT_MIN, ALT_MAX = 80, 600


def alt_text_problem(alt) -> str | None:
    """Why ``alt`` is not a usable description, or None."""
    if not isinstance(alt, str) or not ALT_MIN <= len(alt) <= ALT_MAX:
        return f"alt text should be {ALT_MIN}-{ALT_MAX} characters of plain text"
    if re.search(r"[$\\`]|\*\*", alt):
        return f"alt text is read aloud; write it without TeX or Markdown: {alt[:60]!r}"
    return None
