r"""Chapter 3's figures: noise schedules, and how far the end of the chain is from pure noise.

:func:`plot_schedules` draws :math:`\bar\alpha_t`, the SNR and :math:`1-\bar\alpha_t` of a few
schedules; :func:`plot_prior_kl` and :func:`plot_schedule_grid` the KL from the chain's end to
:math:`\mathcal N(0, 1)` against the number of steps T; :func:`schedule_scrubber_html` is the
schedule explorer (:mod:`diffviz.viz.widgets_1d`) as a kernel-free player. The explorer and the
player draw through one class, :class:`_SchedulePanel`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

from diffviz import _validate as v
from diffviz._forward import prior_kl
from diffviz._schedules import Schedule
from diffviz.viz import player
from diffviz.viz.style import KL_FLOOR, _figure, _floor_note, _fmt, _host

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _fmt_kl(kl: float, floor: float = KL_FLOOR) -> str:
    return f"< {floor:g}" if kl < floor else f"= {kl:.2g}"


# --------------------------------------------------------------------------------------------
# Schedules and how far x_T is from N(0, 1)
# --------------------------------------------------------------------------------------------


def plot_schedules(
    schedules: Mapping[str, Schedule], *, figsize: tuple[float, float] = (11.0, 3.4)
) -> Figure:
    r"""Three views of each schedule against ``t``: :math:`\bar\alpha_t`, SNR, :math:`1-\bar\alpha_t`.

    :math:`\bar\alpha_t` is the fraction of the data's *variance* still present in
    :math:`x_t` (the signal is scaled by :math:`\sqrt{\bar\alpha_t}`), :math:`1 - \bar\alpha_t`
    the variance of the noise, and :math:`\mathrm{SNR}(t) = \bar\alpha_t / (1-\bar\alpha_t)`
    their ratio, on a log scale because it spans many decades. ``t = 0`` (infinite SNR) is
    left out.

    Args:
        schedules: ``{label: schedule}``, e.g. ``{"linear": linear_schedule(1000)}``.
        figsize: figure size in inches.

    Returns:
        A new Figure with three Axes.
    """
    if not schedules:
        raise ValueError("schedules must hold at least one schedule")
    fig = _figure(figsize)
    ax_abar, ax_snr, ax_noise = fig.subplots(1, 3)
    for name, s in schedules.items():
        t = np.arange(1, s.T + 1)
        h = _host(s)
        abar, noise = h.alpha_bars[1:], h.one_minus_alpha_bars[1:]
        ax_abar.plot(t, abar, label=name, gid=f"alpha_bar:{name}")
        ax_snr.semilogy(t, abar / noise, label=name, gid=f"snr:{name}")
        ax_noise.plot(t, noise, label=name, gid=f"noise:{name}")
    ax_abar.set_title(r"signal kept: $\bar\alpha_t$", fontsize=10)
    ax_abar.set_ylabel(r"$\bar\alpha_t$ (fraction of data variance left)")
    ax_snr.set_title(r"signal-to-noise ratio $\bar\alpha_t / (1-\bar\alpha_t)$", fontsize=10)
    ax_snr.set_ylabel("SNR (log scale)")
    ax_noise.set_title(r"noise variance $1 - \bar\alpha_t$", fontsize=10)
    ax_noise.set_ylabel(r"$1-\bar\alpha_t$ (variance of the noise)")
    for ax in (ax_abar, ax_snr, ax_noise):
        ax.set_xlabel(r"time step $t$")
    for ax in (ax_abar, ax_noise):
        ax.set_ylim(-0.02, 1.02)
    ax_abar.legend(fontsize=8, frameon=False)
    Ts = sorted({s.T for s in schedules.values()})
    fig.suptitle("Noise schedules, " + ", ".join(f"T = {T}" for T in Ts), fontsize=11)
    return fig


def _end_of_chain(schedule: Schedule) -> Schedule:
    r"""A one-step schedule that lands where ``schedule`` lands at ``t = T``.

    A single step with :math:`\beta_1 = 1 - \bar\alpha_T` has :math:`\bar\alpha_1 =
    \bar\alpha_T`: the closed form says the two are the same distribution given :math:`x_0`.
    Its arrays always have shape ``(2,)``, so :func:`prior_kl` compiles once for every ``T``
    (a new ``T`` would otherwise mean a new array shape and a fresh compilation each time).
    """
    abar = np.asarray(schedule.alpha_bars, np.float32)[[0, -1]]  # (2,): t = 0 and t = T
    noise = np.asarray(schedule.one_minus_alpha_bars, np.float32)[[0, -1]]  # (2,)
    noise, abar = jnp.asarray(noise), jnp.asarray(abar)
    return Schedule(betas=noise, alpha_bars=abar, one_minus_alpha_bars=noise)  # beta_1 = 1 - alpha_bar_T


def _x0_vector(x0) -> jax.Array:
    x0 = v.data_array("x0", x0)
    return x0.reshape(-1) if x0.ndim else x0[None]


def _kl_at_end(schedule: Schedule, x0: jax.Array) -> float:
    """``prior_kl(schedule, x0)`` (at t = T), computed through :func:`_end_of_chain`."""
    return float(prior_kl(_end_of_chain(schedule), x0))


# prior_kl of many one-step schedules (all of shape (2,)) in one compiled call.
_prior_kls = jax.jit(jax.vmap(prior_kl, in_axes=(0, None)))


def _kl_versus_T(fn: Callable[[int], Schedule], T_values: np.ndarray, x0: jax.Array) -> np.ndarray:
    """``_kl_at_end(fn(T), x0)`` for every ``T`` in ``T_values``, as float64 ``(len(T_values),)``."""
    ends = [_end_of_chain(fn(int(T))) for T in T_values]
    stacked = Schedule(*(jnp.asarray(np.stack(parts)) for parts in zip(*ends, strict=True)))  # fields (len(T_values), 2)
    return np.asarray(_prior_kls(stacked, x0), np.float64)


def plot_prior_kl(
    schedule_fns: Mapping[str, Callable[[int], Schedule]],
    T_values: Sequence[int],
    *,
    x0=1.0,
    marks: Sequence[tuple[str, int]] = (),
    floor: float = KL_FLOOR,
    figsize: tuple[float, float] = (6.6, 4.0),
) -> Figure:
    r"""How far the end of the chain is from pure noise: KL against the number of steps T.

    For each ``T`` the schedule ``fn(T)`` is built and
    :math:`\mathrm{KL}(q(x_T \mid x_0)\,\|\,\mathcal N(0, I))` is computed with
    :func:`~diffviz.prior_kl`. Sampling starts from :math:`\mathcal N(0, I)`, so a KL far from
    0 means T is too small for that schedule. Because the KL is linear in :math:`x_0^2`, the
    value for :math:`x_0 = 1` is also the average over unit-variance data.

    Args:
        schedule_fns: ``{label: T -> Schedule}``, e.g. ``{"linear": linear_schedule,
            "cosine": cosine_schedule}``.
        T_values: the numbers of steps to try (integers >= 1).
        x0: the starting point (a number or one example).
        marks: ``(label, T)`` pairs to circle and annotate with :math:`\bar\alpha_T` and the KL.
        floor: KL values below this (float32 cannot resolve them: :math:`1-\bar\alpha_T`
            rounds to 1) are drawn at ``floor``.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes (log-log).
    """
    if not schedule_fns:
        raise ValueError("schedule_fns must hold at least one schedule")
    T_values = np.array([v.positive_int("T", int(T)) for T in T_values])
    x0 = _x0_vector(x0)
    fig = _figure(figsize)
    ax = fig.add_subplot()
    for name, fn in schedule_fns.items():
        kl = _kl_versus_T(fn, T_values, x0)
        ax.loglog(T_values, np.maximum(kl, floor), marker="o", ms=3, lw=1.5, label=name, gid=f"kl:{name}")
    for name, T in marks:
        s = schedule_fns[name](int(T))
        kl = _kl_at_end(s, x0)
        ax.plot([T], [max(kl, floor)], "o", ms=10, mfc="none", mec="k", gid=f"mark:{name}:{T}")
        ax.annotate(
            rf"{name}, $T = {T}$: $\bar\alpha_T = {np.asarray(s.alpha_bars)[-1]:.2f}$, KL $= {kl:.2f}$ nats",
            (T, max(kl, floor)), xytext=(12, -4), textcoords="offset points", fontsize=8,
        )  # fmt: skip
    ax.axhline(floor, color="0.7", lw=0.8, ls=":")
    _floor_note(ax, floor)
    ax.set_xlabel(r"number of steps $T$ (log scale)")
    ax.set_ylabel(r"KL$(q(x_T \mid x_0)\,\|\,\mathcal{N}(0,1))$ [nats]")
    shown = float(x0[0]) if x0.shape[0] == 1 else f"a {x0.shape[0]}-dim point"
    ax.set_title(rf"How far $x_T$ is from pure noise, $x_0 = {shown}$", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="lower left")
    return fig


def plot_schedule_grid(
    schedule_fns: Mapping[str, Callable[[int], Schedule]],
    T_values: Sequence[int],
    *,
    x0=1.0,
    panel_size: tuple[float, float] = (3.4, 3.8),
) -> Figure:
    r"""Small multiples over T: :math:`\bar\alpha_t` against :math:`t/T`, one panel per T.

    The static counterpart of the schedule explorer: each legend entry gives
    :math:`\bar\alpha_T` and :math:`\mathrm{KL}(q(x_T\mid x_0)\,\|\,\mathcal N(0,1))`.

    Args:
        schedule_fns: ``{label: T -> Schedule}``.
        T_values: one panel per value.
        x0: the starting point for the KL (a number or one example).
        panel_size: size of one panel in inches.

    Returns:
        A new Figure with ``len(T_values)`` Axes.
    """
    if not schedule_fns or not T_values:
        raise ValueError("schedule_fns and T_values must both be non-empty")
    x0 = _x0_vector(x0)
    fig = _figure((panel_size[0] * len(T_values), panel_size[1]))
    axes = fig.subplots(1, len(T_values), squeeze=False)[0]
    for ax, T in zip(axes, T_values, strict=True):
        T = v.positive_int("T", int(T))
        for name, fn in schedule_fns.items():
            s = fn(T)
            t = np.arange(T + 1)
            abar_T, kl = np.asarray(s.alpha_bars)[-1], _kl_at_end(s, x0)
            label = rf"{name}: $\bar\alpha_T$ = {abar_T:.2g}, KL {_fmt_kl(kl)}"
            ax.plot(t / T, np.asarray(s.alpha_bars, np.float64), label=label, gid=f"alpha_bar:{name}:{T}")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(r"fraction of the chain $t/T$")
        ax.set_ylabel(r"$\bar\alpha_t$")
        ax.set_title(rf"$T = {T}$", fontsize=10)
        ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    title = r"Signal left, $\bar\alpha_t$, for several $T$ (legend: value at $t=T$ and KL in nats)"
    fig.suptitle(title, fontsize=10)
    return fig


_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _plain_powers_of_ten(axis) -> None:
    """Label a log axis ``10⁻⁴, 10⁻², ...`` in plain Unicode (no mathtext), decades only, no minor ticks."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

    def label(value: float, _pos) -> str:
        exponent = round(math.log10(value)) if value > 0 else None
        if exponent is None or not math.isclose(value, 10.0**exponent, rel_tol=1e-6):
            return ""
        return "10" + str(exponent).translate(_SUPERSCRIPTS)

    axis.set_major_locator(LogLocator(base=10, numticks=8))
    axis.set_major_formatter(FuncFormatter(label))
    axis.set_minor_formatter(NullFormatter())
    axis.set_minor_locator(NullLocator())  # ~8 unlabelled ticks per decade cost more to draw than the curves


