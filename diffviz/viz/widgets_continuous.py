r"""The live explorer of chapter 11: one sampler's samples at a chosen NFE, over the exact density.

Thin ``ipywidgets`` wiring over :mod:`diffviz.viz.plots_continuous`, in the style of
:mod:`diffviz.viz.explorer`: ``.widget`` is what a notebook displays, the controls are plain
attributes, :meth:`SolverExplorer.render` redraws. Nothing is sampled when a control moves: the
notebook runs every sampler at every NFE *once*, and a change only moves the points.
"""

from __future__ import annotations

from collections.abc import Sequence

from diffviz._mixture import GaussianMixture
from diffviz.viz import plots_continuous as _pl
from diffviz.viz.explorer import _agg_figure, _Blitter, _Explorer
from diffviz.viz.style import _check_mixture_2d


class SolverExplorer(_Explorer):
    """A sampler menu and an NFE slider over precomputed samples. Build with :func:`solver_explorer`.

    Attributes: ``widget`` (the ``VBox`` to display), ``sampler`` (a ``Dropdown`` of the
    labels), ``slider`` (a ``SelectionSlider`` over the NFEs), ``output``, ``figure``,
    ``last_png``, ``render_count`` and ``last_render_seconds``.
    """

    def __init__(self, samples, nfes: Sequence[int], mixture: GaussianMixture, *, scores=None, lim: float = 2.6,
                 figsize: tuple[float, float] = (3.8, 4.0), dpi: float = 80):  # fmt: skip
        import ipywidgets as widgets

        self.samples, self.nfes, self.scores = _pl._solver_inputs(samples, nfes, scores)
        _check_mixture_2d(mixture)
        self.sampler = widgets.Dropdown(options=list(self.samples), description="sampler")
        self.slider = widgets.SelectionSlider(options=self.nfes, value=self.nfes[0], description="NFE",
                                              continuous_update=True, layout=widgets.Layout(width="60%"))  # fmt: skip
        self.widget = widgets.VBox([self.sampler, self.slider, self._init_output(figsize, dpi)])
        self.figure = _agg_figure(figsize, dpi)
        self._panel = _pl._SolverPanel(self.figure.add_subplot(), _pl._data_density_grid(mixture, lim, 121), lim=lim)
        self._show()
        # Drawn once without what moves; a move redraws the points, the contours over them (as in
        # a full draw) and the title over that background.
        self._blitter = _Blitter(self.figure, (self._panel.points, self._panel.contours, self._panel.title))
        self.render()
        self.sampler.observe(self._on_change, names="value")
        self.slider.observe(self._on_change, names="value")

    @property
    def title(self) -> str:
        return self._panel.title.get_text()

    def _show(self) -> None:
        label, nfe = self.sampler.value, int(self.slider.value)
        k = self.nfes.index(nfe)
        ratio = None if self.scores is None else float(self.scores[label][k])
        self._panel.show(label, nfe, self.samples[label][k], ratio)

    def _draw(self) -> tuple[bytes, str]:
        self._show()
        return self._blitter.redraw(), f"<{self.sampler.value} samples at NFE {self.slider.value}>"


def solver_explorer(samples, nfes: Sequence[int], mixture: GaussianMixture, **options) -> SolverExplorer:
    r"""A menu of samplers and a slider over NFE, showing precomputed 2-D samples over the exact density.

    Args:
        samples: ``{sampler label: (len(nfes), n, 2)}``, row ``k`` drawn with ``nfes[k]``
            network evaluations (as :func:`~diffviz.solver_scrubber_html`).
        nfes: the NFE of each row (distinct positive integers).
        mixture: the 2-D data distribution; its 50/90/99% contours are drawn.
        **options: ``scores`` (``{label: (len(nfes),)}``, SW1 over the noise floor, in the
            title), ``lim``, ``figsize``, ``dpi``.

    Returns:
        A :class:`SolverExplorer`; display it (or its ``.widget``) in a notebook.
    """
    return SolverExplorer(samples, nfes, mixture, **options)
