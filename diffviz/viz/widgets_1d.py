r"""The 1-D kernel-side explorers: thin ``ipywidgets`` wiring over :mod:`diffviz.viz.plots_1d` and
:mod:`diffviz.viz.plots_schedules`. (Chapters 2 and 3 show their twins computed in the browser,
:mod:`diffviz.viz.live` and :mod:`diffviz.viz.live_schedules`.)

Each explorer is a small object: ``.widget`` is what a notebook displays (make the explorer,
or its ``.widget``, the last expression of a cell), the controls are plain attributes, and
:meth:`render` redraws. Tests drive an explorer without a kernel by setting
``explorer.sliders["t"].value``: the observers run synchronously and the new picture lands
in ``explorer.output.outputs`` (a PNG) and ``explorer.last_png``.

Why the 1-D explorer is fast
----------------------------
Moving the ``t`` slider must not re-run the simulation. When beta (or the shrink toggle)
changes, the explorer simulates the *whole* trajectory :math:`x_0, \dots, x_T` of every
particle once, with a jitted :func:`~diffviz.run_forward_chain` (compiled once: a new beta is
a new array value, not a new shape), together with the exact density at every ``t``. Those
results are cached per (beta, shrink). A ``t`` change then only (1) histograms one row of the
trajectory, (2) redraws the few artists that change on top of a saved background (blitting:
axes, ticks and labels are drawn once per beta) and (3) encodes a PNG. Every change of beta
reuses the *same* chain key, so for two betas the particles see the same noise draws and the
picture changes smoothly with the slider.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from diffviz import _validate as v
from diffviz._mixture import GaussianMixture, sample_mixture
from diffviz._schedules import (
    Schedule,
    constant_schedule,
    cosine_schedule,
    linear_schedule,
)
from diffviz.viz import explorer
from diffviz.viz import plots_1d as p1
from diffviz.viz import plots_schedules as ps
from diffviz.viz.explorer import _agg_figure, _cached, _Explorer, _png
from diffviz.viz.style import KL_FLOOR, _check_mixture_1d, _floor_note, _host, _normal_pdf


class _Simulation(NamedTuple):
    """Everything precomputed for one (beta, shrink) setting; t changes only index into it."""

    beta: float
    drift: bool
    schedule: Schedule
    trajectory: np.ndarray  # shape=(T+1, n), float32: row t holds x_t of every particle
    densities: np.ndarray  # shape=(T+1, G): exact density of x_t on `grid`
    variances: np.ndarray  # shape=(T+1,): exact Var(x_t)
    grid: np.ndarray  # shape=(G,)
    edges: np.ndarray  # shape=(bins+1,)
    y_max: float


class Forward1DExplorer(_Explorer):
    r"""Sliders for :math:`\beta` and ``t`` and a shrink toggle over a diffusing 1-D data set.

    Build with :func:`forward_1d_explorer`. Attributes:

    * ``widget``: the ``ipywidgets.VBox`` to display;
    * ``sliders``: ``{"beta": FloatSlider, "t": IntSlider}``; ``drift_toggle``: a
      ``ToggleButtons`` whose value is ``True`` (DDPM step, with the
      :math:`\sqrt{1-\beta}` shrink) or ``False`` (random walk);
    * ``output``: the ``Output`` widget holding the current PNG; ``figure``: the matplotlib
      Figure it is drawn from; ``last_png``: the PNG bytes;
    * ``x0``: the ``(n, 1)`` starting particles; ``trajectory``: the current ``(T+1, n)``
      simulation;
    * counters for tests and benchmarks: ``simulation_count`` (trajectories computed; it
      grows on a new beta or toggle, never on a ``t`` change), ``render_count`` and
      ``last_render_seconds``.
    """

    def __init__(
        self,
        key,
        mixture: GaussianMixture,
        *,
        n_particles: int = 10_000,
        T: int = 100,
        beta: float = 0.03,
        t: int = 0,
        drift: bool = True,
        beta_max: float = 0.2,
        bins: int | None = None,
        figsize: tuple[float, float] = (6.4, 3.6),
        dpi: float = 80,
        cache_size: int = 8,
    ):
        import ipywidgets as widgets

        key = v.prng_key("key", key)
        _check_mixture_1d(mixture)
        self.mixture = mixture
        self.T = v.positive_int("T", T)
        self.bins = bins
        self.cache_size = v.positive_int("cache_size", cache_size)
        constant_schedule(beta, self.T)  # checks beta now, with a clear message
        data_key, self._chain_key = jax.random.split(key)
        self.x0 = sample_mixture(data_key, mixture, v.positive_int("n_particles", n_particles))  # (n, 1)

        self.sliders = {
            "beta": widgets.FloatSlider(
                value=beta, min=0.001, max=beta_max, step=0.001, readout_format=".3f",
                description="β", continuous_update=False,
                layout=widgets.Layout(width="48%"),
            ),
            "t": widgets.IntSlider(
                value=p1._int_t(t, self.T), min=0, max=self.T, description="t",
                continuous_update=True, layout=widgets.Layout(width="48%"),
            ),
        }  # fmt: skip
        self.drift_toggle = widgets.ToggleButtons(
            options=[("keep the √(1−β) shrink (DDPM)", True), ("drop it (random walk)", False)],
            value=bool(drift), description="step:", style={"button_width": "210px"},
        )  # fmt: skip
        self.widget = widgets.VBox(
            [widgets.HBox([self.sliders["beta"], self.sliders["t"]]), self.drift_toggle, self._init_output(figsize, dpi)]
        )
        self.figure = _agg_figure(figsize, dpi)
        self._ax = self.figure.add_subplot()
        self._panel: p1._SnapshotPanel | None = None
        self._cache: OrderedDict[tuple[float, bool], _Simulation] = OrderedDict()
        self.simulation_count = 0
        self._load()
        self.render()
        self.sliders["beta"].observe(self._on_setting, names="value")
        self.drift_toggle.observe(self._on_setting, names="value")
        self.sliders["t"].observe(self._on_change, names="value")

    # --- state ---------------------------------------------------------------------------

    @property
    def beta(self) -> float:
        return float(self.sliders["beta"].value)

    @property
    def t(self) -> int:
        return int(self.sliders["t"].value)

    @property
    def drift(self) -> bool:
        return bool(self.drift_toggle.value)

    @property
    def trajectory(self) -> np.ndarray:
        """The current simulation, ``(T+1, n)``: row ``t`` is :math:`x_t` of every particle."""
        return self._sim.trajectory

    @property
    def title(self) -> str:
        """The current figure title (states beta, t and alpha-bar_t)."""
        return self._panel.title.get_text()

    # --- simulation (once per beta and toggle) -----------------------------------------------

    def _simulation(self, beta: float, drift: bool) -> _Simulation:
        return _cached(self._cache, (round(beta, 9), drift), self.cache_size, lambda: self._simulate(beta, drift))

    def _simulate(self, beta: float, drift: bool) -> _Simulation:
        schedule = constant_schedule(beta, self.T)
        path = explorer.simulate(self._chain_key, schedule, self.x0, drift=drift, trajectory=True)  # (T+1, n, 1)
        trajectory = np.asarray(path)[:, :, 0]
        means, variances = p1._marginal_moments(schedule, self.mixture, drift)
        x_range = p1._auto_range(means, variances)
        grid = p1._grid(x_range)
        grid32 = jnp.asarray(grid, jnp.float32)
        densities = np.asarray(p1._marginal_densities(schedule, self.mixture, grid32, drift), np.float64)
        sim = _Simulation(
            beta, drift, _host(schedule), trajectory, densities, variances, grid,
            p1._edges(x_range, self.bins), 1.2 * max(densities.max(), _normal_pdf(0.0, 0.0, 1.0)),
        )  # fmt: skip
        self.simulation_count += 1
        return sim

    def _load(self) -> None:
        """Make the simulation for the current beta/toggle current; redraw the static layer."""
        self._sim = self._simulation(self.beta, self.drift)
        self._ax.clear()
        if self._panel is not None and self._panel.legend is not None:
            self._panel.legend.remove()  # a figure legend: ax.clear() does not remove it
        self._panel = p1._SnapshotPanel(
            self._ax, grid=self._sim.grid, edges=self._sim.edges, y_max=self._sim.y_max,
            n_particles=self._sim.trajectory.shape[1], drift=self.drift,
        )  # fmt: skip
        self._update_panel()  # real texts before the layout is computed
        for artist in self._panel.dynamic_artists:
            artist.set_animated(True)  # left out of the full draw: the background
        canvas = self.figure.canvas
        canvas.draw()
        # The layout (margins for labels, legend) is computed on the first draw only: later
        # ranges change tick labels a little, not the space they need, and a layout pass
        # would double the cost of every beta change.
        self.figure.set_layout_engine(None)
        self._background = canvas.copy_from_bbox(self.figure.bbox)

    def _update_panel(self) -> None:
        sim, t = self._sim, self.t
        x_t = sim.trajectory[t]
        texts = p1._snapshot_texts(sim.schedule, t, sim.drift, x_t, float(sim.variances[t]))
        self._panel.show(x_t, sim.densities[t], *texts)

    # --- drawing (every change) -------------------------------------------------------------

    def _draw(self) -> tuple[bytes, str]:
        self._update_panel()
        canvas = self.figure.canvas
        canvas.restore_region(self._background)
        for artist in self._panel.dynamic_artists:
            self._ax.draw_artist(artist)
        return _png(canvas), f"<diffusion snapshot: beta={self.beta:.3f}, t={self.t}, shrink={self.drift}>"


def forward_1d_explorer(key, mixture: GaussianMixture, **options) -> Forward1DExplorer:
    r"""An interactive view of 1-D data diffusing: sliders for :math:`\beta` and ``t``.

    ``n_particles`` particles (default 10,000) are drawn from ``mixture`` and pushed through
    ``T`` (default 100) steps of a constant-:math:`\beta` chain, with or without the
    :math:`\sqrt{1-\beta}` shrink. The figure is :func:`~diffviz.plot_diffusion_snapshot`:
    a histogram of :math:`x_t` with the exact density on top. Moving ``t`` only redraws; a
    new :math:`\beta` or toggle re-simulates (once; results are cached).

    Args:
        key: a JAX PRNG key (required): split once into the data key and the chain key.
        mixture: a 1-D :class:`~diffviz.GaussianMixture`, e.g. ``mixture_1d("bimodal")``.
        **options: ``n_particles``, ``T``, ``beta`` (initial, in (0, 1)), ``t``, ``drift``,
            ``beta_max`` (slider end), ``bins``, ``figsize``, ``dpi``, ``cache_size``.

    Returns:
        A :class:`Forward1DExplorer`; display it (or its ``.widget``) in a notebook.
    """
    return Forward1DExplorer(key, mixture, **options)


# --------------------------------------------------------------------------------------------
# Schedules: a dropdown and a T slider
# --------------------------------------------------------------------------------------------


def _default_schedule_fns() -> dict[str, Callable[[int], Schedule]]:
    return {
        "linear 1e-4 → 0.02": linear_schedule,
        "cosine (s = 0.008)": cosine_schedule,
        "constant β = 0.02": lambda T: constant_schedule(0.02, T),
    }


class ScheduleExplorer(_Explorer):
    r"""A schedule dropdown and a T slider over :math:`\bar\alpha_t`, SNR and the prior KL.

    Build with :func:`schedule_explorer`. Attributes: ``widget`` (the VBox), ``controls``
    (``{"schedule": Dropdown, "T": IntSlider}``), ``output``, ``figure``, ``last_png``,
    ``render_count``, and :meth:`render`. The KL-against-T curves of all the schedules are
    computed once, when the explorer is built: together they set the KL axis, which stays the
    same when another schedule is chosen.
    """

    def __init__(
        self,
        *,
        schedules: Mapping[str, Callable[[int], Schedule]] | None = None,
        T: int = 50,
        T_min: int = 10,
        T_max: int = 1000,
        x0=1.0,
        num_T: int = 25,
        figsize: tuple[float, float] = (11.0, 3.3),
        dpi: float = 80,
    ):
        import ipywidgets as widgets

        self.schedules = dict(_default_schedule_fns() if schedules is None else schedules)
        if not self.schedules:
            raise ValueError("schedules must hold at least one T -> Schedule function")
        T_min, T_max = v.positive_int("T_min", T_min), v.positive_int("T_max", T_max)
        if not T_min <= T <= T_max:
            raise ValueError(f"T must lie in T_min..T_max = {T_min}..{T_max}; got {T!r}")
        self._x0 = ps._x0_vector(x0)
        self._T_grid = np.unique(np.round(np.geomspace(T_min, T_max, num_T)).astype(int))
        self._kl_curves: dict[str, np.ndarray] = {}
        self._kl_top = max(2.0, 3 * max(float(np.max(self.kl_curve(name)[1])) for name in self.schedules))
        self.controls = {
            "schedule": widgets.Dropdown(options=list(self.schedules), description="schedule"),
            "T": widgets.IntSlider(
                value=T, min=T_min, max=T_max, step=1, description="T", continuous_update=False
            ),
        }
        self.widget = widgets.VBox([widgets.HBox(list(self.controls.values())), self._init_output(figsize, dpi)])
        self.figure = _agg_figure(figsize, dpi)
        self._axes = self.figure.subplots(1, 3)
        self.render()
        for control in self.controls.values():
            control.observe(self._on_change, names="value")

    def kl_curve(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(T_values, KL at t = T)`` for the named schedule (computed once, then cached)."""
        if name not in self._kl_curves:
            self._kl_curves[name] = ps._kl_versus_T(self.schedules[name], self._T_grid, self._x0)
        return self._T_grid, self._kl_curves[name]

    def _draw(self) -> tuple[bytes, str]:
        name, T = self.controls["schedule"].value, int(self.controls["T"].value)
        s = self.schedules[name](T)
        h = _host(s)
        kl_T = ps._kl_at_end(s, self._x0)
        colour = f"C{list(self.schedules).index(name) % 10}"  # the schedule's colour in the chapter's player
        floor = KL_FLOOR
        for ax in self._axes:
            ax.clear()
        panel = ps._SchedulePanel(self._axes, {name: self.kl_curve(name)}, {name: colour}, floor=floor)
        panel.show(T, {name: h}, {name: kl_T})
        panel.ax_snr.relim()
        panel.ax_snr.autoscale_view()
        if np.min(h.alpha_bars[1:] / h.one_minus_alpha_bars[1:]) < floor:  # only then: the note's strip would squash an unclipped curve
            _floor_note(panel.ax_snr, floor)
        # One KL range for every schedule (the floor's strip below, the largest KL of any schedule
        # above), so choosing another schedule compares heights instead of rescaling the axis.
        panel.ax_kl.set_ylim(floor / 30, self._kl_top)
        if min(float(np.min(self.kl_curve(name)[1])), kl_T) < floor:
            _floor_note(panel.ax_kl, floor)
        shown = float(self._x0[0]) if self._x0.shape[0] == 1 else "x0"
        self.figure.suptitle(
            rf"{name}, $T = {T}$: $\bar\alpha_T = {h.alpha_bars[-1]:.3g}$, "
            rf"KL$(q(x_T\mid x_0 = {shown})\,\|\,\mathcal{{N}}(0,1))$ {ps._fmt_kl(kl_T, floor)} nats",
            fontsize=10,
        )
        self.figure.canvas.draw()
        return _png(self.figure.canvas), f"<schedule: {name}, T={T}>"


def schedule_explorer(**options) -> ScheduleExplorer:
    r"""An interactive comparison of noise schedules: pick one and move T.

    Three panels: :math:`\bar\alpha_t` and :math:`1-\bar\alpha_t` against ``t``; the SNR on
    a log scale; and :math:`\mathrm{KL}(q(x_T\mid x_0)\,\|\,\mathcal N(0,1))` against T with the
    current T marked (too large a KL: the chain is too short for the schedule).

    Args:
        **options: ``schedules`` (``{label: T -> Schedule}``; default linear, cosine and
            constant beta = 0.02), ``T`` (initial), ``T_min``, ``T_max``, ``x0`` (start
            point for the KL, default 1), ``num_T`` (points on the KL curve), ``figsize``,
            ``dpi``.

    Returns:
        A :class:`ScheduleExplorer`; display it (or its ``.widget``) in a notebook.
    """
    return ScheduleExplorer(**options)
