r"""Chapter 12's interpolant explorer computed in the browser (no kernel): see :mod:`diffviz.viz.live`.

:func:`interpolant_live`: Python hands over ``x0`` (a 2-D toy data set) and one noise draw per
particle; the browser (``assets/interpolant_live.js``, drawing with ``assets/live_2d.js``) shows
:math:`x_t = a(t)\,x_0 + s(t)\,\varepsilon` for the chosen interpolant and ``t`` in [0, 1], with
:math:`a, s` in closed form as :func:`~diffviz.interpolant_coefficients` has them: linear
:math:`(1 - t, t)`, cosine :math:`(\cos\frac{\pi t}2, \sin\frac{\pi t}2)`, VP
:math:`(\sqrt{\bar\alpha(t)}, \sqrt{1-\bar\alpha(t)})` with :math:`\log\bar\alpha(t)` linear between
the schedule's steps (:func:`~diffviz.continuous_alpha_bar`; the schedule rebuilt in the browser
by ``live_common.js``). Coordinates travel as int16 like :mod:`diffviz.viz.live_2d`'s.
"""

from __future__ import annotations

import hashlib
import json

import jax
import jax.numpy as jnp
import numpy as np

from diffviz import _validate as v
from diffviz._continuous import continuous_time
from diffviz._data import TOY_DATASETS_2D
from diffviz._interpolants import interpolant_coefficients
from diffviz.viz.live import _output_html, _page_html
from diffviz.viz.live_2d import _SCHEDULE_SETTINGS, LIM, SCALE, _b64_int16, _png, _quantise, _scatter_figure, _schedule

__all__ = ["InterpolantLive", "interpolant_live"]

INTERPOLANTS = ("linear", "cosine", "vp")  # the chapter's order

_NOTE = (
    "Computed in your browser, no kernel: each particle keeps its x₀ and one noise draw ε, and "
    "xₜ = a(t) x₀ + s(t) ε. Linear: a = 1 − t, s = t; cosine: a = cos(πt/2), s = sin(πt/2); VP: "
    "a = √ᾱ(t), s = √(1 − ᾱ(t)), with log ᾱ(t) linear between the schedule's steps. Colour: the angle "
    "each particle starts at. Right: a(t) and s(t) of the chosen interpolant."
)


