r"""Figures of 8x8 digit images: pure functions, arrays in, a new Figure out.

Like the other plotting modules, nothing here uses ``pyplot``: the figure is not registered
globally, needs no closing and is safe with the Agg backend. Images are given in *model
units* (the flattened ``(n, 64)`` rows of :func:`~diffviz.load_digits`, or ``(n, 8, 8)``),
and drawn in grey with ``value_range`` mapped from white to black, so blank paper
(:math:`-1`) is white and full ink (:math:`+1`) black. Values outside the range (noise,
samples that overshoot) saturate at white or black.

A figure is a single Axes with no ticks, holding one ``AxesImage`` per digit (placed with
``extent``) and the texts: far quicker to draw than one Axes per digit, which matters for
grids of a hundred digits in a notebook. Each image has a ``gid`` (``"digit:{i}"``, or
``"digit:{panel}:{i}"`` for several panels), so tests can read back exactly what was drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from diffviz import _validate as v
from diffviz._digits import DIGIT_SHAPE
from diffviz.viz.style import _finite

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_CMAP = "gray_r"  # low values white (paper), high values black (ink)


def _images(name: str, images) -> np.ndarray:
    """``(n, 64)`` or ``(n, 8, 8)`` finite images as float64 ``(n, 8, 8)``, ``n >= 1``."""
    if isinstance(images, (bool, np.bool_)):
        raise ValueError(f"{name} must be an array of images; got a bool")
    try:
        arr = np.asarray(images, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be an array of images, shape (n, 64) or (n, 8, 8); got {type(images).__name__}") from err
    rows, cols = DIGIT_SHAPE
    if arr.ndim == 2 and arr.shape[1] == rows * cols:
        arr = arr.reshape(arr.shape[0], rows, cols)
    if arr.ndim != 3 or arr.shape[1:] != DIGIT_SHAPE or arr.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n, 64) or (n, 8, 8) with n >= 1; got {np.shape(images)}")
    return _finite(name, arr)


def _value_range(value_range) -> tuple[float, float]:
    return v.finite_range("value_range", value_range)


def _texts(name: str, texts, length: int, what: str) -> list[str] | None:
    if texts is None:
        return None
    if isinstance(texts, str) or not isinstance(texts, Sequence) or len(texts) != length:
        raise ValueError(f"{name} must be a list of {length} strings ({what}); got {texts!r}")
    return [str(t) for t in texts]


_GAP = 0.15  # space between two images, in image widths
_PANEL_GAP = 0.6  # space between two panels, in image widths
_FONT = 8  # points, for titles and labels
_PANEL_FONT = 9


def _line(cell_size: float, points: float = _FONT) -> float:
    """The height of one line of text of ``points`` size, in image widths."""
    return points * 1.3 / 72.0 / cell_size


def _draw_grid(
    ax: Axes,
    images: np.ndarray,
    *,
    x0: float,
    y0: float,
    ncols: int,
    row_height: float,
    value_range: tuple[float, float],
    titles: list[str] | None,
    gid_prefix: str,
) -> None:
    """Draw ``images`` row by row with their top-left corner at ``(x0, y0)`` (y grows downwards)."""
    from matplotlib.patches import Rectangle

    title_space = row_height - (1.0 + _GAP)
    for i, image in enumerate(images):
        r, c = divmod(i, ncols)
        left, top = x0 + c * (1.0 + _GAP), y0 + r * row_height + title_space
        ax.imshow(
            image, cmap=_CMAP, vmin=value_range[0], vmax=value_range[1], interpolation="nearest",
            extent=(left, left + 1.0, top + 1.0, top), gid=f"{gid_prefix}{i}",
        )  # fmt: skip
        ax.add_patch(Rectangle((left, top), 1.0, 1.0, fill=False, edgecolor="0.8", lw=0.6, clip_on=False))
        if titles is not None:
            ax.text(left + 0.5, top - 0.04, titles[i], ha="center", va="bottom", fontsize=_FONT, gid=f"title:{i}")


def plot_digit_grid(
    images,
    *,
    ncols: int = 10,
    titles: Sequence[str] | None = None,
    row_labels: Sequence[str] | None = None,
    title: str | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
    cell_size: float = 0.62,
) -> Figure:
    r"""A grid of 8x8 images, or several grids side by side.

    The whole figure is one Axes (no ticks) holding one ``AxesImage`` per digit, which keeps
    even a grid of a hundred digits quick to draw.

    Args:
        images: ``(n, 64)`` or ``(n, 8, 8)`` images in model units, drawn row by row,
            ``ncols`` to a row; or ``{panel title: images}`` for panels side by side (for
            example samples next to real digits), each a grid of its own.
        ncols: images per row, an integer >= 1 (a row holds at most ``n`` images).
        titles: one short text per image, shown above it (single grid only); it may hold
            line breaks.
        row_labels: one text per row of the grid, shown on its left (single grid only).
        title: a title for the whole figure.
        value_range: ``(low, high)``: ``low`` is drawn white, ``high`` black. The default
            ``(-1, 1)`` is the range of the data in model units.
        cell_size: the size of one image in inches.

    Returns:
        A new Figure with one Axes. Every image is an ``AxesImage`` with gid ``"digit:{i}"``
        (single grid) or ``"digit:{panel}:{i}"`` (panels), ``i`` counting from 0 in reading
        order; texts have gids ``"title:{i}"``, ``"row:{r}"`` and ``"panel:{panel}"``.

    Raises:
        ValueError: for images that are not finite ``(n, 64)`` or ``(n, 8, 8)`` arrays, an
            empty mapping, a bad ``ncols``, ``value_range`` or ``cell_size``, or ``titles`` /
            ``row_labels`` of the wrong length or given with several panels.
    """
    from matplotlib.figure import Figure

    ncols = v.positive_int("ncols", ncols)
    lo_hi = _value_range(value_range)
    if isinstance(cell_size, (bool, np.bool_)) or not isinstance(cell_size, (int, float)) or not 0 < cell_size <= 5:
        raise ValueError(f"cell_size must be a number of inches in (0, 5]; got {cell_size!r}")
    named = isinstance(images, Mapping)
    if named:
        if not images:
            raise ValueError("images must hold at least one panel; got an empty mapping")
        for name, value in (("titles", titles), ("row_labels", row_labels)):
            if value is not None:
                raise ValueError(f"{name} is only supported for a single grid, not for a mapping of panels")
        panels = {str(k): _images(f"images[{k!r}]", val) for k, val in images.items()}
    else:
        panels = {"": _images("images", images)}
        n = panels[""].shape[0]
        cols = min(ncols, n)
        titles = _texts("titles", titles, n, "one per image")
        row_labels = _texts("row_labels", row_labels, math.ceil(n / cols), "one per row of the grid")

    line = _line(cell_size)
    title_lines = max(t.count("\n") + 1 for t in titles) if titles else 0
    row_height = 1.0 + _GAP + title_lines * line
    label_width = (max(t.count("\n") + 1 for t in row_labels) * line + _GAP) if row_labels else 0.0
    panel_title = 1.5 * _line(cell_size, _PANEL_FONT) if named else 0.0

    # Lay the panels out left to right; a panel is at least as wide as its title.
    x, layout, height = label_width, [], 0.0
    for name, arr in panels.items():
        cols = min(ncols, arr.shape[0])
        rows = math.ceil(arr.shape[0] / cols)
        grid_width = cols * (1.0 + _GAP) - _GAP
        width = max(grid_width, 0.6 * len(name) * _line(cell_size, _PANEL_FONT)) if named else grid_width
        layout.append((name, arr, cols, x + (width - grid_width) / 2, x + width / 2))
        height = max(height, panel_title + rows * row_height - _GAP)
        x += width + _PANEL_GAP
    width = x - _PANEL_GAP
    top = 1.6 * _line(cell_size, 10) if title is not None else 0.0
    pad = 0.1  # inches around the drawing
    fig = Figure(figsize=(width * cell_size + 2 * pad, (height + top) * cell_size + 2 * pad))
    fw, fh = fig.get_size_inches()
    ax = fig.add_axes((pad / fw, pad / fh, width * cell_size / fw, height * cell_size / fh))
    for name, arr, cols, grid_left, centre in layout:
        if named:
            ax.text(centre, panel_title * 0.8, name, ha="center", va="bottom", fontsize=_PANEL_FONT, gid=f"panel:{name}")
        _draw_grid(
            ax, arr, x0=grid_left, y0=panel_title, ncols=cols, row_height=row_height, value_range=lo_hi,
            titles=titles if not named else None, gid_prefix=f"digit:{name}:" if named else "digit:",
        )  # fmt: skip
    if row_labels is not None:
        for r, label in enumerate(row_labels):
            centre = r * row_height + (row_height - 1.0 - _GAP) + 0.5
            ax.text(label_width - _GAP, centre, label, ha="right", va="center", rotation=90, fontsize=_FONT, gid=f"row:{r}")
    ax.set_xlim(0.0, width)
    ax.set_ylim(height, 0.0)  # y grows downwards: the first row on top
    ax.set_aspect("auto")
    ax.set_axis_off()
    if title is not None:
        fig.suptitle(title, fontsize=10, y=1.0 - 0.3 * pad / fh, va="top")
    return fig


def _class_array(name: str, samples, ndim: int, shape_text: str) -> np.ndarray:
    """Samples grouped by leading axes, as float64 ``(..., 8, 8)`` with ``ndim`` leading axes."""
    try:
        arr = np.asarray(samples, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be an array of shape {shape_text}; got {type(samples).__name__}") from err
    if arr.ndim == ndim + 1 and arr.shape[-1] == 64:
        arr = arr.reshape(arr.shape[:-1] + DIGIT_SHAPE)
    if arr.ndim != ndim + 2 or arr.shape[-2:] != DIGIT_SHAPE or 0 in arr.shape:
        raise ValueError(f"{name} must have shape {shape_text} (64 pixels, or 8 x 8), none of them empty; got {np.shape(samples)}")
    return _finite(name, arr)


def _class_names(class_names, num_classes: int) -> list[str]:
    if class_names is None:
        return [str(k) for k in range(num_classes)]
    return _texts("class_names", class_names, num_classes, "one per class, i.e. per row")


def plot_digits_by_class(samples, *, class_names: Sequence[str] | None = None, title: str | None = None, cell_size: float = 0.62) -> Figure:
    """Samples of a class-conditional model, one row per class.

    Args:
        samples: ``(K, m, 64)`` or ``(K, m, 8, 8)`` images in model units: ``m`` samples of
            each of ``K`` classes (row ``k`` shows ``samples[k]``).
        class_names: ``K`` texts to label the rows (default ``"0"``, ``"1"``, ...).
        title: a title for the figure.
        cell_size: the size of one image in inches.

    Returns:
        A figure drawn by :func:`plot_digit_grid`: image ``k * m + j`` (gid ``"digit:{k*m+j}"``)
        is ``samples[k, j]``; the row labels have gids ``"row:{k}"``.
    """
    arr = _class_array("samples", samples, 2, "(K, m, 64)")
    num_classes, per_class = arr.shape[:2]
    names = _class_names(class_names, num_classes)
    return plot_digit_grid(arr.reshape(-1, *DIGIT_SHAPE), ncols=per_class, row_labels=names, title=title, cell_size=cell_size)


def plot_guidance_sweep(
    samples, scales, *, class_names: Sequence[str] | None = None, title: str | None = None, cell_size: float = 0.62
) -> Figure:
    """A guidance sweep: one row per class, one group of columns per guidance scale ``w``.

    Args:
        samples: ``(K, S, 64)`` or ``(K, S, 8, 8)`` (one sample per class and scale), or
            ``(K, S, m, 64)`` / ``(K, S, m, 8, 8)`` (``m`` samples per class and scale, side
            by side): ``samples[k, s]`` drawn with class ``k`` at scale ``scales[s]``. Use the
            same noise for every scale (the same key) so a row shows one digit changing with ``w``.
        scales: the ``S`` guidance scales, finite numbers; each group of columns is titled
            ``"w = ..."`` on the first row.
        class_names: ``K`` texts to label the rows (default ``"0"``, ``"1"``, ...).
        title: a title for the figure.
        cell_size: the size of one image in inches.

    Returns:
        A figure drawn by :func:`plot_digit_grid`: row ``k`` holds ``samples[k, 0, :]``, then
        ``samples[k, 1, :]``, ...; image gids ``"digit:{i}"`` in reading order, the column
        titles ``"title:{i}"`` (empty past the first row), row labels ``"row:{k}"``.
    """
    shape_text = "(K, S, 64) or (K, S, m, 64)"
    ndim, last = np.ndim(samples), (np.shape(samples) or (0,))[-1]
    if ndim == 5 or (ndim == 4 and last == 64):  # m samples per class and scale
        arr = _class_array("samples", samples, 3, shape_text)
    else:
        arr = _class_array("samples", samples, 2, shape_text)[:, :, None]
    num_classes, num_scales, per_scale = arr.shape[:3]
    try:
        values = np.asarray(scales, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as err:
        raise ValueError(f"scales must be {num_scales} finite numbers, one per column group; got {scales!r}") from err
    if values.shape != (num_scales,) or not np.all(np.isfinite(values)):
        raise ValueError(f"scales must be {num_scales} finite numbers, one per column group; got {scales!r}")
    names = _class_names(class_names, num_classes)
    ncols = num_scales * per_scale
    first_row = [f"w = {w:g}" if j == 0 else "" for w in values for j in range(per_scale)]
    titles = first_row + [""] * (ncols * (num_classes - 1))
    return plot_digit_grid(
        arr.reshape(-1, *DIGIT_SHAPE), ncols=ncols, titles=titles, row_labels=names, title=title, cell_size=cell_size
    )
