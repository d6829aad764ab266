"""Chapter 0's set-up check: what is installed.

Every version is read with :mod:`importlib.metadata`, ``diffviz``'s own included, so nothing
here imports the package itself (no module below ``diffviz/__init__.py`` imports it).
"""

from __future__ import annotations

_SETUP_PACKAGES = ("jax", "jaxlib", "flax", "optax", "numpy", "matplotlib", "ipywidgets", "diffviz")


def check_setup() -> dict[str, str]:
    """The versions of Python and of the packages the course uses, for the set-up check.

    Returns:
        ``{name: version}`` for ``python``, ``jax``, ``jaxlib``, ``flax``, ``optax``,
        ``numpy``, ``matplotlib``, ``ipywidgets`` and ``diffviz``, in that order; a package
        that cannot be found reads ``"not installed"``. (The devices JAX found are
        ``jax.devices()``.)
    """
    import platform
    from importlib import metadata

    found = {"python": platform.python_version()}
    for name in _SETUP_PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found