class InterpolantLive:
    r"""Chapter 12's interpolant explorer as a self-contained, kernel-free HTML output.

    Build with :func:`interpolant_live`. Attributes: ``dataset``, ``interpolant``, ``t``,
    ``schedule`` (its name, for ``"vp"``), ``T``, ``n``, ``x0`` and ``eps`` (``(n, 2)`` float32,
    exactly what the page decodes), ``payload``, ``page``, ``html``, ``fallback_png``,
    ``alt_text``.
    """

    def __init__(self, key, *, dataset: str = "two moons", interpolant: str = "linear", t: float = 0.5,
                 schedule: str = "linear", T: int = 1000, n: int = 10_000):  # fmt: skip
        key = v.prng_key("key", key)
        if not isinstance(dataset, str) or dataset not in TOY_DATASETS_2D:
            raise ValueError(f"dataset must be one of {', '.join(TOY_DATASETS_2D)}; got {dataset!r}")
        if not isinstance(interpolant, str) or interpolant not in INTERPOLANTS:
            raise ValueError(f"interpolant must be one of {', '.join(INTERPOLANTS)}; got {interpolant!r}")
        self.dataset, self.interpolant = dataset, interpolant
        self.n, self.T = v.positive_int("n", n), v.positive_int("T", T)
        self._s = _schedule(schedule, self.T)
        self.schedule = schedule
        self.t = float(continuous_time("t", t, scalar=True))

        data_key, noise_key = jax.random.split(key)
        q0 = _quantise(TOY_DATASETS_2D[dataset](data_key, self.n))
        q_eps = _quantise(jax.random.normal(noise_key, (self.n, 2), jnp.float32))
        self.x0 = q0.astype(np.float32) * np.float32(SCALE)
        self.eps = q_eps.astype(np.float32) * np.float32(SCALE)
        settings = {"dataset": dataset, "interpolants": list(INTERPOLANTS), "interpolant": interpolant, "t": self.t,
                    "schedule": schedule, "T": self.T, "lim": LIM, "scale": SCALE, **_SCHEDULE_SETTINGS}  # fmt: skip
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode() + q0.tobytes() + q_eps.tobytes())
        self.id = digest.hexdigest()[:12]
        self.payload = {"id": self.id, **settings, "x0": _b64_int16(q0), "eps": _b64_int16(q_eps), "note": _NOTE}
        self.fallback_png = self._fallback_png()
        self.alt_text = self._alt_text()
        self.page = _page_html("Interpolants, live", self.payload, self.fallback_png, self.alt_text,
                               ("live_2d.js", "interpolant_live.js"))  # fmt: skip
        title = "Live explorer of interpolants from data to noise: an interpolant menu and a t slider"
        self.html = _output_html(self.id, title, self.page, 720)

    def coefficients(self, interpolant: str, t: float) -> tuple[float, float]:
        """``(a(t), s(t))`` from :func:`~diffviz.interpolant_coefficients` (float32, as floats)."""
        c = interpolant_coefficients(interpolant, t, self._s)
        return float(c.a), float(c.s)

    def x_t(self, interpolant: str, t: float) -> np.ndarray:
        """The particles at time ``t``: :math:`a(t)x_0 + s(t)\\varepsilon` with the stored noise, ``(n, 2)`` float64."""
        a, s = self.coefficients(interpolant, t)
        return a * self.x0.astype(np.float64) + s * self.eps.astype(np.float64)

    def _fallback_png(self) -> bytes:
        a, s = self.coefficients(self.interpolant, self.t)
        title = f"{self.interpolant}: t = {self.t:.2f}, a = {a:.3f}, s = {s:.3f}"
        return _png(_scatter_figure(self.x_t(self.interpolant, self.t), self.x0, title))

    def _alt_text(self) -> str:
        a, s = self.coefficients(self.interpolant, self.t)
        return (
            f"Scatter plot of {self.n:,} particles of the {self.dataset} data set under the {self.interpolant} interpolant "
            f"at t = {self.t:.2f} (a = {a:.3f}, s = {s:.3f}): x_t = a x0 + s eps, coloured by the angle each particle "
            "starts at. Live in a browser with JavaScript: a menu for the interpolant (linear, cosine, VP), a slider "
            "for t from 0 to 1, and the curves a(t) and s(t) with the current time marked."
        )

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<interpolant_live: {self.n:,} particles of {self.dataset}, {self.interpolant}, t={self.t:.2f}>"


def interpolant_live(key, **options) -> InterpolantLive:
    r"""Chapter 12's interpolant explorer, live in the browser: an interpolant menu and a ``t`` slider.

    ``n`` particles (default 10,000) of a 2-D toy data set and one standard-normal draw
    :math:`\varepsilon` per particle. The browser shows :math:`x_t = a(t)\,x_0 + s(t)\,\varepsilon`
    for ``"linear"``, ``"cosine"`` or ``"vp"`` (coefficients as
    :func:`~diffviz.interpolant_coefficients`), ``t`` in [0, 1] in steps of 0.01, and the curves
    :math:`a(t), s(t)`. Nothing runs in Python after this call; the output works in JupyterLab
    and in the static book alike.

    Args:
        key: a JAX PRNG key (required): split into the data key and the noise key.
        **options: ``dataset`` (a name from :data:`~diffviz.TOY_DATASETS_2D`, default
            ``"two moons"``), ``interpolant`` (shown first, default ``"linear"``), ``t``
            (initial, in [0, 1], default 0.5), ``schedule`` (``"linear"`` or ``"cosine"``, the
            VP interpolant's, default linear as :func:`~diffviz.linear_schedule`), ``T`` (its
            steps, default 1000), ``n`` (particles, default 10,000).

    Returns:
        An :class:`InterpolantLive`; display it in a notebook.

    Raises:
        ValueError: naming the parameter, for an unknown data set, interpolant or schedule,
            ``t`` outside [0, 1], ``n`` or ``T`` < 1.
    """
    return InterpolantLive(key, **options)
