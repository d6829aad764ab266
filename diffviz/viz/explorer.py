r"""What every explorer shares: the Agg figure, the PNG it shows, blitting and the forward chain.

An explorer is a small object: ``.widget`` is what a notebook displays, the controls are plain
attributes, and :meth:`_Explorer.render` redraws and puts the new PNG into ``explorer.output``
(and ``explorer.last_png``). Tests drive an explorer without a kernel by setting a control's
``.value``: ipywidgets observers run synchronously. The explorers themselves are in
:mod:`diffviz.viz.widgets_1d`, :mod:`diffviz.viz.widgets_2d` and
:mod:`diffviz.viz.widgets_learning`.
"""

from __future__ import annotations

import base64
import io
import time
from collections import OrderedDict
from collections.abc import Callable

import jax

from diffviz._forward import run_forward_chain
from diffviz.viz.style import _figure

# The one compiled forward chain of every explorer: num_steps, drift and trajectory are Python
# values. The explorers call it through this module (``explorer.simulate``), so a test can count
# the simulations by replacing it here.
simulate = jax.jit(run_forward_chain, static_argnames=("num_steps", "drift", "trajectory"))


def _cached(cache: OrderedDict, key, size: int, compute: Callable[[], object]):
    """``cache[key]``, made by ``compute()`` when missing; beyond ``size`` entries the least recently used go."""
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = cache[key] = compute()
    while len(cache) > size:
        cache.popitem(last=False)
    return value


def _png(canvas) -> bytes:
    """The Agg canvas's current pixels as PNG bytes (light compression: speed over size)."""
    from PIL import Image  # Pillow is a dependency of matplotlib

    width, height = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _show_png(output, png: bytes, description: str) -> None:
    """Replace what an ``ipywidgets.Output`` shows with one PNG image.

    Setting ``outputs`` directly (rather than ``with output: display(...)``) works the same
    in a kernel and outside one, and the image is part of the widget's saved state.
    """
    output.outputs = (
        {
            "output_type": "display_data",
            "data": {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": description},
            "metadata": {},
        },
    )


def _agg_figure(figsize: tuple[float, float], dpi: float):
    """A constrained-layout Figure on its own Agg canvas (no ``pyplot``, no GUI backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _figure(figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


class _Explorer:
    """What every explorer shares: an ``Output`` that shows one PNG, :meth:`render`, and the
    counters the tests read (``render_count``, ``last_render_seconds``, ``last_png``).

    A subclass builds ``self.widget`` around the ``Output`` from :meth:`_init_output`, and
    implements ``_draw() -> (png, description)``: update the figure for the current control
    values and encode it (``description`` is the image's text/plain alternative). Explorers
    that cache a simulation also implement ``_load()`` and observe their setting controls
    with :meth:`_on_setting` (reload, then redraw) and the cheap ones with :meth:`_on_change`.
    """

    def _init_output(self, figsize: tuple[float, float], dpi: float):
        import ipywidgets as widgets

        self.output = widgets.Output(layout=widgets.Layout(min_height=f"{int(figsize[1] * dpi) + 10}px"))
        self.render_count = 0
        self.last_render_seconds = float("nan")
        self.last_png = b""
        return self.output

    def _draw(self) -> tuple[bytes, str]:
        raise NotImplementedError

    def _load(self) -> None:
        raise NotImplementedError

    def render(self) -> bytes:
        """Redraw for the current control values and show the PNG; returns the PNG bytes."""
        start = time.perf_counter()
        png, description = self._draw()
        _show_png(self.output, png, description)
        self.last_png = png
        self.render_count += 1
        self.last_render_seconds = time.perf_counter() - start
        return png

    def _on_change(self, change) -> None:
        self.render()

    def _on_setting(self, change) -> None:
        self._load()
        self.render()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


class _Blitter:
    """Draw a figure once without its dynamic artists, then redraw only those on top."""

    def __init__(self, figure, dynamic: tuple):
        self.figure, self.dynamic = figure, dynamic
        for artist in dynamic:
            artist.set_animated(True)  # left out of the full draw: the background
        figure.canvas.draw()
        # Freeze the layout computed on this first draw: a layout pass per redraw is wasted.
        figure.set_layout_engine(None)
        self.background = figure.canvas.copy_from_bbox(figure.bbox)

    def redraw(self) -> bytes:
        canvas = self.figure.canvas
        canvas.restore_region(self.background)
        for artist in self.dynamic:
            if artist.get_visible():
                self.figure.draw_artist(artist)
        return _png(canvas)
