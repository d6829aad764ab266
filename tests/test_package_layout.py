"""The package's layout keeps the rules of diffviz/README.md.

* Imports run downward only: the maths and learning modules at the top level never import
  the drawing code in ``diffviz.viz``, no module imports the package ``diffviz`` itself
  (its ``__init__`` only re-exports), and the import graph has no cycle.
* A newcomer can hold a module in their head: none is over ``MAX_LINES`` lines unless it is
  listed in ``LONG_MODULES`` with the reason.
* The package's README names every module, so it cannot fall behind a move.

Each rule is checked by a function that takes the modules' sources, so the tests below can
show that every check fails on a planted violation.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "diffviz"
MAX_LINES = 600
LONG_MODULES: dict[str, str] = {}  # "module": "why it stays long"


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_sources() -> dict[str, str]:
    return {module_name(p): p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*.py"))}


PACKAGES = {"diffviz", "diffviz.viz"}  # the names whose source is an __init__.py


def imported_modules(name: str, source: str, modules: set[str]) -> set[str]:
    """The package modules ``name`` imports (``from diffviz import _x`` counts as ``diffviz._x``;
    ``from diffviz import f`` of a name that is not a module counts as the package itself)."""
    package = name if name in PACKAGES else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "diffviz"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base.split(".")[0] == "diffviz":
                found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
    return found - {name}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a path that ends where it starts, or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == "open":
                return path[path.index(dep):] + [dep]
            if dep in graph and dep not in state and (cycle := visit(dep, path + [dep])):
                return cycle
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node, [node])):
            return cycle
    return None


def layering_problems(sources: dict[str, str]) -> list[str]:
    modules = set(sources)
    graph = {name: imported_modules(name, src, modules) for name, src in sources.items()}
    problems = []
    for name, deps in sorted(graph.items()):
        if name in PACKAGES:
            continue  # the namespaces re-export their modules' public names
        if "diffviz" in deps:
            problems.append(f"{name} imports the package diffviz itself (import the module that owns the name)")
        if name.startswith("diffviz.viz.") and "diffviz.viz" in deps:
            problems.append(f"{name} imports the namespace diffviz.viz (import the sibling module that owns the name)")
        viz = sorted(d for d in deps if d.startswith("diffviz.viz"))
        if not name.startswith("diffviz.viz") and viz:
            problems.append(f"{name} (maths or learning) imports the drawing code: {viz}")
    cycle = find_cycle({n: d - PACKAGES for n, d in graph.items() if n not in PACKAGES})
    if cycle:
        problems.append("import cycle: " + " -> ".join(cycle))
    return problems


def length_problems(sources: dict[str, str], limit: int = MAX_LINES, allowed: dict[str, str] = LONG_MODULES) -> list[str]:
    return [
        f"{name}: {src.count(chr(10))} lines (over {limit}; split it by topic or list it in LONG_MODULES with the reason)"
        for name, src in sorted(sources.items())
        if src.count("\n") > limit and name not in allowed
    ]


def readme_problems(sources: dict[str, str], readme: str) -> list[str]:
    stems = sorted(name.split(".")[-1] for name in sources if name not in PACKAGES)
    return [f"diffviz/README.md does not name {stem}.py" for stem in stems if f"{stem}.py" not in readme]


def test_imports_run_downward_only():
    assert layering_problems(package_sources()) == []


def test_no_module_is_too_long():
    assert length_problems(package_sources()) == []


def test_package_readme_names_every_module():
    assert readme_problems(package_sources(), (PACKAGE / "README.md").read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("planted", "expected"),
    [
        ({"diffviz._forward": "from diffviz.viz import plots_1d\n"}, "imports the drawing code"),
        ({"diffviz._forward": "from diffviz import check_setup\n"}, "imports the package diffviz itself"),
        ({"diffviz._forward": "import diffviz\n"}, "imports the package diffviz itself"),
        ({"diffviz._a": "from diffviz import _b\n", "diffviz._b": "from diffviz._a import f\n"}, "import cycle"),
        ({"diffviz.viz.style": "from diffviz.viz import plots_1d\n", "diffviz.viz.plots_1d": "from diffviz.viz.style import x\n"}, "import cycle"),
    ],
)
def test_layering_check_can_fail(planted, expected):
    sources = {"diffviz": "", "diffviz.viz": "", "diffviz.viz.plots_1d": "", "diffviz.viz.style": "", "diffviz._forward": "", **planted}
    problems = layering_problems(sources)
    assert any(expected in p for p in problems), problems


def test_length_and_readme_checks_can_fail():
    long = {"diffviz._forward": "x = 1\n" * (MAX_LINES + 1)}
    assert length_problems(long) and not length_problems(long, allowed={"diffviz._forward": "why"})
    assert readme_problems({"diffviz._forward": ""}, "nothing here") and not readme_problems({"diffviz._forward": ""}, "`_forward.py`")


# --- the public names: every name __all__ lists is there, once, in order ---------------------------


def public_name_problems(module) -> list[str]:
    """What is wrong with ``module.__all__``: names it lists that the module lacks, repeats, disorder."""
    names = list(module.__all__)
    problems = [f"{module.__name__}.__all__ lists {n!r}, which {module.__name__} does not define" for n in names if not hasattr(module, n)]
    problems += [f"{module.__name__}.__all__ lists {n!r} twice" for n in sorted({n for n in names if names.count(n) > 1})]
    if names != sorted(names):
        problems.append(f"{module.__name__}.__all__ is not sorted")
    return problems


def test_every_public_name_is_defined_once_and_in_order():
    import diffviz
    import diffviz.viz

    assert public_name_problems(diffviz) + public_name_problems(diffviz.viz) == []


def test_public_name_check_can_fail():
    import types

    fake = types.ModuleType("fake")
    fake.__all__ = ["b", "a", "a", "ghost"]
    fake.a = fake.b = 1
    problems = public_name_problems(fake)
    assert any("'ghost'" in p for p in problems) and any("twice" in p for p in problems) and any("not sorted" in p for p in problems)
