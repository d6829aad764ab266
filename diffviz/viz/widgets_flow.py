r"""The live explorer of chapter 12: a slider over ``t`` and an interpolant selector.

Thin ``ipywidgets`` wiring over :mod:`diffviz.viz.plots_flow`, in the style of
:mod:`diffviz.viz.explorer`: ``.widget`` is what a notebook displays, the controls are plain
attributes, :meth:`InterpolantExplorer.render` redraws. Nothing is computed with JAX when a
control moves: the notebook passes the coefficients :math:`a(t), s(t)` of every interpolant on
the slider's times, and a change only moves the points (:math:`a x_0 + s\varepsilon`, one
NumPy line) and the marker. The book shows :func:`~diffviz.interpolant_scrubber_html` instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from diffviz.viz import plots_flow as _pf
from diffviz.viz.explorer import _agg_figure, _Blitter, _Explorer


class InterpolantExplorer(_Explorer):
    r"""Points :math:`x_t = a(t)x_0 + s(t)\varepsilon` of the chosen interpolant at the chosen ``t``.

    Build with :func:`interpolant_explorer`. Attributes: ``widget`` (the ``VBox`` to display),
    ``slider`` (a ``SelectionSlider`` over the times), ``selector`` (``ToggleButtons`` over
    the interpolants), ``output``, ``figure``, ``last_png``, ``render_count``,
    ``last_render_seconds``.
    """

    def __init__(self, x0, eps, ts, coefficients: Mapping[str, tuple], *, interpolant: str | None = None,
                 figsize: tuple[float, float] = (7.2, 3.3), dpi: float = 80):  # fmt: skip
        import ipywidgets as widgets

        self.x0, self.eps, self.ts, self.coefs = _pf._interpolant_inputs(x0, eps, ts, coefficients)
        names = list(self.coefs)
        start = names[0] if interpolant is None else interpolant
        if start not in names:
            raise ValueError(f"interpolant must be one of {names}; got {interpolant!r}")
        labels = [(f"{t:.2f}", k) for k, t in enumerate(self.ts)]
        self.slider = widgets.SelectionSlider(options=labels, value=0, description="t", continuous_update=True,
                                              layout=widgets.Layout(width="60%"))  # fmt: skip
        self.selector = widgets.ToggleButtons(options=names, value=start, description="interpolant")
        self.widget = widgets.VBox([self.selector, self.slider, self._init_output(figsize, dpi)])
        self.figure = _agg_figure(figsize, dpi)
        ax_cloud, ax_coef = self.figure.subplots(1, 2)
        self._cloud = _pf._CloudPanel(ax_cloud, self.x0, self.eps)
        self._curves = _pf._CoefficientPanel(ax_coef, self.ts, self.coefs, highlight=start)
        self._show()
        # Drawn once without what moves; a move redraws the points, the curves, the marker and the
        # legend (on top of the curves, as in a full draw) over that background.
        lines = [line for pair in self._curves.lines.values() for line in pair]
        dynamic = (self._cloud.cloud, self._cloud.title, *lines, self._curves.cursor, self._curves.dots, ax_coef.get_legend())
        self._blitter = _Blitter(self.figure, dynamic)
        self.render()
        self.slider.observe(self._on_change, names="value")
        self.selector.observe(self._on_change, names="value")

    @property
    def t(self) -> float:
        return float(self.ts[self.slider.value])

    @property
    def interpolant(self) -> str:
        return str(self.selector.value)

    @property
    def title(self) -> str:
        return self._cloud.title.get_text()

    def _show(self) -> None:
        k, name = int(self.slider.value), self.interpolant
        a, s = self.coefs[name]
        self._cloud.show(name, self.ts[k], a[k], s[k])
        self._curves.highlight(name)
        self._curves.show(k, [name])

    def _draw(self) -> tuple[bytes, str]:
        self._show()
        return self._blitter.redraw(), f"<{self.interpolant} interpolant at t={self.t:.2f}>"


def interpolant_explorer(x0, eps, ts, coefficients: Mapping[str, tuple], **options) -> InterpolantExplorer:
    r"""A slider over ``t`` and a choice of interpolant: watch :math:`a(t)x_0 + s(t)\varepsilon` move.

    Args:
        x0: data points ``(n, 2)``.
        eps: one noise draw per point ``(n, 2)``.
        ts: the times on the slider, in [0, 1].
        coefficients: ``{name: (a, s)}`` over ``ts`` (from :func:`~diffviz.interpolant_coefficients`).
        **options: ``interpolant`` (the one shown first), ``figsize``, ``dpi``.

    Returns:
        An :class:`InterpolantExplorer`; display it (or its ``.widget``) in a notebook.
    """
    return InterpolantExplorer(x0, eps, ts, coefficients, **options)