class _SchedulePanel:
    r"""The schedule explorer's three panels; :meth:`show` moves them to a new number of steps ``T``.

    :math:`\bar\alpha_t` (solid) and :math:`1-\bar\alpha_t` (dashed) against ``t``, the SNR on a
    log scale, and :math:`\mathrm{KL}(q(x_T\mid x_0)\,\|\,\mathcal N(0,1))` against T (fixed
    curves) with the current T marked, one colour per schedule. The live explorer (the chosen
    schedule) and the kernel-free player (every schedule) both draw through this class.
    Texts are plain Unicode, not mathtext: a player would typeset them again for every frame.
    """

    def __init__(self, axes, kl_curves: Mapping[str, tuple[np.ndarray, np.ndarray]], colours: Mapping[str, str], *,
                 floor: float):  # fmt: skip
        self.ax_var, self.ax_snr, self.ax_kl = axes
        self.floor = floor
        self.signal, self.noise, self.snr, self.marks = {}, {}, {}, {}
        for name, (T_curve, kls) in kl_curves.items():
            colour = colours[name]
            (self.signal[name],) = self.ax_var.plot([], [], color=colour, lw=1.6, label=name, gid=f"alpha_bar:{name}")
            (self.noise[name],) = self.ax_var.plot([], [], color=colour, lw=1.0, ls="--", gid=f"noise:{name}")
            (self.snr[name],) = self.ax_snr.semilogy([], [], color=colour, lw=1.4, gid=f"snr:{name}")
            self.ax_kl.loglog(T_curve, np.maximum(kls, floor), color=colour, marker="o", ms=2.5, lw=1.2, gid=f"kl:{name}")
            (self.marks[name],) = self.ax_kl.plot([], [], "o", ms=8, color=colour, mec="k", mew=0.6, gid=f"mark:{name}")
        self.ax_kl.axhline(floor, color="0.7", lw=0.8, ls=":")
        first_T = min(float(np.min(T_curve)) for T_curve, _ in kl_curves.values())  # inside the curves: no autoscale to 1
        self.now = self.ax_kl.axvline(first_T, color="0.3", lw=0.8, ls=":")
        for axis in (self.ax_snr.yaxis, self.ax_kl.xaxis, self.ax_kl.yaxis):  # after semilogy/loglog, which reset them
            _plain_powers_of_ten(axis)  # mathtext tick labels would be typeset again on every frame
        self.ax_var.set(xlabel="time step t", ylabel="variance fraction", ylim=(-0.02, 1.02))
        self.ax_var.set_title("signal ᾱₜ (solid), noise 1 − ᾱₜ (dashed)", fontsize=9, y=1.0)
        self.ax_snr.set(xlabel="time step t", ylabel="SNR (log scale)")
        self.ax_snr.set_title("signal-to-noise ratio ᾱₜ / (1 − ᾱₜ)", fontsize=9, y=1.0)
        self.ax_kl.set(xlabel="number of steps T (log scale)", ylabel="KL [nats]")
        self.ax_kl.set_title("KL(chain's end ‖ N(0, 1)); dots: this T", fontsize=9, y=1.0)

    def show(self, T: int, hosts: Mapping[str, Schedule], kls: Mapping[str, float]) -> tuple:
        """Draw every schedule at ``T``: ``hosts[name]`` its schedule (see ``_host``), ``kls[name]`` its KL at t = T.

        Returns the artists that changed.
        """
        t = np.arange(1, T + 1)
        for name, h in hosts.items():
            abar, rest = h.alpha_bars[1:], h.one_minus_alpha_bars[1:]
            self.signal[name].set_data(t, abar)
            self.noise[name].set_data(t, rest)
            self.snr[name].set_data(t, np.maximum(abar / rest, self.floor))
            self.marks[name].set_data([T], [max(kls[name], self.floor)])
        for ax in (self.ax_var, self.ax_snr):
            ax.set_xlim(0, T + 1)
        self.now.set_xdata([T, T])
        return (*self.signal.values(), *self.noise.values(), *self.snr.values(), *self.marks.values(), self.now)


