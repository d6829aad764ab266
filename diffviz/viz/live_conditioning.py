r"""Chapter 1's conditioning explorer, computed in the browser (no kernel): see :mod:`diffviz.viz.live`.

Python draws ``n`` standard normal pairs :math:`z = (z_1, z_2)` once (the same draws as
:func:`~diffviz.gaussian_conditioning_explorer` with the same key) and hands them over, sorted
by :math:`z_1`; the front-end (``assets/conditioning_live.js``) computes only closed forms:
:math:`x_1 = z_1`, :math:`x_2 = \rho z_1 + \sqrt{1-\rho^2}\,z_2` (so that
:math:`(x_1, x_2) \sim \mathcal N\big(0, \begin{pmatrix}1&\rho\\\rho&1\end{pmatrix}\big)`), the
points in the slice :math:`|x_1 - a| < w/2`, their histogram of :math:`x_2`, and the formula
:math:`x_2 \mid x_1 = a \sim \mathcal N(\rho a,\ 1-\rho^2)`.
"""

from __future__ import annotations

import hashlib
import io
import math

import jax
import jax.numpy as jnp
import numpy as np

from diffviz import _validate as v
from diffviz.viz.live import _b64_float32, _output_html, _page_html

__all__ = ["GaussianConditioningLive", "gaussian_conditioning_live"]

_NOTE = (
    "Computed in your browser, no kernel: every point keeps one standard normal pair (z₁, z₂), and "
    "x₁ = z₁, x₂ = ρ z₁ + √(1−ρ²) z₂ has correlation ρ. The bars: x₂ of the points whose x₁ lies in the "
    "slice; the red curve: the formula x₂ | x₁ = a ~ N(ρa, 1 − ρ²); dashed: the marginal N(0, 1)."
)


def _number(name: str, x, lo: float, hi: float) -> float:
    """``x`` as a float in ``lo..hi`` (both included), or a ValueError naming ``name``."""
    if isinstance(x, (bool, np.bool_, str)) or np.ndim(x) != 0:
        raise ValueError(f"{name} must be a number in {lo:g}..{hi:g}; got {x!r}")
    value = float(x)
    if not lo <= value <= hi:  # also False for NaN
        raise ValueError(f"{name} must lie in {lo:g}..{hi:g}; got {value!r}")
    return value


