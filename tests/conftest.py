"""Test-wide settings: strict JAX numerics and quiet, isolated tool directories.

Every test runs with ``jax_numpy_rank_promotion="raise"``: adding a ``(n,)`` array to an
``(n, d)`` array without an explicit ``[:, None]`` is an error, so silent broadcasting bugs
(the classic one in diffusion code) cannot hide in the package.

The Jupyter kernels a session starts (notebook tests, the JupyterLab browser test) inherit
this process's environment: temporary Matplotlib/Jupyter/IPython directories and a
persistent XLA compilation cache that lives as long as the session (so a jitted function
that several chapters use is compiled once, not once per kernel). The cache cannot change a
result: it replaces only XLA's compile step, and its key is a hash of the lowered program
itself (plus the jaxlib, backend, device and XLA-flag versions), so a changed function is a
different key; tracing and lowering, where shape and rank errors and the package's
ValueErrors are raised, run exactly as without it. The folder is new and empty for each
session, so it only holds programs this session compiled. Set ``DIFFVIZ_TEST_XLA_CACHE=0``
to run the kernels without it, or to an absolute folder to use that one instead: CI points
it at the cache the book build just filled (``make book`` executes the same chapters), so
the notebook tests skip recompiling what the book build compiled. The pytest process itself
does not use it.
"""

import atexit
import os
import shutil
import tempfile

import jax
import pytest
from hypothesis import HealthCheck, settings

jax.config.update("jax_numpy_rank_promotion", "raise")

_TMP = tempfile.mkdtemp(prefix="diffviz-tests-")
for var, sub in (("MPLCONFIGDIR", "mpl"), ("JUPYTER_CONFIG_DIR", "jupyter"), ("IPYTHONDIR", "ipython")):
    os.environ[var] = os.path.join(_TMP, sub)  # always: a developer's own settings must not leak in
os.environ["MPLBACKEND"] = "Agg"
for var in ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"):
    os.environ.pop(var, None)  # a developer's own cache must not leak in either
jax.config.update("jax_compilation_cache_dir", None)  # JAX read the variable at import
XLA_CACHE_SETTING = os.environ.get("DIFFVIZ_TEST_XLA_CACHE", "1")
if XLA_CACHE_SETTING not in ("0", "1") and not os.path.isabs(XLA_CACHE_SETTING):
    raise pytest.UsageError(f"DIFFVIZ_TEST_XLA_CACHE must be 0, 1 or an absolute folder; got {XLA_CACHE_SETTING!r}")
if XLA_CACHE_SETTING != "0":
    os.environ["JAX_COMPILATION_CACHE_DIR"] = os.path.join(_TMP, "jax-cache") if XLA_CACHE_SETTING == "1" else XLA_CACHE_SETTING
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"  # cache every program, as `make lab` does
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)

# JAX compiles on first use: a per-example deadline would measure compilation, not the code.
settings.register_profile(
    "diffviz", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("diffviz")


@pytest.fixture
def key():
    """A fixed PRNG key; tests that need several split it explicitly."""
    return jax.random.key(20260)


@pytest.fixture
def no_leaked_figures():
    """Plot functions must not register figures with pyplot (nothing to close, no leaks)."""
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before


@pytest.fixture
def captured_player(monkeypatch):
    """Every kernel-free player replaced by a spy: a list that gets ``(fig, draw, num_frames)`` per call.

    All plot modules call :func:`diffviz.viz.player.jshtml_player` through that module, so this
    one replacement catches the players of every chapter; ``.alts`` holds each call's alt text.
    """
    from diffviz.viz import player

    class Calls(list):
        alts: list[str]

    calls = Calls()
    calls.alts = []

    def spy(fig, draw, n, **kw):
        calls.append((fig, draw, n))
        calls.alts.append(kw["alt"])
        return ""

    monkeypatch.setattr(player, "jshtml_player", spy)
    return calls


@pytest.fixture
def simulator_calls(monkeypatch):
    """Count the calls of the explorers' one jitted forward chain (:data:`diffviz.viz.explorer.simulate`)."""
    from diffviz.viz import explorer

    calls = []
    real = explorer.simulate

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(explorer, "simulate", spy)
    return calls
