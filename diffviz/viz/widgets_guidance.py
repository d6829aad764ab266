r"""Chapter 13's live explorer: a guidance-scale slider with a fidelity/diversity readout.

The conventions of :mod:`diffviz.viz.explorer`. The guided samples for every scale on the
slider are computed when the explorer is built, or when the class changes (one
probability-flow ODE run per scale, the exact guided oracle
:func:`~diffviz.continuous_guided_eps_fn`, one compiled sampler for all of them since ``c``
and ``w`` are traced); moving the slider only redraws (blitting). ``sample_runs`` counts the
sampler calls, so this is testable.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from diffviz import _validate as v
from diffviz._continuous_sampling import ode_sample, power_time_grid
from diffviz._guidance import LabelledMixture, _class_label, continuous_guided_eps_fn, guidance_readout
from diffviz._schedules import Schedule
from diffviz.viz.explorer import _agg_figure, _Blitter, _cached, _Explorer
from diffviz.viz.plots_guidance import _check_2d, _SweepPanel


def guided_sweep(key, schedule: Schedule, lmix: LabelledMixture, c: int, ws: Sequence[float], *, n: int = 1500,
                 num_steps: int = 30) -> tuple[list[np.ndarray], list]:  # fmt: skip
    """Guided ODE samples (Heun, ``power_time_grid(num_steps)``) and their readouts for each ``w`` in ``ws``.

    The same key for every ``w``: the panels start from the same noise, so the scale alone
    moves the points. Returns ``(samples, readouts)``, two lists in the order of ``ws``.
    """
    key = v.prng_key("key", key)
    lmix = _check_2d(lmix)
    c = _class_label(lmix, c)
    ws = [v.guidance_scale(f"ws[{i}]", w) for i, w in enumerate(ws)]
    grid = power_time_grid(v.positive_int("num_steps", num_steps))
    samples, readouts = [], []
    for w in ws:
        x = ode_sample(key, continuous_guided_eps_fn(schedule, lmix, c, w), schedule, (v.positive_int("n", n), 2), grid).samples
        samples.append(np.asarray(x, np.float64))
        readouts.append(guidance_readout(lmix, x, c))
    return samples, readouts


class GuidanceExplorer(_Explorer):
    """Guided samples of one class under a guidance-scale slider, with the readouts in the title.

    Build with :func:`guidance_explorer`. Attributes: ``widget``, ``controls``
    (``{"c": Dropdown, "w": SelectionSlider}``), ``ws``, ``samples`` and ``readouts`` (the
    current class's, one per ``w``), ``sample_runs``, ``output``, ``last_png``, ``render_count``.
    """

    def __init__(self, key, schedule: Schedule, lmix: LabelledMixture, *, c: int = 0,
                 ws: Sequence[float] = (0, 0.5, 1, 2, 3, 5, 7, 10), n: int = 1500, num_steps: int = 30,
                 lim: float = 3.0, figsize: tuple[float, float] = (4.6, 4.8), dpi: float = 80):  # fmt: skip
        import ipywidgets as widgets

        self.key, self.schedule, self.lmix = v.prng_key("key", key), schedule, _check_2d(lmix)
        self.ws = [v.guidance_scale(f"ws[{i}]", w) for i, w in enumerate(ws)]
        if not self.ws:
            raise ValueError("ws must hold at least one guidance scale")
        self.n, self.num_steps, self.lim = n, num_steps, float(lim)
        self.sample_runs = 0
        self._cache: OrderedDict = OrderedDict()
        c = _class_label(self.lmix, c)
        self.controls = {
            "c": widgets.Dropdown(options=list(range(self.lmix.num_classes)), value=c, description="class"),
            "w": widgets.SelectionSlider(options=self.ws, value=self.ws[0], description="scale w",
                                         continuous_update=True, layout=widgets.Layout(width="60%")),
        }  # fmt: skip
        self.widget = widgets.VBox([self.controls["c"], self.controls["w"], self._init_output(figsize, dpi)])
        self.figure = _agg_figure(figsize, dpi)
        self._load()
        self._compile_every_class_readout()
        self.render()
        self.controls["c"].observe(self._on_setting, names="value")
        self.controls["w"].observe(self._on_change, names="value")

    @property
    def c(self) -> int:
        return int(self.controls["c"].value)

    @property
    def w(self) -> float:
        return float(self.controls["w"].value)

    @property
    def title(self) -> str:
        return self._panel.title.get_text()

    def _compile_every_class_readout(self) -> None:
        """Trace the readout now for every class size: a class with another number of components
        gives it other shapes, and it would otherwise compile on the reader's first class change."""
        sizes = np.bincount(np.asarray(self.lmix.labels), minlength=self.lmix.num_classes)
        done = {int(sizes[self.c])}
        for c, size in enumerate(sizes.tolist()):
            if size not in done:
                guidance_readout(self.lmix, self.samples[0], c)
                done.add(size)

    def _compute(self):
        self.sample_runs += len(self.ws)
        return guided_sweep(self.key, self.schedule, self.lmix, self.c, self.ws, n=self.n, num_steps=self.num_steps)

    def _load(self) -> None:
        self.samples, self.readouts = _cached(self._cache, self.c, 3, self._compute)
        self.figure.clear()
        self._panel = _SweepPanel(self.figure.add_subplot(), self.lmix, self.c, self.lim)
        self._show()
        self._blitter = _Blitter(self.figure, (self._panel.scatter, self._panel.title))

    def _show(self) -> None:
        i = self.ws.index(self.w)
        self._panel.show(self.w, self.samples[i], self.readouts[i])

    def _draw(self) -> tuple[bytes, str]:
        self._show()
        return self._blitter.redraw(), f"<guided samples of class {self.c} at w={self.w:g}>"


def guidance_explorer(key, schedule: Schedule, lmix: LabelledMixture, **options) -> GuidanceExplorer:
    """A guidance-scale slider (and a class dropdown) over exact guided samples of a 2-D labelled mixture.

    Args:
        key: a JAX PRNG key (the starting noise, shared by every scale).
        schedule: the noise schedule.
        lmix: a 2-D :class:`~diffviz.LabelledMixture`, e.g. ``labelled_toy("eight_gaussians")``.
        **options: ``c`` (initial class), ``ws`` (the slider's scales), ``n`` (samples per
            scale), ``num_steps`` (Heun steps of the ODE), ``lim``, ``figsize``, ``dpi``.

    Returns:
        A :class:`GuidanceExplorer`; display it (or its ``.widget``) in a notebook. For the
        book, show ``guidance_scrubber_html(lmix, c, explorer.ws, explorer.samples,
        readouts=explorer.readouts)`` after it.
    """
    return GuidanceExplorer(key, schedule, lmix, **options)
