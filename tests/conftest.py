"""Test-wide settings: strict JAX numerics and quiet, isolated tool directories.

Every test runs with ``jax_numpy_rank_promotion="raise"``: adding a ``(n,)`` array to an
``(n, d)`` array without an explicit ``[:, None]`` is an error, so silent broadcasting bugs
(the classic one in diffusion code) cannot hide in the package.
"""

import os
import tempfile

import jax
import pytest
from hypothesis import HealthCheck, settings

jax.config.update("jax_numpy_rank_promotion", "raise")

_TMP = tempfile.mkdtemp(prefix="diffviz-tests-")
for var, sub in (("MPLCONFIGDIR", "mpl"), ("JUPYTER_CONFIG_DIR", "jupyter"), ("IPYTHONDIR", "ipython")):
    os.environ[var] = os.path.join(_TMP, sub)  # always: a developer's own settings must not leak in
os.environ["MPLBACKEND"] = "Agg"

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
