"""Consistency checks of the project's own files.

pyproject.toml holds the dependency ranges; environment.yml must mirror the
runtime ranges for conda, constraints.txt must pin every dependency exactly
and inside its range, and the README's quick start must match what CI runs.

Each check is a small pure function returning a list of problems (empty when
all is well). The ``*_reports_*`` tests feed those functions deliberately
broken in-memory inputs, so a check that silently stopped working would fail.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]

# Entries of environment.yml that are tooling, not runtime packages of diffviz.
CONDA_TOOLING = frozenset({"python", "pip"})


# --------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------


def requirement_ranges(requirements: list[str]) -> dict[str, SpecifierSet]:
    """Map canonical name -> specifier set for PEP 508 requirement strings."""
    ranges: dict[str, SpecifierSet] = {}
    for text in requirements:
        req = Requirement(text)
        ranges[canonicalize_name(req.name)] = req.specifier
    return ranges


_CONDA_OPERATORS = ("==", "!=", ">=", "<=", "~=", ">", "<")


def conda_version_to_pep440(part: str) -> str:
    """Translate one comma-separated conda version constraint to PEP 440.

    conda's ``=3.11`` (fuzzy) means ``==3.11.*``; a bare ``1.2`` means
    ``==1.2`` and a bare ``1.2.*`` means ``==1.2.*``; other operators are the
    same in both spellings.
    """
    part = part.strip()
    if not part:
        raise ValueError("empty version constraint")
    if part.startswith("=") and not part.startswith("=="):
        version = part[1:].rstrip("*").rstrip(".")
        return f"=={version}.*"
    if part.startswith(_CONDA_OPERATORS):
        return part
    return f"=={part}"


def parse_conda_spec(spec: str) -> tuple[str, SpecifierSet]:
    """Parse a conda match spec such as ``jax >=0.10.2,<0.11`` or ``python=3.11``.

    Only the forms this project uses are accepted; a build string, an ``|``
    alternative or a channel prefix raises ValueError rather than being
    compared wrongly.
    """
    match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*?)\s*", spec)
    if match is None or "::" in spec or "|" in spec or "[" in spec:
        raise ValueError(f"unsupported conda spec: {spec!r}")
    name, rest = match.groups()
    rest = re.sub(r"\s*([,<>=!~])\s*", r"\1", rest)
    if " " in rest:
        raise ValueError(f"build strings are not supported: {spec!r}")
    if not rest:
        return canonicalize_name(name), SpecifierSet()
    parts = [conda_version_to_pep440(p) for p in rest.split(",")]
    return canonicalize_name(name), SpecifierSet(",".join(parts))


def conda_ranges(env: dict) -> dict[str, SpecifierSet]:
    """Map canonical name -> specifier set for the conda (non-pip) dependencies."""
    ranges: dict[str, SpecifierSet] = {}
    for entry in env.get("dependencies", []):
        if isinstance(entry, str):
            name, spec = parse_conda_spec(entry)
            ranges[name] = spec
    return ranges


def conda_pip_section(env: dict) -> list[str]:
    """The entries of the ``pip:`` sub-list of an environment.yml, if any."""
    for entry in env.get("dependencies", []):
        if isinstance(entry, dict) and "pip" in entry:
            return [str(item).strip() for item in entry["pip"]]
    return []


def compare_ranges(
    pyproject: dict[str, SpecifierSet], conda: dict[str, SpecifierSet]
) -> list[str]:
    """Differences between pyproject's runtime ranges and environment.yml's."""
    problems = []
    for name in sorted(pyproject.keys() - conda.keys()):
        problems.append(f"{name}: in pyproject.toml but not in environment.yml")
    for name in sorted(conda.keys() - pyproject.keys() - CONDA_TOOLING):
        problems.append(f"{name}: in environment.yml but not in pyproject.toml")
    for name in sorted(pyproject.keys() & conda.keys()):
        if pyproject[name] != conda[name]:
            problems.append(
                f"{name}: pyproject.toml has '{pyproject[name]}', "
                f"environment.yml has '{conda[name]}'"
            )
    return problems


_PIN_LINE = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)")


def parse_pins(text: str) -> tuple[dict[str, Version], list[str]]:
    """Read a constraints file; every non-comment line must be ``name==version``.

    Returns the pins (canonical name -> version) and the problems found.
    """
    pins: dict[str, Version] = {}
    problems = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _PIN_LINE.fullmatch(line)
        if match is None:
            problems.append(f"line {number}: not an exact 'name==version' pin: {raw!r}")
            continue
        name = canonicalize_name(match.group(1))
        if name in pins:
            problems.append(f"line {number}: {name} is pinned twice")
        pins[name] = Version(match.group(2))
    return pins, problems


def check_pins(ranges: dict[str, SpecifierSet], pins: dict[str, Version]) -> list[str]:
    """Every ranged dependency must have a pin, and the pin must be in range."""
    problems = []
    for name, spec in sorted(ranges.items()):
        if name not in pins:
            problems.append(f"{name}: no pin in constraints.txt")
        elif not spec.contains(pins[name], prereleases=True):
            problems.append(f"{name}: pinned {pins[name]} is outside '{spec}'")
    return problems


def fenced_code_blocks(markdown: str) -> list[str]:
    """The contents of the fenced (```) code blocks of a Markdown text."""
    return [
        body.strip()
        for body in re.findall(r"^```[^\n]*\n(.*?)^```", markdown, re.M | re.S)
    ]


def missing_quick_start(markdown: str, commands: tuple[str, ...]) -> list[str]:
    """Commands that are not the whole content of some code block."""
    blocks = fenced_code_blocks(markdown)
    return [cmd for cmd in commands if cmd not in blocks]


def runs_command(script: str, command: str) -> bool:
    """Whether a shell script runs ``command`` on an uncommented line."""
    pattern = re.compile(rf"^\s*{re.escape(command)}(\s|$|;)")
    return any(pattern.match(line) for line in script.splitlines())


def python_mismatch(env_python: SpecifierSet, requires_python: SpecifierSet) -> list[str]:
    """CPython 3.x releases that environment.yml admits but requires-python rejects."""
    candidates = [Version(f"3.{minor}.{patch}") for minor in range(30) for patch in (0, 99)]
    admitted = [v for v in candidates if env_python.contains(v, prereleases=False)]
    if not admitted:
        return [f"environment.yml's python '{env_python}' admits no Python 3 release"]
    return [
        f"environment.yml admits Python {v}, requires-python is '{requires_python}'"
        for v in admitted
        if not requires_python.contains(v, prereleases=False)
    ]


# --------------------------------------------------------------------------
# Fixtures: the real files
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def constraints_text() -> str:
    return (ROOT / "constraints.txt").read_text(encoding="utf-8")


def _runtime_ranges(pyproject: dict) -> dict[str, SpecifierSet]:
    return requirement_ranges(pyproject["project"]["dependencies"])


def _all_ranges(pyproject: dict) -> dict[str, SpecifierSet]:
    project = pyproject["project"]
    test_extra = project.get("optional-dependencies", {}).get("test", [])
    return requirement_ranges(project["dependencies"] + test_extra)


# --------------------------------------------------------------------------
# (a) environment.yml mirrors the runtime ranges of pyproject.toml
# --------------------------------------------------------------------------


def test_environment_yml_matches_pyproject_ranges(pyproject, environment):
    assert compare_ranges(_runtime_ranges(pyproject), conda_ranges(environment)) == []


def test_environment_yml_uses_conda_forge_and_installs_package(environment):
    channels = environment.get("channels", [])
    assert "conda-forge" in channels
    assert set(channels) <= {"conda-forge", "nodefaults"}
    assert "pip" in conda_ranges(environment)
    assert "-e ." in conda_pip_section(environment)


# Binder (the book's launch button) builds the image with repo2docker from environment.yml.
# repo2docker reads binder/ or .binder/ instead of the root when either exists, takes the
# Python version from a `python=X.Y` entry, and copies the repository into the image before
# it installs environment.yml only when the pip section holds a local requirement (`-e .`;
# repo2docker's CondaBuildPack._should_preassemble_env): then the package is installed.


def binder_problems(root: Path, env: dict, book: dict) -> list[str]:
    problems = [f"{d}/ exists: repo2docker would ignore environment.yml" for d in ("binder", ".binder") if (root / d).is_dir()]
    if "-e ." not in conda_pip_section(env):
        problems.append("environment.yml's pip section does not install the package (-e .)")
    names = conda_ranges(env)
    problems += [f"environment.yml lacks {name}" for name in ("jupyterlab", "ipywidgets") if name not in names]
    if not any(isinstance(e, str) and re.fullmatch(r"python\s*=+\s*3\.\d+", e) for e in env.get("dependencies", [])):
        problems.append("environment.yml does not name its Python as python=3.X (repo2docker would pick its default)")
    launch = book.get("launch_buttons", {})
    if launch.get("notebook_interface") != "jupyterlab":
        problems.append("book.yml's launch buttons do not open JupyterLab (notebook_interface)")
    if not str(launch.get("binderhub_url", "")).startswith("https://"):
        problems.append("book.yml has no binderhub_url")
    return problems


def test_binder_builds_the_package_and_opens_jupyterlab(environment):
    book = yaml.safe_load((ROOT / "book.yml").read_text(encoding="utf-8"))
    assert binder_problems(ROOT, environment, book) == []


def test_binder_check_can_fail(tmp_path, environment):
    book = {"launch_buttons": {"notebook_interface": "jupyterlab", "binderhub_url": "https://mybinder.org"}}
    assert binder_problems(tmp_path, environment, book) == []
    (tmp_path / ".binder").mkdir()
    assert len(binder_problems(tmp_path, environment, book)) == 1
    env = {"dependencies": ["python >=3.11", "jupyterlab", "pip", {"pip": ["diffviz"]}]}
    assert len(binder_problems(tmp_path / "none", env, {"launch_buttons": {"notebook_interface": "classic"}})) == 5


def test_parse_conda_spec_translates_conda_spelling():
    assert parse_conda_spec("jax >=0.10.2,<0.11") == ("jax", SpecifierSet(">=0.10.2,<0.11"))
    assert parse_conda_spec("jax>=0.10.2, <0.11")[1] == SpecifierSet("<0.11,>=0.10.2")
    assert parse_conda_spec("python=3.11") == ("python", SpecifierSet("==3.11.*"))
    assert parse_conda_spec("numpy 2.1.*")[1] == SpecifierSet("==2.1.*")
    assert parse_conda_spec("pip") == ("pip", SpecifierSet())
    for unsupported in ("numpy 2.1 py311_0", "conda-forge::jax", "numpy >=2|<1"):
        with pytest.raises(ValueError):
            parse_conda_spec(unsupported)


def test_compare_ranges_reports_each_kind_of_drift():
    pyproject = requirement_ranges(["jax>=0.10.2,<0.11", "tqdm>=4.66,<5", "optax>=0.2"])
    env = {
        "dependencies": [
            "python=3.11",
            "jax >=0.10.2,<0.12",  # different upper bound
            "tqdm >=4.66,<5",  # same
            "scipy >=1.13",  # only in environment.yml
            "pip",
            {"pip": ["-e ."]},
        ]
    }
    problems = compare_ranges(pyproject, conda_ranges(env))
    assert len(problems) == 3
    assert any(p.startswith("jax:") for p in problems)
    assert any(p.startswith("optax:") and "not in environment.yml" in p for p in problems)
    assert any(p.startswith("scipy:") and "not in pyproject.toml" in p for p in problems)
    # Order of the bounds and spacing do not count as drift.
    same = conda_ranges({"dependencies": ["jax <0.11, >=0.10.2"]})
    assert compare_ranges(requirement_ranges(["jax>=0.10.2,<0.11"]), same) == []


# --------------------------------------------------------------------------
# (b) + (c) constraints.txt: exact pins, one per dependency, inside the ranges
# --------------------------------------------------------------------------


def test_constraints_has_only_exact_pins(constraints_text):
    pins, problems = parse_pins(constraints_text)
    assert problems == []
    assert pins, "constraints.txt pins nothing"


def test_every_dependency_is_pinned_within_its_range(pyproject, constraints_text):
    pins, _ = parse_pins(constraints_text)
    assert check_pins(_all_ranges(pyproject), pins) == []


def test_gpu_extra_is_the_pinned_jax_with_cuda(pyproject, constraints_text):
    """`pip install -c constraints.txt -e .[gpu]` keeps the tested jax and adds its CUDA build."""
    gpu = [Requirement(r) for r in pyproject["project"]["optional-dependencies"]["gpu"]]
    jax = [r for r in gpu if canonicalize_name(r.name) == "jax"]
    assert len(jax) == 1 and jax[0].extras == {"cuda12"}
    assert jax[0].specifier == _runtime_ranges(pyproject)["jax"]
    pins, _ = parse_pins(constraints_text)
    assert jax[0].specifier.contains(pins["jax"])


def test_constraints_does_not_pin_the_project_itself(constraints_text):
    pins, _ = parse_pins(constraints_text)
    assert "diffviz" not in pins


def test_parse_pins_reports_non_exact_lines():
    text = "\n".join(
        [
            "# comment",
            "PyYAML==6.0.4",
            "numpy>=2",
            "numpy==2.*",
            "foo @ file:///tmp/foo.whl",
            "-e .",
            "scipy==1.17.1  # trailing comment",
            "pyyaml==6.0.3",
        ]
    )
    pins, problems = parse_pins(text)
    assert pins == {"pyyaml": Version("6.0.3"), "scipy": Version("1.17.1")}
    assert len(problems) == 5  # four malformed lines and one duplicate


def test_check_pins_reports_missing_and_out_of_range():
    ranges = requirement_ranges(["jax>=0.10.2,<0.11", "numpy>=2.0,<3", "tqdm>=4.66"])
    pins = {"jax": Version("0.11.0"), "numpy": Version("2.4.6")}
    problems = check_pins(ranges, pins)
    assert len(problems) == 2
    assert any(p.startswith("jax:") and "outside" in p for p in problems)
    assert any(p.startswith("tqdm:") and "no pin" in p for p in problems)


# --------------------------------------------------------------------------
# (d) README quick start and CI run the same commands
# --------------------------------------------------------------------------


def test_readme_quick_start_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert missing_quick_start(readme, ("make lab", "make test")) == []


def test_ci_runs_make_test():
    assert runs_command((ROOT / ".ci" / "run").read_text(encoding="utf-8"), "make test")


def test_quick_start_and_ci_checks_can_fail():
    readme = "# x\n\n```sh\nmake lab\n```\n\nThen run `make test`.\n"
    assert missing_quick_start(readme, ("make lab", "make test")) == ["make test"]
    assert not runs_command("set -e\n# make test\necho make test\n", "make test")
    assert not runs_command("make tests\n", "make test")
    assert runs_command("set -e\n  make test PYTEST_ARGS=-x\n", "make test")


# --------------------------------------------------------------------------
# (e) environment.yml's Python satisfies requires-python
# --------------------------------------------------------------------------


def test_environment_python_satisfies_requires_python(pyproject, environment):
    env_python = conda_ranges(environment).get("python")
    assert env_python is not None, "environment.yml does not name python"
    requires = SpecifierSet(pyproject["project"]["requires-python"])
    assert python_mismatch(env_python, requires) == []


def test_python_mismatch_is_reported():
    requires = SpecifierSet(">=3.11")
    assert python_mismatch(SpecifierSet("==3.11.*"), requires) == []
    assert python_mismatch(SpecifierSet("==3.10.*"), requires)
    assert python_mismatch(SpecifierSet(">=3.9"), requires)
    assert python_mismatch(SpecifierSet("==2.7.*"), requires)  # admits no 3.x


# --------------------------------------------------------------------------
# Lint: ruff, with the rules in pyproject.toml ([tool.ruff])
# --------------------------------------------------------------------------


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *args],
                          capture_output=True, text=True, check=False, cwd=ROOT)


def test_the_code_passes_ruff():
    """Package, tests, benchmarks, scripts, the book's extensions and the notebooks' code."""
    result = ruff(str(ROOT))
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n\n\ndef f(x):\n    y = x\n    return undefined_name\n")
    result = ruff("--config", str(ROOT / "pyproject.toml"), str(bad))
    assert result.returncode == 1
    assert all(code in result.stdout for code in ("F401", "F841", "F821")), result.stdout


# --------------------------------------------------------------------------
# make clean
# --------------------------------------------------------------------------

# One file in every place the project (its Makefile, tests, benchmarks, book build and the
# chapters) writes output that git ignores; `make clean` must remove them all.
OUTPUTS = [
    ".venv/bin/python", "build/lib/x.py", "dist/diffviz.whl", "constraints.txt.new",
    "diffviz/__pycache__/x.cpython-311.pyc", "diffviz.egg-info/PKG-INFO", "_build/html/index.html",
    ".pytest_cache/v/x", ".hypothesis/examples/x", "notebooks/.ipynb_checkpoints/x.ipynb",
    "benchmarks/results/x.txt", "benchmarks/output/x.txt", "benchmarks/.cache/x", "node_modules/x/package.json",
    "notebooks/ch06_1d.npz", "book/_vendor/vendor/VERSIONS.json", ".ruff_cache/0.17.5/x", "scripts/stray.pyc",
]
SOURCES = ["README.md", "notebooks/01_a.ipynb", "diffviz/__init__.py", "book/intro.md", "benchmarks/README.md"]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def test_make_clean_removes_every_ignored_output_and_the_xla_cache(tmp_path):
    repo = tmp_path / "repo"
    for name in ("Makefile", ".gitignore", "book/.gitignore"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes((ROOT / name).read_bytes())
    (repo / ".ruff_cache").mkdir()
    (repo / ".ruff_cache" / ".gitignore").write_text("*\n")  # what ruff writes into its cache
    for name in OUTPUTS + SOURCES:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("x\n")
    xla_cache = tmp_path / "xla-cache"
    (xla_cache / "entry").mkdir(parents=True)
    git(repo, "init", "-q")
    ignored = {line[3:] for line in git(repo, "status", "--ignored", "--porcelain=v1", "-uall").splitlines() if line.startswith("!!")}
    assert ignored >= set(OUTPUTS), "each planted output is in a place git ignores"
    # every ignore pattern of the project is exercised by one planted output
    matched = {line.split("\t")[0] for line in git(repo, "check-ignore", "-v", "--no-index", *OUTPUTS).splitlines()}
    patterns = {
        f"{gitignore}:{i}:{line.strip()}"
        for gitignore in (".gitignore", "book/.gitignore")
        for i, line in enumerate((repo / gitignore).read_text().splitlines(), 1)
        if line.strip() and not line.startswith("#")
    }
    assert patterns <= matched, f"ignore patterns with no planted output: {sorted(patterns - matched)}"

    subprocess.run(["make", "-s", "clean", f"JAX_CACHE_DIR={xla_cache}"], cwd=repo, check=True, capture_output=True)
    left = [line for line in git(repo, "status", "--ignored", "--porcelain=v1", "-uall").splitlines() if line.startswith("!!")]
    assert left == [], f"make clean left ignored files: {left}"
    assert not xla_cache.exists()
    assert all((repo / name).is_file() for name in SOURCES)


# --------------------------------------------------------------------------
# The package's import graph runs downward
# --------------------------------------------------------------------------


def import_problems(module: str, source: str, submodules: set[str]) -> list[str]:
    """What in ``source`` (the code of ``diffviz.<module>``) imports upward.

    No module imports the package ``diffviz`` itself (its ``__init__`` imports every module,
    so that would be a cycle; ``from diffviz import _forward`` names a submodule and is fine),
    and no maths module (``diffviz._*``) imports the drawing code in ``diffviz.viz``.
    """
    import ast

    problems = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
            if "diffviz" in names:
                problems.append(f"{module}: import diffviz")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "diffviz":
                problems += [f"{module}: from diffviz import {a.name}" for a in node.names if a.name not in submodules]
            targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if module.startswith("_") and any(t == "diffviz.viz" or t.startswith("diffviz.viz.") for t in targets):
                problems.append(f"{module}: imports the drawing code ({node.module})")
    return problems


def package_modules() -> dict[str, Path]:
    """``{"_forward": path, "viz.style": path, ...}`` for every module below diffviz/__init__.py."""
    package = ROOT / "diffviz"
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).with_suffix("").parts
        if parts != ("__init__",):
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def test_the_import_graph_runs_downward():
    modules = package_modules()
    assert {"_forward", "_setup", "viz", "viz.style", "viz.plots_1d"} <= set(modules)
    submodules = {name.split(".")[0] for name in modules}
    problems = [p for name, path in modules.items() for p in import_problems(name, path.read_text(), submodules)]
    assert problems == []


def test_the_import_graph_check_can_fail():
    submodules = {"_forward", "viz"}
    assert import_problems("_setup", "from diffviz import __version__\n", submodules) == ["_setup: from diffviz import __version__"]
    assert import_problems("viz.style", "import diffviz\n", submodules) == ["viz.style: import diffviz"]
    assert import_problems("_forward", "from diffviz.viz import style\n", submodules) == ["_forward: imports the drawing code (diffviz.viz)"]
    assert import_problems("_forward", "from diffviz import viz\n", submodules) == ["_forward: imports the drawing code (diffviz)"]
    assert import_problems("viz.plots_1d", "from diffviz import _forward\nfrom diffviz.viz import style\n", submodules) == []
