"""Point every chapter's install line at the repository that book.yml names.

A chapter opened where the ``diffviz`` package is not installed (Colab, through the book's
launch button) must install it before anything else. So each chapter's set-up cell (the code
cell with ``import diffviz as dv``) starts with

    import importlib.util

    if importlib.util.find_spec("diffviz") is None:  # not installed (Colab): install it from the course's repository
        %pip install --quiet "diffviz @ git+https://github.com/OWNER/diffviz@main"

Where diffviz is installed (``make lab``, the book build, the tests, Binder) the ``%pip`` line
never runs. It comes before the cell imports jax, NumPy or Matplotlib, since pip may install
other versions of them, and a module already imported would stay the old one.

The URL and the branch are those of book.yml (``repository: url`` and ``branch``), the one place
a maintainer edits them; after changing them run

    python scripts/set_repository.py            rewrite the chapters' install lines from book.yml
    python scripts/set_repository.py --check    only list the chapters whose line disagrees (exit 1)

The first form also adds the lines above to a set-up cell that lacks them.
``tests/test_launch.py`` fails while any chapter's line disagrees with book.yml.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

GUARD = 'if importlib.util.find_spec("diffviz") is None:'
GUARD_COMMENT = "  # not installed (Colab): install it from the course's repository"
# The install line itself: the requirement's URL is everything up to the last "@", the branch after it.
INSTALL = re.compile(r'^(?P<indent>[ \t]*)%pip install --quiet "diffviz @ git\+(?P<url>[^"\s]+)@(?P<branch>[^"@\s]+)"[ \t]*$', re.M)
SETUP_IMPORT = re.compile(r"^import diffviz as dv\s*$", re.M)


def read_repository(book_yml: Path = ROOT / "book.yml") -> tuple[str, str]:
    """The repository URL and branch that book.yml gives to the launch and repository buttons."""
    repository = yaml.safe_load(book_yml.read_text(encoding="utf-8"))["repository"]
    return str(repository["url"]).rstrip("/"), str(repository["branch"])


def requirement(url: str, branch: str) -> str:
    """The pip requirement that installs diffviz from ``branch`` of the git repository at ``url``."""
    return f"diffviz @ git+{url}@{branch}"


def install_line(url: str, branch: str) -> str:
    return f'%pip install --quiet "{requirement(url, branch)}"'


def install_block(url: str, branch: str) -> str:
    """The lines a set-up cell starts with."""
    return f"import importlib.util\n\n{GUARD}{GUARD_COMMENT}\n    {install_line(url, branch)}\n\n"


def source(cell: dict) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def set_source(cell: dict, text: str) -> None:
    cell["source"] = text.splitlines(keepends=True) if isinstance(cell.get("source"), list) else text


def setup_cell(nb: dict) -> dict | None:
    """The chapter's set-up cell: the first code cell that imports diffviz as dv."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and SETUP_IMPORT.search(source(cell)):
            return cell
    return None


def install_line_problems(nb: dict, url: str, branch: str) -> list[str]:
    """What is wrong with a notebook's install line, given book.yml's URL and branch (empty: nothing)."""
    setup = setup_cell(nb)
    if setup is None:
        return ["no set-up cell (a code cell with `import diffviz as dv`)"]
    problems = []
    elsewhere = [i for i, c in enumerate(nb["cells"]) if c is not setup and INSTALL.search(source(c))]
    if elsewhere:
        problems.append(f"an install line outside the set-up cell (cells {elsewhere})")
    text = source(setup)
    found = list(INSTALL.finditer(text))
    if len(found) != 1:
        return [*problems, f"the set-up cell has {len(found)} install lines, not 1 (run scripts/set_repository.py)"]
    line = found[0]
    if (line["url"], line["branch"]) != (url, branch):
        problems.append(f"installs from {line['url']}@{line['branch']}, book.yml says {url}@{branch} (run scripts/set_repository.py)")
    before = text[: line.start()].rstrip("\n").splitlines()
    if not before or before[-1].split("#")[0].strip() != GUARD or not line["indent"]:
        problems.append(f"the install line is not the body of `{GUARD}` (it would reinstall over an installed diffviz)")
    code_before = [b.strip() for b in before[:-1] if b.strip() and not b.strip().startswith("#")]
    if code_before != ["import importlib.util"]:
        problems.append(f"the set-up cell runs {code_before} before the install; only `import importlib.util` may come first")
    return problems


def rewrite(nb: dict, url: str, branch: str) -> bool:
    """Point the notebook's install line at ``url``/``branch`` (adding the lines if missing); return whether it changed."""
    setup = setup_cell(nb)
    if setup is None:
        raise ValueError("no set-up cell (a code cell with `import diffviz as dv`)")
    text = source(setup)
    if INSTALL.search(text):
        new = INSTALL.sub(lambda m: m["indent"] + install_line(url, branch), text)
    else:
        new = install_block(url, branch) + text
    if new == text:
        return False
    set_source(setup, new)
    return True


def read_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write_notebook(path: Path, nb: dict) -> None:
    """Written the way the chapters are stored (one-space indent, UTF-8, a final newline)."""
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a chapter disagrees with book.yml")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (book.yml and notebooks/)")
    args = parser.parse_args(argv)
    url, branch = read_repository(args.root / "book.yml")
    notebooks = sorted((args.root / "notebooks").glob("*.ipynb"))
    if args.check:
        bad = {p.name: install_line_problems(read_notebook(p), url, branch) for p in notebooks}
        bad = {name: problems for name, problems in bad.items() if problems}
        for name, problems in bad.items():
            print(f"{name}: " + "; ".join(problems))
        print(f"{len(notebooks) - len(bad)} of {len(notebooks)} chapters install {requirement(url, branch)!r}")
        return 1 if bad else 0
    for path in notebooks:
        nb = read_notebook(path)
        if rewrite(nb, url, branch):
            write_notebook(path, nb)
            print(f"{path.name}: now installs {requirement(url, branch)!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
