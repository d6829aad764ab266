r"""An interactive view for the training chapter: the learned noise prediction, ``t`` by ``t``.

Thin ``ipywidgets`` wiring over :mod:`diffviz.viz.plots_training`, in the style of
:mod:`diffviz.viz.explorer`: ``.widget`` is what a notebook displays, the control is a plain
attribute, :meth:`EpsExplorer.render` redraws. Nothing is evaluated when the slider moves:
the notebook computes the predictions for every step on the slider *once*, and a slider
change only redraws the panel from those arrays (about 50 ms). Tests drive the explorer
without a kernel by setting ``explorer.slider.value``.
"""

from __future__ import annotations

from collections.abc import Sequence

from diffviz.viz import plots_training as _pl
from diffviz.viz.explorer import _agg_figure, _Blitter, _Explorer


class EpsExplorer(_Explorer):
    r"""A ``t`` slider over precomputed curves of :math:`\hat\varepsilon_\theta(x, t)` and :math:`\varepsilon^*(x, t)`.

    Build with :func:`eps_explorer`. Attributes: ``widget`` (the ``VBox`` to display),
    ``slider`` (a ``SelectionSlider`` over the given steps), ``output`` (the ``Output``
    widget with the current PNG), ``figure``, ``last_png``, ``last_rms`` (the error in the
    title), ``render_count`` and ``last_render_seconds``.
    """

    def __init__(
        self,
        x,
        learned,
        exact,
        ts: Sequence[int],
        *,
        densities=None,
        t: int | None = None,
        figsize: tuple[float, float] = (6.0, 3.4),
        dpi: float = 80,
    ):
        import ipywidgets as widgets

        self.x, self.learned, self.exact, self.ts, self.densities = _pl._eps_inputs(x, learned, exact, ts, densities)
        if len(set(self.ts)) != len(self.ts):
            raise ValueError(f"ts must not repeat a step; got {list(self.ts)}")
        start = self.ts[0] if t is None else int(t)
        if start not in self.ts:
            raise ValueError(f"t must be one of ts {list(self.ts)}; got {t!r}")
        self.slider = widgets.SelectionSlider(
            options=list(self.ts), value=start, description="t", continuous_update=True,
            layout=widgets.Layout(width="60%"),
        )  # fmt: skip
        self.widget = widgets.VBox([self.slider, self._init_output(figsize, dpi)])
        self.figure = _agg_figure(figsize, dpi)
        ax = self.figure.add_subplot()
        self._panel = _pl._EpsPanel(
            ax, self.x, y_range=_pl._eps_y_range(self.learned, self.exact),
            with_density=self.densities is not None, compact=False,
        )  # fmt: skip
        legend = ax.legend(fontsize=8, frameon=False, loc="upper left")
        self.last_rms = float("nan")
        self._show()
        # Drawn once without what moves; a move redraws the shading, the two curves, the zero line,
        # the title and the legend (in the order of a full draw) over that background.
        panel = self._panel
        dynamic = tuple(a for a in (panel.density, panel.exact, panel.learned, panel.zero, panel.title, legend) if a is not None)
        self._blitter = _Blitter(self.figure, dynamic)
        self.render()
        self.slider.observe(self._on_change, names="value")

    @property
    def t(self) -> int:
        return int(self.slider.value)

    @property
    def title(self) -> str:
        return self._panel.title.get_text()

    def _show(self) -> None:
        k = self.ts.index(self.t)
        density = None if self.densities is None else self.densities[k]
        self.last_rms = self._panel.show(self.t, self.learned[k], self.exact[k], density)

    def _draw(self) -> tuple[bytes, str]:
        self._show()
        return self._blitter.redraw(), f"<learned vs exact eps at t={self.t}>"


def eps_explorer(x, learned, exact, ts: Sequence[int], **options) -> EpsExplorer:
    r"""A slider over ``t`` comparing a network's noise prediction with the exact one (1-D data).

    The arrays are those of :func:`~diffviz.plot_eps_vs_exact`: compute them for every step
    you want on the slider (say 50 steps from 1 to ``T``), then moving the slider only
    redraws.

    Args:
        x: the grid ``(G,)`` or ``(G, 1)``.
        learned: network predictions ``(len(ts), G)`` (or with a trailing 1).
        exact: :math:`\varepsilon^*` on the same grid, same shape.
        ts: the steps on the slider, one per row (distinct).
        **options: ``densities`` (``(len(ts), G)``, :math:`q_t(x)` on the grid: shades where
            noisy points fall and weights the RMS in the title), ``t`` (initial step, one of
            ``ts``), ``figsize``, ``dpi``.

    Returns:
        An :class:`EpsExplorer`; display it (or its ``.widget``) in a notebook.
    """
    return EpsExplorer(x, learned, exact, ts, **options)
