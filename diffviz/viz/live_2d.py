r"""Chapters 4 and 5's explorers computed in the browser (no kernel): see :mod:`diffviz.viz.live`.

* :func:`forward_2d_live` (chapter 4): the 2-D toy data sets diffusing. Python hands over
  ``x0`` of every data set and one noise draw per particle; the browser
  (``assets/forward_2d_live.js``) shows :math:`x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}
  \varepsilon` for the chosen data set, schedule and ``t``, and for the eight Gaussians and the
  checkerboard the exact density :math:`q_t` as a heat map (the checkerboard's from its squares'
  corners, Gaussian CDF differences with an ``erfc`` written in JavaScript).
* :func:`reverse_2d_live` (chapter 5): the reverse process with the exact
  :math:`\varepsilon^*` of a 2-D mixture. Python hands over the start :math:`x_T` and a 32-bit
  seed; the browser (``assets/reverse_2d_live.js``) runs DDPM's chain itself, computing
  :math:`\varepsilon^*` in closed form (log-sum-exp), with the step noise :math:`z_t` of particle
  ``i`` a fixed function of ``(seed, t, i)`` (:func:`chain_noise`, a counter-based hash and
  Box-Muller, the same in Python and in JavaScript). Why not precomputed frames: the run has
  1,001 frames of 10,000 points (40 MB at 2 bytes a coordinate); a page of modest weight holds
  six of them. The browser's run costs about a second, once, in the background.

Coordinates travel as int16 times :data:`SCALE` (:math:`2^{-12}`, so ``|x| < 8`` with a step of
0.00024): half the bytes of float32, and what Python keeps (``x0``, ``eps``, ``x_T``) is exactly
what the page decodes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json

import jax
import jax.numpy as jnp
import numpy as np

from diffviz import _validate as v
from diffviz._data import _CHECKER_CORNERS, TOY_DATASETS_2D, eight_gaussians_mixture
from diffviz._mixture import GaussianMixture, optimal_eps
from diffviz._reverse import _reverse_mean
from diffviz._schedules import cosine_schedule, linear_schedule
from diffviz.viz.live import _output_html, _page_html
from diffviz.viz.style import _check_mixture_2d

__all__ = ["Forward2DLive", "Reverse2DLive", "chain_noise", "forward_2d_live", "reverse_2d_live"]

SCALE = 2.0**-12  # int16 * SCALE: |x| < 8 in steps of 0.00024
SCHEDULES = ("linear", "cosine")
LIM = 3.5  # the square panel: [-LIM, LIM]^2, as chapter 4's figures
_SCHEDULE_SETTINGS = {"beta_start": 1e-4, "beta_end": 0.02, "cosine_s": 0.008, "max_beta": 0.999}
_SCRIPTS_2D = ("live_2d.js",)


def _quantise(x) -> np.ndarray:
    """Points as int16 multiples of SCALE (clipped to |x| < 8)."""
    return np.clip(np.round(np.asarray(x, np.float64) / SCALE), -32767, 32767).astype("<i2")


def _b64_int16(q: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(q, dtype="<i2").tobytes()).decode("ascii")


def _schedule(name: str, T: int):
    if not isinstance(name, str) or name not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {name!r}")
    s = _SCHEDULE_SETTINGS
    return linear_schedule(T, s["beta_start"], s["beta_end"]) if name == "linear" else cosine_schedule(T, s["cosine_s"], s["max_beta"])


def _mixture_json(mix: GaussianMixture) -> dict:
    return {
        "weights": np.asarray(mix.weights, np.float32).astype(float).tolist(),
        "means": np.asarray(mix.means, np.float32).astype(float).tolist(),
        "stds": np.asarray(mix.stds, np.float32).astype(float).tolist(),
    }


def _board_json() -> dict:
    """The checkerboard as the browser needs it: the lower-left corners of its black unit squares."""
    return {"corners": np.asarray(_CHECKER_CORNERS, np.float64).tolist(), "side": 1.0}


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi)
    return buffer.getvalue()


def _scatter_figure(points: np.ndarray, colours_from: np.ndarray, title: str, *, mixture=None, schedule=None, t=0, paths=None,
                    density=None):  # fmt: skip
    """The static picture: points coloured by the angle of ``colours_from``, over q_t if a mixture (or a
    ``(xs, density)`` grid is given)."""
    from diffviz.viz import plots_2d as p2
    from diffviz.viz.explorer import _agg_figure

    fig = _agg_figure((4.6, 4.6), 72)
    ax = fig.subplots()
    if mixture is not None:
        _, density = p2.density_grid(mixture, schedule, t, lim=LIM, grid_size=81)
    if density is not None:
        density = density[1] if isinstance(density, tuple) else density
        ax.imshow(np.sqrt(density / density.max()), extent=(-LIM, LIM, -LIM, LIM), origin="lower", cmap="Reds", vmax=2.2)
    ax.scatter(points[:, 0], points[:, 1], s=1.5, c=p2._start_colours(colours_from), linewidths=0, rasterized=True)
    for path in paths if paths is not None else ():
        ax.plot(path[:, 0], path[:, 1], color="#222", lw=0.8)
        ax.plot(*path[0], "o", mfc="none", mec="#222", ms=5)
        ax.plot(*path[-1], "o", color="#222", ms=4)
    ax.set(xlim=(-LIM, LIM), ylim=(-LIM, LIM), xlabel="x₁", ylabel="x₂", title=title, aspect="equal")
    return fig


# --------------------------------------------------------------------------------------------
# Chapter 4: the forward process on the 2-D toys
# --------------------------------------------------------------------------------------------

_NOTE_FORWARD = (
    "Computed in your browser, no kernel: each particle keeps its x₀ and one noise draw ε, and "
    "xₜ = √ᾱₜ x₀ + √(1−ᾱₜ) ε, an exact sample of q(xₜ) at every t (not one path of the step-by-step "
    "chain). Colour: the angle each particle starts at. Shaded, the exact density qₜ: for the eight "
    "Gaussians a mixture with centres √ᾱₜ μₖ and variances ᾱₜ s² + 1 − ᾱₜ; for the checkerboard, on "
    "each black square [a, a + 1)², the product over both coordinates of (Φ((x − √ᾱₜ a)/σₜ) − "
    "Φ((x − √ᾱₜ (a + 1))/σₜ))/√ᾱₜ, averaged over the 8 squares (σₜ = √(1 − ᾱₜ))."
)


class Forward2DLive:
    r"""Chapter 4's 2-D forward-process explorer as a self-contained, kernel-free HTML output.

    Build with :func:`forward_2d_live`. Attributes: ``datasets`` (names), ``x0`` (``{name: (n, 2)}``
    float32, exactly what the page decodes), ``eps`` (``(n, 2)``, shared by the data sets),
    ``dataset``, ``schedule``, ``T``, ``t``, ``payload``, ``page``, ``html``, ``fallback_png``,
    ``alt_text``.
    """

    def __init__(self, key, *, datasets=None, dataset: str = "swiss roll", schedule: str = "linear", T: int = 1000,
                 t: int = 100, n: int = 10_000):  # fmt: skip
        key = v.prng_key("key", key)
        names = tuple(TOY_DATASETS_2D) if datasets is None else tuple(datasets)
        unknown = [d for d in names if d not in TOY_DATASETS_2D]
        if not names or unknown:
            raise ValueError(f"datasets must be names from {', '.join(TOY_DATASETS_2D)}; got {list(names)!r}")
        if not isinstance(dataset, str) or dataset not in names:
            raise ValueError(f"dataset must be one of {', '.join(names)}; got {dataset!r}")
        self.datasets, self.dataset = names, dataset
        self.n, self.T = v.positive_int("n", n), v.positive_int("T", T)
        _schedule(schedule, 1)
        self.schedule = schedule
        self.t = int(v.timestep("t", t, self.T))

        data_key, noise_key = jax.random.split(key)
        order = list(TOY_DATASETS_2D)
        q0 = {d: _quantise(TOY_DATASETS_2D[d](jax.random.fold_in(data_key, order.index(d)), self.n)) for d in names}
        q_eps = _quantise(jax.random.normal(noise_key, (self.n, 2), jnp.float32))
        self.x0 = {d: (q.astype(np.float32) * np.float32(SCALE)) for d, q in q0.items()}
        self.eps = q_eps.astype(np.float32) * np.float32(SCALE)
        mixtures = {"eight Gaussians": _mixture_json(eight_gaussians_mixture())} if "eight Gaussians" in names else {}
        boards = {"checkerboard": _board_json()} if "checkerboard" in names else {}
        settings = {"datasets": list(names), "dataset": dataset, "schedules": list(SCHEDULES), "schedule": schedule,
                    "T": self.T, "t": self.t, "lim": LIM, "scale": SCALE, **_SCHEDULE_SETTINGS}  # fmt: skip
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode() + b"".join(q.tobytes() for q in (*q0.values(), q_eps)))
        self.id = digest.hexdigest()[:12]
        self.payload = {"id": self.id, **settings, "x0": {d: _b64_int16(q) for d, q in q0.items()}, "eps": _b64_int16(q_eps),
                        "mixtures": mixtures, "boards": boards, "note": _NOTE_FORWARD}  # fmt: skip
        self.fallback_png = self._fallback_png()
        self.alt_text = self._alt_text()
        self.page = _page_html("2-D forward process, live", self.payload, self.fallback_png, self.alt_text,
                               (*_SCRIPTS_2D, "forward_2d_live.js"))  # fmt: skip
        title = "Live explorer of 2-D data diffusing: data set and schedule menus and a t slider"
        self.html = _output_html(self.id, title, self.page, 720)

    def x_t(self, dataset: str, schedule: str, t: int) -> np.ndarray:
        """The particles at step ``t``: the closed form with the stored noise, ``(n, 2)`` float64."""
        s = _schedule(schedule, self.T)
        abar, rest = float(s.alpha_bars[t]), float(s.one_minus_alpha_bars[t])
        return np.sqrt(abar) * self.x0[dataset].astype(np.float64) + np.sqrt(rest) * self.eps.astype(np.float64)

    def _fallback_png(self) -> bytes:
        from diffviz.viz import plots_2d as p2

        s = _schedule(self.schedule, self.T)
        mixture = eight_gaussians_mixture() if self.dataset == "eight Gaussians" else None
        density = p2._checkerboard_density_grid(s, self.t, LIM, 81) if self.dataset == "checkerboard" else None
        abar = float(s.alpha_bars[self.t])
        title = f"{self.dataset}, {self.schedule}: t = {self.t}, ᾱₜ = {abar:.3f}"
        fig = _scatter_figure(self.x_t(self.dataset, self.schedule, self.t), self.x0[self.dataset], title, mixture=mixture,
                              schedule=s, t=self.t, density=density)  # fmt: skip
        return _png(fig)

    def _alt_text(self) -> str:
        abar = float(_schedule(self.schedule, self.T).alpha_bars[self.t])
        shaded = ", over a red shading of the exact density q_t" if self.dataset in ("eight Gaussians", "checkerboard") else ""
        return (
            f"Scatter plot of {self.n:,} particles of the {self.dataset} data set after t = {self.t} of {self.T} steps of "
            f"the {self.schedule} schedule (alpha-bar = {abar:.3f}), coloured by the angle each particle starts at"
            f"{shaded}. "
            "Live in a browser with JavaScript: menus for the data set and the schedule, a slider for t, and the "
            "alpha-bar curve with the current step marked."
        )

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<forward_2d_live: {self.n:,} particles, {len(self.datasets)} data sets, {self.schedule}, T={self.T}, t={self.t}>"


def forward_2d_live(key, **options) -> Forward2DLive:
    r"""Chapter 4's explorer, live in the browser: data set and schedule menus, a ``t`` slider.

    ``n`` particles (default 10,000) of every 2-D toy data set, and one standard-normal draw
    :math:`\varepsilon \in \mathbb R^2` per particle (the same for every data set). The browser
    shows :math:`x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon` (the exact
    marginal at every ``t``), coloured by each particle's starting angle; for the eight Gaussians
    and the checkerboard also the exact density :math:`q_t` as a heat map
    (:func:`~diffviz.diffuse_mixture`, :func:`~diffviz.checkerboard_diffused_log_prob`). Nothing runs in Python
    after this call; the output works in JupyterLab and in the static book alike.

    Args:
        key: a JAX PRNG key (required): split into the data key and the noise key.
        **options: ``datasets`` (names from :data:`~diffviz.TOY_DATASETS_2D`, default all),
            ``dataset`` (shown first, default ``"swiss roll"``), ``schedule`` (``"linear"`` or
            ``"cosine"``, default linear), ``T`` (default 1000), ``t`` (initial, ``0..T``,
            default 100), ``n`` (particles, default 10,000).

    Returns:
        A :class:`Forward2DLive`; display it in a notebook.

    Raises:
        ValueError: naming the parameter, for an unknown data set or schedule, ``t`` outside
            ``0..T``, ``n`` or ``T`` < 1.
    """
    return Forward2DLive(key, **options)


# --------------------------------------------------------------------------------------------
# Chapter 5: the reverse process with the exact eps*
# --------------------------------------------------------------------------------------------


def _lowbias32(x: np.ndarray) -> np.ndarray:
    """An integer hash of uint32 (C. Wellons' lowbias32): the same bits as assets/reverse_2d_live.js."""
    x = np.asarray(x, np.uint32)
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x7FEB352D)
    x = x ^ (x >> np.uint32(15))
    x = x * np.uint32(0x846CA68B)
    return x ^ (x >> np.uint32(16))


