r"""Kernel-side explorers for 2-D data and Gaussian conditioning: chapter 5's field explorer, and the
kernel twins of the explorers that chapters 1 and 4 show computed in the browser (:mod:`diffviz.viz.live_2d`,
:mod:`diffviz.viz.live_conditioning`).

The conventions of :mod:`diffviz.viz.explorer`: an explorer is a small object whose ``.widget``
a notebook displays; its controls are plain attributes (``explorer.controls[name]``); every
picture is a PNG put into ``explorer.output`` (and kept in ``explorer.last_png``). Tests drive
an explorer without a kernel by setting a control's ``.value``: ipywidgets observers run
synchronously.

What a slider may cost
----------------------
Moving ``t`` must only *redraw*. Everything a ``t`` change needs is computed when the
explorer is built or when a setting other than ``t`` changes:

* :class:`Diffusion2DExplorer` simulates the whole forward trajectory :math:`x_0, \dots,
  x_T` of every particle once per (data set, schedule), with a jitted
  :func:`~diffviz.run_forward_chain` compiled once (every data set has the same shape, every
  schedule the same length), and keeps the last few in a cache. A ``t`` change sets the
  scatter's offsets to one row of the trajectory and redraws three artists on a saved
  background (blitting).
* :class:`ScoreFieldExplorer` evaluates the exact score, :math:`\varepsilon^*` and denoiser
  of a mixture on a grid for *every* ``t`` at once (one vmapped, jitted call) when it is
  built; a ``t`` or field change only swaps the arrows' data.

Counters (``simulation_count``, ``field_computations``, ``render_count``) make this testable.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from diffviz import _validate as v
from diffviz._data import TOY_DATASETS_2D
from diffviz._mixture import (
    GaussianMixture,
    mixture_score,
    optimal_denoiser,
    optimal_eps,
)
from diffviz._schedules import Schedule, cosine_schedule, linear_schedule
from diffviz.viz import explorer
from diffviz.viz import plots_2d as p2
from diffviz.viz import plots_gaussian as pg
from diffviz.viz import plots_reverse_2d as pr
from diffviz.viz.explorer import _agg_figure, _Blitter, _cached, _Explorer, _png
from diffviz.viz.style import _check_mixture_2d, _fmt, _square

_FIELDS = pr._FIELDS  # ("score", "eps", "denoiser")


# --------------------------------------------------------------------------------------------
# 2-D forward process: data set and schedule dropdowns, a t slider
# --------------------------------------------------------------------------------------------


def _default_schedules(T: int) -> dict[str, Schedule]:
    return {"linear 1e-4 → 0.02": linear_schedule(T), "cosine (s = 0.008)": cosine_schedule(T)}


class Diffusion2DExplorer(_Explorer):
    r"""2-D toy data diffusing: a data set dropdown, a schedule dropdown and a ``t`` slider.

    Build with :func:`diffusion_2d_explorer`. Attributes:

    * ``widget``: the ``ipywidgets.VBox`` to display; ``controls``: ``{"dataset": Dropdown,
      "schedule": Dropdown, "t": IntSlider}``;
    * ``output`` (the ``Output`` holding the PNG), ``figure`` (the matplotlib Figure it is
      drawn from), ``last_png``;
    * ``x0``: the current data, ``(n, 2)``; ``trajectory``: the current ``(T+1, n, 2)``
      simulation (row ``t`` is :math:`x_t`); ``schedule``: the current schedule;
    * counters: ``simulation_count`` (trajectories simulated: grows on a new data set or
      schedule that is not in the cache, never on a ``t`` change), ``render_count``,
      ``last_render_seconds``.

    The left panel shows the particles at step ``t``, coloured by the angle of their
    starting point (so mixing shows as scrambled colours); the right panel shows
    :math:`\bar\alpha_t` of every schedule, the current one in bold with a dot at ``t``.
    """

    def __init__(
        self,
        key,
        *,
        datasets: Mapping | None = None,
        schedules: Mapping[str, Schedule] | None = None,
        n_particles: int = 2000,
        T: int = 1000,
        dataset: str | None = None,
        schedule: str | None = None,
        t: int = 0,
        lim: float = 3.5,
        figsize: tuple[float, float] = (8.0, 3.9),
        dpi: float = 80,
        cache_size: int = 4,
    ):
        import ipywidgets as widgets

        key = v.prng_key("key", key)
        self.datasets = dict(TOY_DATASETS_2D if datasets is None else datasets)
        if not self.datasets:
            raise ValueError("datasets must hold at least one sampler(key, n) -> (n, 2)")
        self.schedules = dict(_default_schedules(v.positive_int("T", T)) if schedules is None else schedules)
        if not self.schedules:
            raise ValueError("schedules must hold at least one Schedule")
        lengths = {s.T for s in self.schedules.values()}
        if len(lengths) != 1:
            raise ValueError(f"all schedules must have the same T (one t slider); got {sorted(lengths)}")
        self.T = lengths.pop()
        self.n_particles = v.positive_int("n_particles", n_particles)
        self.lim = float(lim)
        self.cache_size = v.positive_int("cache_size", cache_size)
        self._data_key, self._chain_key = jax.random.split(key)
        self._data: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # name -> (x0, colours)
        self._cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._host = {name: np.asarray(s.alpha_bars, np.float64) for name, s in self.schedules.items()}

        dataset = next(iter(self.datasets)) if dataset is None else dataset
        schedule = next(iter(self.schedules)) if schedule is None else schedule
        for name, value, options in (("dataset", dataset, self.datasets), ("schedule", schedule, self.schedules)):
            if value not in options:
                raise ValueError(f"{name} must be one of {list(options)}; got {value!r}")
        t = int(v.timestep("t", t, self.T))
        self.controls = {
            "dataset": widgets.Dropdown(options=list(self.datasets), value=dataset, description="data"),
            "schedule": widgets.Dropdown(options=list(self.schedules), value=schedule, description="schedule"),
            "t": widgets.IntSlider(value=t, min=0, max=self.T, description="t", continuous_update=True,
                                   layout=widgets.Layout(width="60%")),
        }  # fmt: skip
        self.widget = widgets.VBox([
            widgets.HBox([self.controls["dataset"], self.controls["schedule"]]), self.controls["t"],
            self._init_output(figsize, dpi),
        ])  # fmt: skip
        self.figure = _agg_figure(figsize, dpi)
        self.simulation_count = 0
        self._blitter: _Blitter | None = None
        self._load()
        self.render()
        # Draw every data set's particles now: each sampler compiles on its first call, and that
        # must not happen on the reader's first pick in the menu (seconds on a 2-core machine).
        for name in self.datasets:
            self._data_for(name)
        self.controls["dataset"].observe(self._on_setting, names="value")
        self.controls["schedule"].observe(self._on_setting, names="value")
        self.controls["t"].observe(self._on_change, names="value")

    # --- state ---------------------------------------------------------------------------

    @property
    def dataset(self) -> str:
        return self.controls["dataset"].value

    @property
    def schedule_name(self) -> str:
        return self.controls["schedule"].value

    @property
    def schedule(self) -> Schedule:
        return self.schedules[self.schedule_name]

    @property
    def t(self) -> int:
        return int(self.controls["t"].value)

    @property
    def x0(self) -> np.ndarray:
        return self._data_for(self.dataset)[0]

    @property
    def trajectory(self) -> np.ndarray:
        """The current simulation, ``(T+1, n, 2)``: row ``t`` is :math:`x_t` of every particle."""
        return self._trajectory

    @property
    def title(self) -> str:
        return self._title.get_text()

    # --- data and simulation (once per data set / schedule) --------------------------------

    def _data_for(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in self._data:
            index = list(self.datasets).index(name)
            x0 = np.asarray(self.datasets[name](jax.random.fold_in(self._data_key, index), self.n_particles))
            if x0.shape != (self.n_particles, 2):
                raise ValueError(f"dataset {name!r} returned shape {x0.shape}; expected ({self.n_particles}, 2)")
            self._data[name] = (x0, p2._start_colours(x0))
        return self._data[name]

    def _simulation(self, dataset: str, schedule: str) -> np.ndarray:
        return _cached(self._cache, (dataset, schedule), self.cache_size, lambda: self._simulate(dataset, schedule))

    def _simulate(self, dataset: str, schedule: str) -> np.ndarray:
        x0 = jnp.asarray(self._data_for(dataset)[0])
        # The same chain key for every setting: two schedules see the same noise draws.
        path = np.asarray(explorer.simulate(self._chain_key, self.schedules[schedule], x0, trajectory=True))
        self.simulation_count += 1
        return path

    def _load(self) -> None:
        """Make the current (data set, schedule) current; redraw the static layer."""
        self._trajectory = self._simulation(self.dataset, self.schedule_name)
        _, colours = self._data_for(self.dataset)
        fig = self.figure
        fig.clear()
        fig.set_layout_engine("constrained")
        ax, ax_abar = fig.subplots(1, 2, width_ratios=[1, 1.15])
        self._scatter = ax.scatter(self._trajectory[0, :, 0], self._trajectory[0, :, 1], s=3, c=colours, lw=0,
                                   alpha=0.75)  # fmt: skip
        _square(ax, self.lim)
        ax.set_title(self.dataset, fontsize=10)
        t_all = np.arange(self.T + 1)
        for i, (name, abar) in enumerate(self._host.items()):
            current = name == self.schedule_name
            ax_abar.plot(t_all, abar, color=f"C{i}", lw=2.2 if current else 1.0, alpha=1.0 if current else 0.5,
                         label=name)  # fmt: skip
        i_current = list(self.schedules).index(self.schedule_name)
        (self._dot,) = ax_abar.plot([0], [1.0], "o", ms=8, color=f"C{i_current}", mec="k")
        self._vline = ax_abar.axvline(0, color="0.3", lw=0.8, ls=":")
        ax_abar.set_xlim(0, self.T)
        ax_abar.set_ylim(-0.02, 1.05)
        ax_abar.set_xlabel("time step $t$")
        ax_abar.set_ylabel(r"$\bar\alpha_t$ (share of the data's variance left)")
        ax_abar.legend(fontsize=8, frameon=False, loc="upper right")
        self._title = ax_abar.set_title(" ", fontsize=10)
        self._update_artists()
        self._blitter = _Blitter(fig, (self._scatter, self._dot, self._vline, self._title))

    def _update_artists(self) -> None:
        t = self.t
        self._scatter.set_offsets(self._trajectory[t])
        abar = self._host[self.schedule_name][t]
        self._dot.set_data([t], [abar])
        self._vline.set_xdata([t, t])
        snr = abar / (1.0 - abar) if t > 0 else float("inf")
        self._title.set_text(f"t = {t}:  ᾱₜ = {_fmt(abar)},  SNR = {snr:.3g}")

    # --- drawing -----------------------------------------------------------------------------

    def _draw(self) -> tuple[bytes, str]:
        self._update_artists()
        return self._blitter.redraw(), f"<2-D diffusion: {self.dataset}, {self.schedule_name}, t={self.t}>"


def diffusion_2d_explorer(key, **options) -> Diffusion2DExplorer:
    r"""An interactive view of the 2-D toy data sets diffusing: pick data and schedule, move ``t``.

    ``n_particles`` points (default 2,000) of the chosen data set are pushed through the
    forward chain, step by step, with the chosen schedule (default: linear and cosine with
    ``T = 1000``). Moving ``t`` only redraws; choosing a new data set or schedule simulates
    the whole trajectory once (a fraction of a second; the last few are cached).

    Args:
        key: a JAX PRNG key (required): split into the data key and the chain key.
        **options: ``datasets`` (``{name: sampler(key, n)}``, default
            :data:`~diffviz.TOY_DATASETS_2D`), ``schedules`` (``{name: Schedule}``, all with
            the same ``T``), ``n_particles``, ``T`` (for the default schedules), ``dataset``,
            ``schedule``, ``t`` (initial values), ``lim``, ``figsize``, ``dpi``, ``cache_size``.

    Returns:
        A :class:`Diffusion2DExplorer`; display it (or its ``.widget``) in a notebook.
    """
    return Diffusion2DExplorer(key, **options)


# --------------------------------------------------------------------------------------------
# The exact fields of a diffused mixture under a t slider
# --------------------------------------------------------------------------------------------


@jax.jit
def _all_fields(schedule: Schedule, mixture: GaussianMixture, x: jax.Array) -> tuple[jax.Array, ...]:
    """Score, eps* and denoiser displacement at points ``x: (m, 2)`` for every ``t``: three ``(T+1, m, 2)``.

    :math:`\\varepsilon^*` is undefined at ``t = 0`` (there is no noise); its row 0 is zeros.
    """
    ts = jnp.arange(schedule.T + 1, dtype=jnp.int32)

    def one(t):
        score = mixture_score(schedule, mixture, x, t)
        eps = optimal_eps(schedule, mixture, x, jnp.maximum(t, 1))
        eps = jnp.where(t > 0, eps, jnp.zeros_like(eps))
        return score, eps, optimal_denoiser(schedule, mixture, x, t) - x

    return jax.vmap(one)(ts)


_FIELD_OPTIONS = tuple((label, name) for name, label in pr._FIELD_LABELS.items())  # the dropdown's (label, value)


class ScoreFieldExplorer(_Explorer):
    r"""The exact score, :math:`\varepsilon^*` or denoiser of a diffused 2-D mixture under a ``t`` slider.

    Build with :func:`score_field_explorer`. Attributes: ``widget``, ``controls``
    (``{"field": Dropdown, "t": IntSlider}``), ``output``, ``figure``, ``last_png``,
    ``quiver`` (the arrows: ``X, Y`` the grid, ``U, V`` the exact field at ``t``),
    ``fields`` (``{"score" | "eps" | "denoiser": (T+1, G*G, 2)}``, all precomputed),
    ``field_computations`` (1: computed once, when built), ``render_count``.

    Arrows of ``"score"`` and ``"eps"`` are rescaled at every ``t`` so the longest is one grid
    spacing (the title gives its true length); ``"denoiser"`` arrows have their true length
    and end at :math:`E[x_0 \mid x_t = x]` (red dots). If a trajectory is given (e.g. from
    :func:`~diffviz.ddpm_sample` with ``trajectory=True``), its particles at ``t`` are shown
    too; the data density :math:`q_0` is drawn as fixed contours.
    """

    def __init__(
        self,
        mixture: GaussianMixture,
        schedule: Schedule,
        *,
        trajectory=None,
        field: str = "score",
        t: int | None = None,
        lim: float = 3.0,
        grid_size: int = 15,
        figsize: tuple[float, float] = (5.0, 5.0),
        dpi: float = 80,
    ):
        import ipywidgets as widgets

        _check_mixture_2d(mixture)
        pr._check_field(field)
        self.mixture, self.schedule, self.lim = mixture, schedule, float(lim)
        self.T = schedule.T
        self.trajectory = None if trajectory is None else p2._trajectory_2d("trajectory", trajectory)
        if self.trajectory is not None and self.trajectory.shape[0] != self.T + 1:
            raise ValueError(f"trajectory must have T + 1 = {self.T + 1} steps; got {self.trajectory.shape[0]}")
        _, self.points = p2._grid(self.lim, grid_size)
        self.spacing = 2 * self.lim / (grid_size - 1)
        start = time.perf_counter()
        score, eps, denoiser = _all_fields(schedule, mixture, jnp.asarray(self.points, jnp.float32))
        self.fields = {name: np.asarray(a, np.float64) for name, a in zip(_FIELDS, (score, eps, denoiser), strict=True)}
        self.field_computations = 1
        self.field_seconds = time.perf_counter() - start
        t = self.T // 10 if t is None else int(v.timestep("t", t, self.T))
        self.controls = {
            "field": widgets.Dropdown(options=_FIELD_OPTIONS, value=field, description="arrows"),
            "t": widgets.IntSlider(value=t, min=0, max=self.T, description="t", continuous_update=True,
                                   layout=widgets.Layout(width="60%")),
        }  # fmt: skip
        self.widget = widgets.VBox([self.controls["field"], self.controls["t"], self._init_output(figsize, dpi)])
        self.figure = _agg_figure(figsize, dpi)
        self._build()
        self.render()
        for control in self.controls.values():
            control.observe(self._on_change, names="value")

    @property
    def field(self) -> str:
        return self.controls["field"].value

    @property
    def t(self) -> int:
        return int(self.controls["t"].value)

    @property
    def title(self) -> str:
        return self._title.get_text()

    def _build(self) -> None:
        self._panel = pr._FieldPanel(self.figure.add_subplot(), self.mixture, self.points, lim=self.lim,
                                     spacing=self.spacing, with_particles=self.trajectory is not None)  # fmt: skip
        self.quiver, self._particles = self._panel.quiver, self._panel.particles
        self._title = self._panel.title
        self._update_artists()
        self._blitter = _Blitter(self.figure, self._panel.dynamic_artists)

    def _update_artists(self) -> None:
        field, t = self.field, self.t
        abar = float(np.asarray(self.schedule.alpha_bars)[t])
        particles = None if self.trajectory is None else self.trajectory[t]
        self._panel.show(field, t, self.fields[field][t], abar, particles)

    def _draw(self) -> tuple[bytes, str]:
        self._update_artists()
        return self._blitter.redraw(), f"<exact {self.field} field at t={self.t}>"


def score_field_explorer(mixture: GaussianMixture, schedule: Schedule, **options) -> ScoreFieldExplorer:
    r"""The exact fields of a diffused 2-D mixture under a ``t`` slider: score, :math:`\varepsilon^*`, denoiser.

    All fields are computed for every ``t`` when the explorer is built (one jitted call), so
    the slider and the dropdown only redraw.

    Args:
        mixture: a 2-D :class:`~diffviz.GaussianMixture`, e.g. :func:`~diffviz.eight_gaussians_mixture`.
        schedule: the noise schedule.
        **options: ``trajectory`` (``(T+1, n, 2)`` particles to show at each ``t``, e.g. a
            reverse run), ``field`` (initial: ``"score"``, ``"eps"`` or ``"denoiser"``), ``t``
            (initial; default ``T // 10``), ``lim``, ``grid_size``, ``figsize``, ``dpi``.

    Returns:
        A :class:`ScoreFieldExplorer`; display it (or its ``.widget``) in a notebook.
    """
    return ScoreFieldExplorer(mixture, schedule, **options)


# --------------------------------------------------------------------------------------------
# Chapter 1: conditioning a 2-D Gaussian, with sliders
# --------------------------------------------------------------------------------------------


class GaussianConditioningExplorer(_Explorer):
    r"""Sliders for the correlation :math:`\rho` and the conditioning value :math:`a` of a 2-D Gaussian.

    The data are :math:`(x_1, x_2) \sim \mathcal N\big(0, \begin{pmatrix}1 & \rho\\ \rho & 1
    \end{pmatrix}\big)`, drawn as :math:`x = L z` from one fixed set of standard normal
    :math:`z` (:math:`L` the Cholesky factor), so moving :math:`\rho` changes the picture
    smoothly. Each change redraws :func:`~diffviz.plot_gaussian_conditioning`.
    Attributes: ``widget``, ``sliders`` (``{"rho": FloatSlider, "a": FloatSlider}``),
    ``output``, ``last_png``, ``render_count``, ``samples`` (the current ``(n, 2)``).
    """

    def __init__(self, key, *, n: int = 20_000, rho: float = 0.8, a: float = 1.0, width: float = 0.1,
                 figsize: tuple[float, float] = (8.4, 3.7), dpi: float = 72):  # fmt: skip
        import ipywidgets as widgets
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        key = v.prng_key("key", key)
        self._z = np.asarray(jax.random.normal(key, (v.positive_int("n", n), 2), jnp.float32), np.float64)
        self.width, self.figsize, self.dpi = float(width), figsize, dpi
        self._canvas_type = FigureCanvasAgg
        self.sliders = {
            "rho": widgets.FloatSlider(value=rho, min=-0.95, max=0.95, step=0.05, description="ρ",
                                       continuous_update=False),
            "a": widgets.FloatSlider(value=a, min=-2.5, max=2.5, step=0.1, description="a (x₁ =)",
                                     continuous_update=False),
        }  # fmt: skip
        self.widget = widgets.VBox([widgets.HBox(list(self.sliders.values())), self._init_output(figsize, dpi)])
        self.render()
        for slider in self.sliders.values():
            slider.observe(self._on_change, names="value")

    @property
    def cov(self) -> np.ndarray:
        rho = float(self.sliders["rho"].value)
        return np.array([[1.0, rho], [rho, 1.0]])

    @property
    def samples(self) -> np.ndarray:
        rho = float(self.sliders["rho"].value)
        L = np.array([[1.0, 0.0], [rho, np.sqrt(1.0 - rho**2)]])  # cov = L L^T
        return self._z @ L.T

    def _draw(self) -> tuple[bytes, str]:
        a = float(self.sliders["a"].value)
        fig = pg.plot_gaussian_conditioning(self.samples, np.zeros(2), self.cov, a, width=self.width,
                                            figsize=self.figsize)  # fmt: skip
        fig.set_dpi(self.dpi)
        canvas = self._canvas_type(fig)
        canvas.draw()
        return _png(canvas), f"<conditioning: rho={self.sliders['rho'].value:.2f}, a={a:.2f}>"


def gaussian_conditioning_explorer(key, **options) -> GaussianConditioningExplorer:
    r"""Sliders for :math:`\rho` and :math:`a`: how :math:`x_2 \mid x_1 = a` moves and narrows.

    Args:
        key: a JAX PRNG key for the fixed standard normal draws.
        **options: ``n`` (samples, default 20,000), ``rho``, ``a`` (initial values),
            ``width`` (of the slice), ``figsize``, ``dpi``.

    Returns:
        A :class:`GaussianConditioningExplorer`; display it (or its ``.widget``).
    """
    return GaussianConditioningExplorer(key, **options)
