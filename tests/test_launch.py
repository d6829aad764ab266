"""The launch buttons: a chapter opened where diffviz is not installed installs it first.

Colab has no diffviz, so every chapter's set-up cell starts with a guarded
``%pip install --quiet "diffviz @ git+<url>@<branch>"`` whose URL and branch are book.yml's
``repository: url`` and ``branch`` (scripts/set_repository.py writes them; see its docstring).
Three kinds of test:

* every chapter's install line agrees with book.yml, is guarded (never runs where diffviz is
  installed) and comes before the cell imports anything pip might replace; the check itself
  is fed broken notebooks;
* scripts/set_repository.py rewrites a copy of the chapters to another repository, after
  which the check passes for the new one and fails for the old one;
* the start of a chapter's set-up cell, run by IPython in a fresh virtual environment with
  the requirement's URL swapped for a local clone of this repository's committed state (and
  ``--no-deps``: jax and the rest come from this environment), installs diffviz and imports it
  in the same process, as a fresh Colab kernel would; the package installed has every module
  of diffviz/ (this catches a package list in pyproject.toml that leaves out a subpackage, and
  the test checks that it fails when a module is missing from the install); run again, the
  install line does not run.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

_spec = importlib.util.spec_from_file_location("set_repository", ROOT / "scripts" / "set_repository.py")
set_repository = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(set_repository)

URL, BRANCH = set_repository.read_repository(ROOT / "book.yml")


def ids(path: Path) -> str:
    return path.stem


# --- the chapters' install lines ------------------------------------------------------------------


def test_book_yml_names_the_repository():
    assert URL.startswith("https://") and BRANCH
    assert set_repository.requirement(URL, BRANCH) == f"diffviz @ git+{URL}@{BRANCH}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_chapter_installs_diffviz_from_the_book_repository(path):
    assert set_repository.install_line_problems(set_repository.read_notebook(path), URL, BRANCH) == []


def test_set_repository_check_passes_on_the_chapters():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "set_repository.py"), "--check"],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def notebook(*cells: tuple[str, str]) -> dict:
    return {"cells": [{"cell_type": kind, "metadata": {}, "source": text} for kind, text in cells], "metadata": {}}


GOOD_SETUP = set_repository.install_block(URL, BRANCH) + "%matplotlib inline\nimport jax\n\nimport diffviz as dv\n"


def test_install_line_check_can_fail():
    check = set_repository.install_line_problems
    good = notebook(("markdown", "# Title"), ("code", GOOD_SETUP), ("code", "dv.linear_schedule(10)"))
    assert check(good, URL, BRANCH) == []
    assert len(check(good, URL, "other-branch")) == 1  # book.yml's branch changed
    assert len(check(good, "https://github.com/someone/diffviz", BRANCH)) == 1  # book.yml's URL changed

    def broken(old: str, new: str, where: int = 1) -> dict:
        nb = copy.deepcopy(good)
        assert old in nb["cells"][where]["source"]
        nb["cells"][where]["source"] = nb["cells"][where]["source"].replace(old, new)
        return nb

    line = set_repository.install_line(URL, BRANCH)
    assert len(check(broken(f"{BRANCH}\"", "elsewhere\""), URL, BRANCH)) == 1  # a stale branch in the chapter
    assert len(check(broken("import diffviz as dv", "import diffviz"), URL, BRANCH)) == 1  # no set-up cell
    assert len(check(broken(line, ""), URL, BRANCH)) == 1  # no install line
    assert len(check(broken(line, line + "\n    " + line), URL, BRANCH)) == 1  # two
    assert len(check(broken(set_repository.GUARD, "if True:"), URL, BRANCH)) == 1  # would reinstall over an installed diffviz
    assert len(check(broken("import importlib.util\n", "import jax\nimport importlib.util\n"), URL, BRANCH)) == 1  # jax first
    misplaced = copy.deepcopy(good)
    misplaced["cells"][2]["source"] = line
    assert len(check(misplaced, URL, BRANCH)) == 1  # an install line outside the set-up cell


def test_set_repository_rewrites_the_chapters(tmp_path):
    (tmp_path / "notebooks").mkdir()
    for path in NOTEBOOKS[:2]:
        shutil.copy(path, tmp_path / "notebooks" / path.name)
    book = (ROOT / "book.yml").read_text(encoding="utf-8")
    new_url = "https://github.com/a-teacher/diffviz-fork"
    assert book.count(URL) == 1
    (tmp_path / "book.yml").write_text(book.replace(URL, new_url).replace(f"branch: {BRANCH}", "branch: spring-term"), encoding="utf-8")
    assert set_repository.read_repository(tmp_path / "book.yml") == (new_url, "spring-term")
    script = [sys.executable, str(ROOT / "scripts" / "set_repository.py"), "--root", str(tmp_path)]
    assert subprocess.run([*script, "--check"], capture_output=True, check=False).returncode == 1  # the chapters still say URL
    subprocess.run(script, capture_output=True, check=True)
    assert subprocess.run([*script, "--check"], capture_output=True, check=False).returncode == 0
    for path in NOTEBOOKS[:2]:
        rewritten = set_repository.read_notebook(tmp_path / "notebooks" / path.name)
        assert set_repository.install_line_problems(rewritten, new_url, "spring-term") == []
        assert set_repository.install_line_problems(rewritten, URL, BRANCH) != []
        # nothing but the install line changed, and the file is written the way the chapters are stored
        original = json.loads(path.read_text(encoding="utf-8"))
        set_repository.rewrite(original, new_url, "spring-term")
        assert original == rewritten
        assert (tmp_path / "notebooks" / path.name).read_text(encoding="utf-8") == json.dumps(rewritten, indent=1, ensure_ascii=False) + "\n"


# --- installing it that way from a clone ---------------------------------------------------------


def source_modules(package_dir: Path) -> set[str]:
    """Dotted names of every module and subpackage in a source tree of the package."""
    names = set()
    for path in package_dir.rglob("*.py"):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


# Run by the fresh interpreter: import the package and every subpackage, then say where each
# module the source tree has was found.
PROBE = """
import importlib, importlib.util, json, pkgutil, sys
import diffviz
names = json.loads(sys.argv[1])
for name in sorted(n for n in names if n.count(".") >= 1 and importlib.util.find_spec(n) is not None
                   and importlib.util.find_spec(n).submodule_search_locations):
    importlib.import_module(name)