class GaussianConditioningLive:
    r"""Chapter 1's conditioning explorer as a self-contained, kernel-free HTML output.

    Build with :func:`gaussian_conditioning_live`. Attributes: ``z`` (the ``(n, 2)`` float32
    draws, sorted by the first column), ``rho``, ``a``, ``width``, ``rho_max``, ``a_max``,
    ``payload`` (what the front-end gets), ``page``, ``html``, ``fallback_png`` and ``alt_text``.
    """

    def __init__(self, key, *, n: int = 10_000, rho: float = 0.8, a: float = 1.0, width: float = 0.2,
                 rho_max: float = 0.95, rho_step: float = 0.05, a_max: float = 2.5, a_step: float = 0.1):  # fmt: skip
        key = v.prng_key("key", key)
        self.n = v.positive_int("n", n)
        self.rho_max = _number("rho_max", rho_max, 0.0, 0.999)
        if self.rho_max == 0.0:
            raise ValueError("rho_max must lie in (0, 0.999]; got 0.0")
        self.rho = _number("rho", rho, -self.rho_max, self.rho_max)
        self.a_max = _number("a_max", a_max, 0.1, 10.0)
        self.a = _number("a", a, -self.a_max, self.a_max)
        self.width = _number("width", width, 1e-3, 2.0)
        self.rho_step = _number("rho_step", rho_step, 1e-3, self.rho_max)
        self.a_step = _number("a_step", a_step, 1e-3, self.a_max)
        z = np.asarray(jax.random.normal(key, (self.n, 2), jnp.float32), np.float32)
        self.z = z[np.argsort(z[:, 0], kind="stable")]  # x1 = z1 ascending: the scatter's x axis
        self.id = hashlib.sha256(self.z.tobytes() + repr((self.rho, self.a, self.width)).encode()).hexdigest()[:12]
        self.payload = {
            "id": self.id,
            "z1": _b64_float32(self.z[:, 0]),
            "z2": _b64_float32(self.z[:, 1]),
            "rho": self.rho,
            "a": self.a,
            "width": self.width,
            "rho_max": self.rho_max,
            "rho_step": self.rho_step,
            "a_max": self.a_max,
            "a_step": self.a_step,
            "lim": 3.5,
            "bins": 30,
            "note": _NOTE,
        }
        self.fallback_png = self._fallback_png()
        self.alt_text = self._alt_text()
        self.page = _page_html("Conditioning a 2-D Gaussian, live", self.payload, self.fallback_png, self.alt_text,
                               "conditioning_live.js")  # fmt: skip
        title = "Live explorer of conditioning a 2-D Gaussian: sliders for the correlation rho and the slice a"
        self.html = _output_html(self.id, title, self.page, 420)

    # --- closed forms (what the front-end computes, in float64) -------------------------------------

    def samples(self, rho: float) -> np.ndarray:
        """The ``(n, 2)`` points at correlation ``rho`` (float64): :math:`x = L z`, :math:`LL^T = \\Sigma`."""
        z = self.z.astype(np.float64)
        return np.stack([z[:, 0], rho * z[:, 0] + math.sqrt(1.0 - rho * rho) * z[:, 1]], axis=1)

    @staticmethod
    def conditional(rho: float, a: float) -> tuple[float, float]:
        r"""Mean and variance of :math:`x_2 \mid x_1 = a`: :math:`(\rho a,\ 1 - \rho^2)`."""
        return rho * a, 1.0 - rho * rho

    # --- the output ---------------------------------------------------------------------------------

    def _fallback_png(self) -> bytes:
        from diffviz.viz.plots_gaussian import plot_gaussian_conditioning

        cov = np.array([[1.0, self.rho], [self.rho, 1.0]])
        fig = plot_gaussian_conditioning(self.samples(self.rho), np.zeros(2), cov, self.a, width=self.width, figsize=(8.4, 3.5))
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        return buffer.getvalue()

    def _alt_text(self) -> str:
        mean, var = self.conditional(self.rho, self.a)
        x = self.samples(self.rho)
        inside = int(np.sum(np.abs(x[:, 0] - self.a) < self.width / 2))
        return (
            f"Two panels. Left: a scatter of {self.n:,} samples (x1, x2) with correlation rho = {self.rho:.2f}, the "
            f"{inside} points of the slice x1 near {self.a:g} highlighted, and the line of conditional means. Right: a "
            f"histogram of x2 for the points in the slice, with the red formula curve, normal with mean {mean:.2f} and "
            f"variance {var:.2f}, and the dashed marginal of x2, normal(0, 1). Live in a browser with JavaScript: "
            "sliders for rho and a."
        )

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<gaussian_conditioning_live: {self.n:,} points, rho={self.rho}, a={self.a}, width={self.width}>"


def gaussian_conditioning_live(key, **options) -> GaussianConditioningLive:
    r"""Chapter 1's conditioning explorer, live in the browser: sliders for :math:`\rho` and :math:`a`.

    ``n`` standard normal pairs (default 10,000) become samples of a 2-D Gaussian with means 0,
    variances 1 and correlation :math:`\rho`. Left: the scatter, the slice
    :math:`|x_1 - a| < \text{width}/2` and the line of conditional means :math:`\rho x_1`. Right:
    the histogram of :math:`x_2` in the slice against the formula
    :math:`x_2 \mid x_1 = a \sim \mathcal N(\rho a,\ 1-\rho^2)` and the marginal
    :math:`\mathcal N(0, 1)`. The browser computes every number; the output works in JupyterLab and
    in the static book alike, with no kernel (the kernel twin: :func:`gaussian_conditioning_explorer`).

    Args:
        key: a JAX PRNG key (required) for the standard normal draws.
        **options: ``n`` (points), ``rho`` (initial, in ``-rho_max..rho_max``, default 0.8),
            ``a`` (initial, in ``-a_max..a_max``, default 1), ``width`` (of the slice, default 0.2),
            ``rho_max`` (default 0.95, at most 0.999), ``rho_step`` (0.05), ``a_max`` (2.5),
            ``a_step`` (0.1).

    Returns:
        A :class:`GaussianConditioningLive`; display it in a notebook.

    Raises:
        ValueError: naming the parameter, for ``rho`` outside ``-rho_max..rho_max``, ``a``
            outside ``-a_max..a_max``, a width outside 0.001..2, NaN, or ``n`` < 1.
    """
    return GaussianConditioningLive(key, **options)
