r"""Chapter 3's schedule explorer, computed in the browser (no kernel): see :mod:`diffviz.viz.live`.

Python hands over only settings and data (the sum of the squares of ``x0`` and its number of
entries, all the prior KL needs); the front-end (``assets/schedule_live.js``) builds the
linear, cosine and constant schedules in closed form, as ``diffviz._schedules`` does, and
the KL as ``diffviz._forward.prior_kl`` does.
"""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np

from diffviz import _validate as v
from diffviz._schedules import constant_schedule, cosine_schedule, linear_schedule
from diffviz.viz.live import _output_html, _page_html
from diffviz.viz.style import KL_FLOOR

__all__ = ["ScheduleLive", "schedule_live"]

SCHEDULES = ("linear", "cosine", "constant")

_NOTE = (
    "Computed in your browser, no kernel: the betas of each schedule in closed form, ᾱₜ as their "
    "running product, SNR = ᾱₜ / (1 − ᾱₜ), and KL(q(x_T | x₀) ‖ N(0, 1)) = ½ Σᵢ (ᾱ_T x₀ᵢ² − ᾱ_T − log(1 − ᾱ_T)) "
    "in nats."
)


class ScheduleLive:
    r"""Chapter 3's schedule explorer as a self-contained, kernel-free HTML output.

    Build with :func:`schedule_live`. Attributes: ``schedule``, ``T``, ``T_min``, ``T_max``,
    ``beta_start``, ``beta_end``, ``beta``, ``x0`` (float32, flat), ``payload`` (what the
    front-end gets), ``page``, ``html``, ``fallback_png`` and ``alt_text``.
    """

    def __init__(
        self,
        *,
        schedule: str = "linear",
        T: int = 50,
        T_min: int = 10,
        T_max: int = 1000,
        x0=1.0,
        beta_start: float = 1e-4,
        beta_end: float = 0.02,
        beta: float = 0.02,
        num_T: int = 25,
    ):
        if not isinstance(schedule, str) or schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {schedule!r}")
        self.schedule = schedule
        self.T_min, self.T_max = v.positive_int("T_min", T_min), v.positive_int("T_max", T_max)
        if self.T_min > self.T_max:
            raise ValueError(f"T_min must be <= T_max = {self.T_max}; got {self.T_min}")
        if isinstance(T, (bool, np.bool_)) or not isinstance(T, (int, np.integer)) or not self.T_min <= T <= self.T_max:
            raise ValueError(f"T must be an integer in T_min..T_max = {self.T_min}..{self.T_max}; got {T!r}")
        self.T = int(T)
        self.num_T = v.positive_int("num_T", num_T)
        self.x0 = np.asarray(v.data_array("x0", x0), np.float32).reshape(-1)
        # Validated by building each schedule once (ValueError naming beta_start, beta_end, beta).
        self.beta_start, self.beta_end, self.beta = float(beta_start), float(beta_end), float(beta)
        self.schedule_fn(self.schedule)(self.T)
        for name in SCHEDULES:
            self.schedule_fn(name)(1)
        x0_64 = self.x0.astype(np.float64)
        settings = {
            "schedule": self.schedule,
            "T": self.T,
            "T_min": self.T_min,
            "T_max": self.T_max,
            "num_T": self.num_T,
            "beta_start": self.beta_start,
            "beta_end": self.beta_end,
            "beta": self.beta,
            "cosine_s": 0.008,
            "max_beta": 0.999,
            "x0_sum_sq": float(np.sum(x0_64 * x0_64)),
            "x0_size": int(self.x0.size),
            "floor": KL_FLOOR,
        }
        self.id = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
        self.payload = {"id": self.id, **settings, "names": list(SCHEDULES), "note": _NOTE}
        self.fallback_png = self._fallback_png()
        self.alt_text = self._alt_text()
        self.page = _page_html("Noise schedules, live", self.payload, self.fallback_png, self.alt_text, "schedule_live.js")
        title = "Live explorer of noise schedules: a schedule menu and a T slider over alpha-bar, SNR and the prior KL"
        self.html = _output_html(self.id, title, self.page, 760)

    def schedule_fn(self, name: str):
        """``T -> Schedule`` for one of :data:`SCHEDULES` with this explorer's settings."""
        return {
            "linear": lambda T: linear_schedule(T, self.beta_start, self.beta_end),
            "cosine": cosine_schedule,
            "constant": lambda T: constant_schedule(self.beta, T),
        }[name]

    def _fallback_png(self) -> bytes:
        from diffviz.viz import plots_schedules as ps
        from diffviz.viz.explorer import _agg_figure
        from diffviz.viz.style import _host

        fn = self.schedule_fn(self.schedule)
        grid = np.unique(np.round(np.geomspace(self.T_min, self.T_max, self.num_T)).astype(int))
        x0 = ps._x0_vector(self.x0)
        fig = _agg_figure((11.0, 3.3), 80)
        panel = ps._SchedulePanel(fig.subplots(1, 3), {self.schedule: (grid, ps._kl_versus_T(fn, grid, x0))}, {self.schedule: "C0"},
                                  floor=KL_FLOOR)  # fmt: skip
        s = fn(self.T)
        panel.show(self.T, {self.schedule: _host(s)}, {self.schedule: ps._kl_at_end(s, x0)})
        panel.ax_snr.relim()
        panel.ax_snr.autoscale_view()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        return buffer.getvalue()

    def _alt_text(self) -> str:
        s = self.schedule_fn(self.schedule)(self.T)
        abar_T = float(s.alpha_bars[-1])
        return (
            f"Three panels for the {self.schedule} schedule with T = {self.T} steps: alpha-bar and one minus alpha-bar "
            f"against the time step (alpha-bar at T is {abar_T:.3g}), the signal-to-noise ratio on a log scale, and the "
            "KL divergence of the chain's end from the standard normal against T on log axes. Live in a browser with "
            "JavaScript: a schedule menu and a slider for T."
        )

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<schedule_live: {self.schedule}, T={self.T} in {self.T_min}..{self.T_max}>"


def schedule_live(**options) -> ScheduleLive:
    r"""Chapter 3's schedule explorer, live in the browser: a schedule menu and a ``T`` slider.

    Three plots: :math:`\bar\alpha_t` and :math:`1-\bar\alpha_t` against :math:`t/T`, the SNR
    :math:`\bar\alpha_t/(1-\bar\alpha_t)` on a log scale, and
    :math:`\mathrm{KL}(q(x_T\mid x_0)\,\|\,\mathcal N(0,1))` against T (log axes) with the current
    T marked. The browser computes every number (the same closed forms as
    :func:`~diffviz.linear_schedule`, :func:`~diffviz.cosine_schedule`,
    :func:`~diffviz.constant_schedule` and :func:`~diffviz.prior_kl`); the output works in
    JupyterLab and in the static book alike, with no kernel.

    Args:
        **options: ``schedule`` (``"linear"``, ``"cosine"`` or ``"constant"``; default linear),
            ``T`` (initial, in ``T_min..T_max``, default 50 in 10..1000), ``T_min``, ``T_max``,
            ``x0`` (the start point for the KL, a number or one example; default 1),
            ``beta_start``, ``beta_end`` (linear, default 1e-4 and 0.02), ``beta`` (constant,
            default 0.02), ``num_T`` (points on the KL curve, default 25).

    Returns:
        A :class:`ScheduleLive`; display it in a notebook.

    Raises:
        ValueError: naming the parameter, for an unknown schedule, ``T`` outside
            ``T_min..T_max``, a beta outside (0, 1), or NaN in ``x0``.
    """
    return ScheduleLive(**options)