where = {}
for name in names:
    spec = importlib.util.find_spec(name)
    where[name] = spec.origin if spec is not None else None
print(json.dumps({"diffviz": diffviz.__file__, "where": where}))
"""


def installed_problems(python: Path, venv: Path, modules: set[str], env: dict) -> list[str]:
    """What the package installed in ``venv`` lacks, or where it is taken from somewhere else."""
    result = subprocess.run([str(python), "-c", PROBE, json.dumps(sorted(modules))], capture_output=True, text=True,
                            env=env, cwd=venv, check=False)  # fmt: skip
    if result.returncode != 0:
        return [f"import failed: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else result.returncode}"]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    problems = []
    if not Path(found["diffviz"]).resolve().is_relative_to(venv.resolve()):
        problems.append(f"diffviz was imported from {found['diffviz']}, not from the fresh environment")
    for name, origin in sorted(found["where"].items()):
        if origin is None:
            problems.append(f"{name} is missing from the install")
        elif not Path(origin).resolve().is_relative_to(venv.resolve()):
            problems.append(f"{name} was found at {origin}, outside the fresh environment")
    return problems


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(list(args), capture_output=True, text=True, check=False, **kwargs)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.mark.slow
def test_the_chapters_install_line_installs_a_complete_package_into_a_fresh_venv(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    # The committed state of this repository, with book.yml's branch pointing at it.
    clone = tmp_path / "clone"
    run("git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone))
    run("git", "-C", str(clone), "checkout", "--quiet", "-B", BRANCH)
    # The start of a chapter's set-up cell, down to its install line: the exact requirement, with
    # the URL swapped for the clone and --no-deps added.
    text = set_repository.source(set_repository.setup_cell(set_repository.read_notebook(NOTEBOOKS[0])))
    line = set_repository.INSTALL.search(text)
    assert set_repository.requirement(URL, BRANCH) in line.group(0)
    # (file://localhost/...: the packaging library inside older pips rejects a file URL with no host)
    local = line.group(0).replace(f"git+{URL}@", f"git+file://localhost{clone.as_posix()}@").replace("--quiet", "--quiet --no-deps")
    assert local != line.group(0)
    probe = "\nimport diffviz as dv\nprint('imported diffviz from', dv.__file__)\n"
    (tmp_path / "first.ipy").write_text(text[: line.start()] + local + probe, encoding="utf-8")
    bogus = local.replace(clone.as_posix(), (tmp_path / "no-such-repository").as_posix())
    (tmp_path / "again.ipy").write_text(text[: line.start()] + bogus + probe, encoding="utf-8")

    venv = tmp_path / "fresh"
    run(sys.executable, "-m", "venv", str(venv))
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_REQUIRE_VIRTUALENV", "VIRTUAL_ENV"))}
    env["PYTHONNOUSERSITE"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    # diffviz's dependencies (jax, flax, ...) and IPython come from this test's own environment,
    # appended after the fresh one's site-packages by a .pth file: the diffviz found first is the
    # fresh one, and this environment's editable diffviz stays out (it hooks in through an
    # import line in a .pth file of its own site-packages, which a directory added this way does not run).
    fresh_site = Path(run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", env=env).stdout.strip())
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (fresh_site / "zz_test_dependencies.pth").write_text("".join(f"{p}\n" for p in ours), encoding="utf-8")
    assert run(str(python), "-c", "import importlib.util; print(importlib.util.find_spec('diffviz'))", env=env, cwd=tmp_path).stdout.strip() == "None"

    # As in a fresh Colab kernel: the guard finds no diffviz, %pip installs it, and the import that
    # follows in the same process finds it.
    first = run(str(python), "-m", "IPython", "--no-banner", "--quick", str(tmp_path / "first.ipy"), env=env, cwd=tmp_path)
    imported = [ln for ln in first.stdout.splitlines() if ln.startswith("imported diffviz from ")]
    assert imported and Path(imported[0].split(" from ", 1)[1]).is_relative_to(venv), first.stdout + first.stderr
    modules = source_modules(clone / "diffviz")
    assert "diffviz" in modules and len(modules) > 5
    assert installed_problems(python, venv, modules, env) == []
    # Installed: the install line does not run again (it would fail on the missing repository).
    again = run(str(python), "-m", "IPython", "--no-banner", "--quick", str(tmp_path / "again.ipy"), env=env, cwd=tmp_path)
    assert "imported diffviz from" in again.stdout and "no-such-repository" not in again.stdout + again.stderr, again.stdout + again.stderr

    # The check fails when the install lacks a module (as a package list without a subpackage would).
    dropped = max(sorted(modules - {"diffviz"}), key=lambda n: n.count("."))  # a subpackage's module if there is one
    installed = fresh_site.joinpath(*dropped.split("."))
    target = installed / "__init__.py" if installed.is_dir() else installed.with_suffix(".py")
    target.unlink()
    problems = installed_problems(python, venv, modules, env)
    assert problems, f"no problem reported after removing {target}"