def chain_noise(seed: int, t: int, indices, n: int) -> np.ndarray:
    r"""The step noise :math:`z_t` of particles ``indices`` (of ``n``) in :func:`reverse_2d_live`'s chain, ``(m, 2)`` float64.

    Counter-based: with :math:`c = t\,n + i` and :math:`m = h(\text{seed})`, the two uniforms
    :math:`u_j = (h(2c + j + m \bmod 2^{32}) + \tfrac12)/2^{32}` (:math:`h`: the lowbias32 hash)
    give, by Box-Muller, :math:`z = \sqrt{-2\log u_0}\,(\cos 2\pi u_1, \sin 2\pi u_1)`. The
    browser computes the same numbers; any ``(t, i)`` can be drawn on its own.
    """
    with np.errstate(over="ignore"):
        c = (np.uint64(t) * np.uint64(n) + np.asarray(indices, np.uint64)) * np.uint64(2)
        mix = np.uint64(_lowbias32(np.uint32(seed)))
        u = [(_lowbias32(((c + np.uint64(j) + mix) % np.uint64(2**32)).astype(np.uint32)).astype(np.float64) + 0.5) / 2.0**32
             for j in (0, 1)]  # fmt: skip
    r = np.sqrt(-2.0 * np.log(u[0]))
    return np.stack([r * np.cos(2 * np.pi * u[1]), r * np.sin(2 * np.pi * u[1])], axis=-1)