def schedule_scrubber_html(
    schedule_fns: Mapping[str, Callable[[int], Schedule]],
    T_values: Sequence[int],
    *,
    x0=1.0,
    num_T: int = 25,
    floor: float = KL_FLOOR,
    figsize: tuple[float, float] = (10.5, 3.5),
    dpi: float = 90,
    interval_ms: int = 400,
) -> str:
    r"""HTML of a self-contained player that scrubs the number of steps ``T`` (works without a kernel).

    The kernel-free counterpart of :func:`~diffviz.schedule_explorer`: instead of a dropdown,
    every schedule is drawn in every frame, in its own colour. One frame per value of
    ``T_values``, each with the explorer's three panels: :math:`\bar\alpha_t` (solid) and
    :math:`1-\bar\alpha_t` (dashed) against ``t``, the SNR on a log scale, and
    :math:`\mathrm{KL}(q(x_T\mid x_0)\,\|\,\mathcal N(0,1))` against T (fixed curves, computed
    with :func:`~diffviz.prior_kl`) with the current T marked. The frames are rendered now and
    embedded as PNG in a ``FuncAnimation(...).to_jshtml()`` player; show it with
    ``IPython.display.HTML(...)``. Sixteen frames at the defaults make about 0.65 MB of HTML.

    Args:
        schedule_fns: ``{label: T -> Schedule}``, e.g. ``{"linear": linear_schedule}``.
        T_values: the numbers of steps, one frame each, in the order given (distinct
            integers >= 1, at least 2).
        x0: the starting point for the KL (a number or one example).
        num_T: points on each KL curve (log-spaced over the range of ``T_values``).
        floor: KL and SNR values below this are drawn at ``floor`` (log axes).
        figsize, dpi: frame size (inches) and resolution: they set the HTML size.
        interval_ms: time between frames when playing.

    Returns:
        The HTML as a string.
    """
    if not isinstance(schedule_fns, Mapping) or not schedule_fns:
        raise ValueError("schedule_fns must be a non-empty mapping {label: T -> Schedule}")
    Ts = [v.positive_int("T_values", T) for T in np.asarray(T_values).ravel().tolist()]
    if len(Ts) < 2 or len(set(Ts)) != len(Ts):
        raise ValueError(f"T_values must hold at least 2 distinct numbers of steps (one frame each); got {Ts}")
    num_T = v.positive_int("num_T", num_T, minimum=2)
    if not (math.isfinite(float(floor)) and float(floor) > 0):
        raise ValueError(f"floor must be a finite number > 0; got {floor!r}")
    x0 = _x0_vector(x0)
    names = list(schedule_fns)
    hosts = {(name, T): _host(schedule_fns[name](T)) for name in names for T in Ts}  # every frame's schedules
    kl_at = {(name, T): kl for name in names for T, kl in zip(Ts, _kl_versus_T(schedule_fns[name], Ts, x0), strict=True)}
    curve_T = np.unique(np.concatenate([np.round(np.geomspace(min(Ts), max(Ts), num_T)), Ts]).astype(int))
    snr_all = np.concatenate([h.alpha_bars[1:] / h.one_minus_alpha_bars[1:] for h in hosts.values()])
    snr_top = 3 * float(snr_all.max())

    fig = _figure(figsize, dpi=dpi)
    kl_curves = {name: (curve_T, _kl_versus_T(schedule_fns[name], curve_T, x0)) for name in names}
    panel = _SchedulePanel(fig.subplots(1, 3), kl_curves, {name: f"C{i % 10}" for i, name in enumerate(names)}, floor=floor)
    for ax in (panel.ax_snr, panel.ax_kl):
        _floor_note(ax, floor)
    panel.ax_snr.set_ylim(top=snr_top)
    legend = fig.legend(handles=list(panel.signal.values()), loc="outside lower center", ncols=min(len(names), 3),
                        fontsize=8, frameon=False)  # fmt: skip
    suptitle = fig.suptitle(" ", fontsize=10)

    def draw(i: int):
        T = Ts[i]
        artists = panel.show(T, {name: hosts[name, T] for name in names}, {name: kl_at[name, T] for name in names})
        for name, text in zip(names, legend.get_texts(), strict=True):
            text.set_text(f"{name}:  ᾱ at t = T: {_fmt(float(hosts[name, T].alpha_bars[-1]))},  KL {_fmt_kl(kl_at[name, T], floor)}")
        suptitle.set_text(f"A chain of T = {T} steps (legend: ᾱ and the KL in nats at its end)")
        return (*artists, suptitle, legend)

    alt = (f"Player with a slider over the number of steps T, {len(Ts)} frames from T = {Ts[0]} to {Ts[-1]}, for the "
           f"schedules {', '.join(names)}: three panels, alpha-bar (solid) and 1 minus alpha-bar (dashed) against t, the "
           "signal-to-noise ratio on a log scale, and the KL divergence from q(x_T given x_0) to the standard normal "
           "against T with the current T marked.")
    return player.jshtml_player(fig, draw, len(Ts), interval_ms=interval_ms, alt=alt)
