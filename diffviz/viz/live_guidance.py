r"""Chapter 13's guidance-scale explorer computed in the browser (no kernel): see :mod:`diffviz.viz.live`.

:func:`guidance_live`: guided sampling of the labelled eight Gaussians
(:func:`~diffviz.labelled_toy`) with the *exact* classifier-free guided field
:math:`(1+w)\,\varepsilon^*(x_t\mid c) - w\,\varepsilon^*(x_t)`, both noise predictions in closed
form (log-sum-exp over the class's components and over all of them). Python hands over the start
:math:`x_T` (int16 times :data:`~diffviz.viz.live_2d.SCALE`), the mixture with its labels, the
schedule's settings and DDIM's time grid; the browser (``assets/guidance_live.js``, on
``assets/live_2d.js``'s mixture code) runs DDIM with :math:`\eta = 0` (deterministic: the same
:math:`x_T` gives the same samples) for the class and scale chosen, draws them over the class's
exact density :math:`p(x\mid c)` and reads out the fidelity and diversity of
:func:`~diffviz.guidance_readout`. A run of 3,000 points and 50 steps costs the browser a few
tens of milliseconds; runs are kept per ``(c, w)``, so coming back to a scale only redraws.
:meth:`GuidanceLive.sample` runs the same sampler in Python (float32, diffviz's guided field).
"""

from __future__ import annotations

import hashlib
import json

import jax
import jax.numpy as jnp
import numpy as np

from diffviz import _validate as v
from diffviz._guidance import _class_label, _guided_discrete, class_mixture, guidance_readout, labelled_toy
from diffviz._sampling import ddim_timesteps
from diffviz.viz.live import _output_html, _page_html
from diffviz.viz.live_2d import _SCHEDULE_SETTINGS, SCALE, _b64_int16, _mixture_json, _png, _quantise, _schedule

__all__ = ["GuidanceLive", "guidance_live"]

W_MAX, W_STEP = 10.0, 0.5  # the slider: w in 0..10 by 0.5
LIM = 3.0  # the square panel [-LIM, LIM]^2, as chapter 13's figures

_NOTE = (
    "Computed in your browser, no kernel: DDIM (η = 0, deterministic) from the same stored x_T for every "
    "class and scale, with the exact guided noise prediction (1 + w) ε*(x | c) − w ε*(x) of the labelled "
    "eight Gaussians, both ε* in closed form. Shaded: the class's exact density p(x | c). Readout: the mean "
    "exact log p(x | c) of the samples (fidelity), the share the exact clean classifier puts in the class, "
    "and the spread (root mean squared distance from the samples' mean: diversity)."
)


def _guidance_scale(w) -> float:
    w = v.guidance_scale("w", w)
    if w > W_MAX or abs(w / W_STEP - round(w / W_STEP)) > 1e-9:
        raise ValueError(f"w must be a guidance scale on the slider, a multiple of {W_STEP} in 0..{W_MAX:g}; got {w!r}")
    return w