_NOTE_REVERSE = (
    "Computed in your browser, no kernel: DDPM's reverse chain from xₜ = x_T (stored) with the exact "
    "ε*(x, t) = −√(1−ᾱₜ) ∇log qₜ(x) of the data mixture, x_{t−1} = (xₜ − βₜ/√(1−ᾱₜ) ε*)/√αₜ + √βₜ z "
    "(no noise on the last step). The step noise z is a fixed function of the seed, the step and the "
    "particle, so the run is the same on every visit. Shaded: the exact qₜ the particles should follow; "
    "lines: a few particles' paths from t = T."
)


class Reverse2DLive:
    r"""Chapter 5's exact reverse process as a self-contained, kernel-free HTML output.

    Build with :func:`reverse_2d_live`. Attributes: ``mixture``, ``schedule`` (its name),
    ``T``, ``t``, ``n``, ``seed``, ``x_T`` (``(n, 2)`` float32, exactly what the page decodes),
    ``paths`` (indices of the particles whose paths are drawn), ``payload``, ``page``, ``html``,
    ``fallback_png``, ``alt_text``. :meth:`chain` runs the same chain in Python (diffviz's
    :func:`~diffviz.optimal_eps` and reverse mean) for chosen particles.
    """

    def __init__(self, key, mixture: GaussianMixture | None = None, *, schedule: str = "linear", T: int = 1000, t: int = 0,
                 n: int = 10_000, num_paths: int = 6, fallback_points: int = 2000):  # fmt: skip
        key = v.prng_key("key", key)
        self.mixture = eight_gaussians_mixture() if mixture is None else mixture
        if not isinstance(self.mixture, GaussianMixture):
            raise ValueError("mixture must be a 2-D GaussianMixture (e.g. diffviz.eight_gaussians_mixture())")
        _check_mixture_2d(self.mixture)
        self.n, self.T = v.positive_int("n", n), v.positive_int("T", T)
        self.schedule = schedule
        self._s = _schedule(schedule, self.T)
        self.t = int(v.timestep("t", t, self.T))
        self.num_paths = v.positive_int("num_paths", num_paths, minimum=0)
        if self.num_paths > self.n:
            raise ValueError(f"num_paths must be at most n = {self.n}; got {self.num_paths}")
        self.fallback_points = min(self.n, v.positive_int("fallback_points", fallback_points))
        start_key, seed_key = jax.random.split(key)
        q_T = _quantise(jax.random.normal(start_key, (self.n, 2), jnp.float32))
        self.x_T = q_T.astype(np.float32) * np.float32(SCALE)
        self.seed = int(jax.random.bits(seed_key, (), jnp.uint32))
        self.paths = list(range(self.num_paths))
        settings = {"schedules": [schedule], "schedule": schedule, "T": self.T, "t": self.t, "lim": LIM, "scale": SCALE,
                    "seed": self.seed, "paths": self.paths, "mixture": _mixture_json(self.mixture), **_SCHEDULE_SETTINGS}  # fmt: skip
        self.id = hashlib.sha256(json.dumps(settings, sort_keys=True).encode() + q_T.tobytes()).hexdigest()[:12]
        self.payload = {"id": self.id, **settings, "x_T": _b64_int16(q_T), "note": _NOTE_REVERSE}
        self.fallback_png = self._fallback_png()
        self.alt_text = self._alt_text()
        self.page = _page_html("Exact reverse process, live", self.payload, self.fallback_png, self.alt_text,
                               (*_SCRIPTS_2D, "reverse_2d_live.js"))  # fmt: skip
        title = "Live explorer of the reverse process with the exact noise prediction: a t slider, particles and paths"
        self.html = _output_html(self.id, title, self.page, 640)

    def chain(self, indices, t_end: int = 0) -> np.ndarray:
        """The chain of particles ``indices`` from ``T`` down to ``t_end``, in float32 JAX: ``(T+1, m, 2)``, row = t.

        Rows below ``t_end`` are NaN. The noise is :func:`chain_noise`'s, the step diffviz's:
        :func:`~diffviz.optimal_eps` and the mean :math:`(x_t - \\beta_t\\varepsilon^*/\\sqrt{1-\\bar\\alpha_t})/
        \\sqrt{\\alpha_t}`, plus :math:`\\sqrt{\\beta_t} z_t` for ``t > 1``.
        """
        idx = np.asarray(indices, np.int64)
        t_end = int(v.timestep("t_end", t_end, self.T))
        ts = np.arange(self.T, t_end, -1)
        zs = np.stack([chain_noise(self.seed, int(t), idx, self.n) for t in ts]).astype(np.float32) if len(ts) else np.zeros((0, len(idx), 2), np.float32)
        out = np.full((self.T + 1, len(idx), 2), np.nan, np.float32)
        out[self.T] = self.x_T[idx]
        if len(ts):
            out[t_end : self.T] = np.asarray(_run_chain(self._s, self.mixture, jnp.asarray(self.x_T[idx]), jnp.asarray(ts, jnp.int32),
                                                        jnp.asarray(zs)))[::-1]  # fmt: skip
        return out

    def _fallback_png(self) -> bytes:
        idx = np.arange(self.fallback_points)
        run = self.chain(idx, self.t)
        abar = float(self._s.alpha_bars[self.t])
        title = f"reverse process, exact ε*: t = {self.t}, ᾱₜ = {abar:.3f}"
        paths = [np.concatenate([run[self.t :, i][::-1][::20], run[self.t, i][None]]) for i in self.paths if i < self.fallback_points]
        fig = _scatter_figure(run[self.t], run[0] if self.t == 0 else run[self.t], title, mixture=self.mixture, schedule=self._s,
                              t=self.t, paths=paths)  # fmt: skip
        return _png(fig)

    def _alt_text(self) -> str:
        abar = float(self._s.alpha_bars[self.t])
        return (
            f"Scatter plot of {self.fallback_points:,} of the {self.n:,} particles of the reverse process with the exact noise "
            f"prediction at t = {self.t} of {self.T} ({self.schedule} schedule, alpha-bar = {abar:.3f}), over the shaded exact "
            f"density of the diffused data, with the paths of {self.num_paths} particles from pure noise at t = {self.T}. "
            "Live in a browser with JavaScript: a slider for t from noise to data."
        )

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<reverse_2d_live: {self.n:,} particles, {self.schedule}, T={self.T}, t={self.t}>"