class GuidanceLive:
    r"""Chapter 13's guidance-scale explorer as a self-contained, kernel-free HTML output.

    Build with :func:`guidance_live`. Attributes: ``lmix`` (the labelled eight Gaussians),
    ``schedule`` (its name), ``T``, ``num_steps``, ``steps`` (DDIM's grid,
    :func:`~diffviz.ddim_timesteps`), ``c``, ``w``, ``n``, ``x_T`` (``(n, 2)`` float32, exactly
    what the page decodes), ``payload``, ``page``, ``html``, ``fallback_png``, ``alt_text``.
    """

    def __init__(self, key, *, c: int = 0, w: float = 3.0, schedule: str = "linear", T: int = 1000, num_steps: int = 50,
                 n: int = 3000):  # fmt: skip
        key = v.prng_key("key", key)
        self.lmix = labelled_toy("eight_gaussians")
        self.c, self.w = _class_label(self.lmix, c), _guidance_scale(w)
        self.n, self.T = v.positive_int("n", n), v.positive_int("T", T)
        self.schedule = schedule
        self._s = _schedule(schedule, self.T)
        self.num_steps = v.positive_int("num_steps", num_steps)
        if self.num_steps > self.T:
            raise ValueError(f"num_steps must be an integer in 1..T = {self.T}; got {self.num_steps}")
        self.steps = [int(t) for t in np.asarray(ddim_timesteps(self.T, self.num_steps))]
        q_T = _quantise(jax.random.normal(key, (self.n, 2), jnp.float32))
        self.x_T = q_T.astype(np.float32) * np.float32(SCALE)
        settings = {"schedule": schedule, "T": self.T, "steps": self.steps, "c": self.c, "w": self.w, "w_max": W_MAX,
                    "w_step": W_STEP, "lim": LIM, "scale": SCALE, "mixture": _mixture_json(self.lmix.mixture),
                    "labels": np.asarray(self.lmix.labels).astype(int).tolist(), "classes": self.lmix.num_classes,
                    **_SCHEDULE_SETTINGS}  # fmt: skip
        self.id = hashlib.sha256(json.dumps(settings, sort_keys=True).encode() + q_T.tobytes()).hexdigest()[:12]
        self.payload = {"id": self.id, **settings, "x_T": _b64_int16(q_T), "note": _NOTE}
        samples = self.sample(self.c, self.w)
        self.readout = guidance_readout(self.lmix, samples, self.c)
        self.fallback_png = self._fallback_png(samples)
        self.alt_text = self._alt_text()
        self.page = _page_html("Guidance scale, live", self.payload, self.fallback_png, self.alt_text, ("live_2d.js", "guidance_live.js"))
        title = "Live explorer of classifier-free guidance with the exact field: a class menu, a guidance-scale slider, samples and readout"
        self.html = _output_html(self.id, title, self.page, 640)

    def sample(self, c: int, w: float) -> np.ndarray:
        """The same DDIM run in Python (float32 JAX, diffviz's guided field): the ``(n, 2)`` samples for class ``c``, scale ``w``."""
        c, w = _class_label(self.lmix, c), v.guidance_scale("w", w)
        ts = jnp.asarray(self.steps[::-1], jnp.int32)
        ss = jnp.asarray([*self.steps[::-1][1:], 0], jnp.int32)
        out = _run_ddim(self._s, self.lmix, jnp.asarray(c, jnp.int32), jnp.asarray(w, jnp.float32), jnp.asarray(self.x_T), ts, ss)
        return np.asarray(out, np.float32)

    def _fallback_png(self, samples: np.ndarray) -> bytes:
        from diffviz.viz.explorer import _agg_figure
        from diffviz.viz.plots_2d import _data_density_grid

        _, density = _data_density_grid(class_mixture(self.lmix, self.c), LIM, 121)  # numpy: nothing to compile
        fig = _agg_figure((4.6, 4.8), 72)
        ax = fig.subplots()
        ax.imshow(np.sqrt(density / density.max()), extent=(-LIM, LIM, -LIM, LIM), origin="lower", cmap="Reds", vmax=2.2)
        ax.scatter(samples[:, 0], samples[:, 1], s=1.5, c="#1f77b4", alpha=0.6, linewidths=0, rasterized=True)
        r = self.readout
        ax.set(xlim=(-LIM, LIM), ylim=(-LIM, LIM), xlabel="x₁", ylabel="x₂", aspect="equal",
               title=f"class {self.c}, w = {self.w:g}: log p(x|c) {float(r.log_likelihood):.2f}, spread {float(r.spread):.2f}")  # fmt: skip
        return _png(fig)

    def _alt_text(self) -> str:
        r = self.readout
        return (
            f"Scatter plot of {self.n:,} samples of class {self.c} of the labelled eight Gaussians drawn by DDIM "
            f"({self.num_steps} steps) with classifier-free guidance at scale w = {self.w:g}, over the shaded exact "
            f"density of the class; mean class log-likelihood {float(r.log_likelihood):.2f}, spread {float(r.spread):.2f}. "
            "Live in a browser with JavaScript: a class menu and a guidance-scale slider from 0 to 10."
        )

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<guidance_live: {self.n:,} points, DDIM {self.num_steps} steps, {self.schedule}, T={self.T}, c={self.c}, w={self.w:g}>"


@jax.jit
def _run_ddim(schedule, lmix, c, w, x_T, ts, ss):
    def step(x, inp):
        t, s = inp
        eps = _guided_discrete("cfg", schedule, lmix, c, w, x, t)
        x0 = (x - jnp.sqrt(schedule.one_minus_alpha_bars[t]) * eps) / jnp.sqrt(schedule.alpha_bars[t])
        return jnp.sqrt(schedule.alpha_bars[s]) * x0 + jnp.sqrt(schedule.one_minus_alpha_bars[s]) * eps, None

    return jax.lax.scan(step, x_T, (ts, ss))[0]


def guidance_live(key, **options) -> GuidanceLive:
    r"""Chapter 13's explorer, live in the browser: a class menu and a guidance-scale slider ``w``.

    ``n`` points (default 3,000) start at :math:`x_T \sim \mathcal N(0, I)` and run DDIM
    (:math:`\eta = 0`, ``num_steps`` steps on :func:`~diffviz.ddim_timesteps`' grid) with the exact
    classifier-free guided noise prediction of the labelled eight Gaussians,
    :math:`(1+w)\,\varepsilon^*(x_t\mid c) - w\,\varepsilon^*(x_t)` (:func:`~diffviz.guided_eps`).
    The browser reruns the sampler on every move (a few tens of milliseconds) and shows the
    samples over the exact :math:`p(x\mid c)` with the readout of :func:`~diffviz.guidance_readout`
    (mean :math:`\log p(x\mid c)`, share on the class, spread). Nothing runs in Python after this
    call; the output works in JupyterLab and in the static book alike.

    Args:
        key: a JAX PRNG key (required): draws :math:`x_T`.
        **options: ``c`` (initial class, 0..2, default 0), ``w`` (initial scale, a multiple of 0.5
            in 0..10, default 3), ``schedule`` (``"linear"`` or ``"cosine"``), ``T`` (default 1000),
            ``num_steps`` (default 50), ``n`` (default 3,000).

    Returns:
        A :class:`GuidanceLive`; display it in a notebook.

    Raises:
        ValueError: naming the parameter, for ``w`` NaN, negative, over 10 or off the slider's
            0.5 grid, ``c`` not a class, an unknown schedule, ``num_steps`` outside ``1..T``,
            ``n`` or ``T`` < 1.
    """
    return GuidanceLive(key, **options)