@jax.jit
def _run_chain(schedule, mixture, x_T, ts, zs):
    def step(x, inp):
        t, z = inp
        mean = _reverse_mean(schedule, optimal_eps(schedule, mixture, x, t), x, t)
        x = mean + jnp.where(t > 1, jnp.sqrt(schedule.betas[t]), 0.0) * z
        return x, x

    return jax.lax.scan(step, x_T, (ts, zs))[1]  # x_{T-1}, ..., x_{t_end}


def reverse_2d_live(key, mixture: GaussianMixture | None = None, **options) -> Reverse2DLive:
    r"""Chapter 5's explorer, live in the browser: the reverse process with the exact :math:`\varepsilon^*`.

    ``n`` particles (default 10,000) start at :math:`x_T \sim \mathcal N(0, I)` and step back
    with DDPM's rule, :math:`\sigma_t = \sqrt{\beta_t}`, using the exact noise prediction of the
    data ``mixture`` (default the eight Gaussians). The browser runs the chain itself (closed-form
    :math:`\varepsilon^*` by log-sum-exp, step noise from :func:`chain_noise`); a ``t`` slider
    shows the particles at step ``t`` over the exact density :math:`q_t` and a few particles'
    paths. :meth:`Reverse2DLive.chain` reproduces any particle's run in Python.

    Args:
        key: a JAX PRNG key (required): split into the start key and the noise seed.
        mixture: a 2-D :class:`~diffviz.GaussianMixture` (default :func:`~diffviz.eight_gaussians_mixture`).
        **options: ``schedule`` (``"linear"`` or ``"cosine"``), ``T`` (default 1000), ``t``
            (initial, ``0..T``, default 0: the end of the run), ``n``, ``num_paths`` (default 6),
            ``fallback_points`` (particles in the static picture, default 2,000).

    Returns:
        A :class:`Reverse2DLive`; display it in a notebook.

    Raises:
        ValueError: naming the parameter, for an unknown schedule, ``t`` outside ``0..T``, a
            mixture that is not 2-D, ``n`` or ``T`` < 1.
    """
    return Reverse2DLive(key, mixture, **options)
