"""Copy the browser libraries that ship *inside* the Python package from node_modules/.

The live explorers (``diffviz/viz/live.py``) inline a plotting library into their
self-contained HTML output, so a notebook user who installed diffviz with pip (no
node_modules, no internet) still gets a working explorer. The files come from the npm
packages pinned in package.json / package-lock.json and are checked in under
``diffviz/viz/assets/`` (pyproject.toml ships them as package data);
tests/test_live.py checks that they equal the pinned npm version.

Run after ``npm ci`` whenever the pin in package.json changes:

    python scripts/vendor_package_assets.py [--node-modules DIR] [--dest DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "diffviz" / "viz" / "assets"

# package -> (source path relative to the package, file name in diffviz/viz/assets/)
COPIES: dict[str, list[tuple[str, str]]] = {
    "uplot": [
        ("dist/uPlot.iife.min.js", "uplot.min.js"),
        ("dist/uPlot.min.css", "uplot.min.css"),
        ("LICENSE", "uplot.LICENSE"),
    ],
}
# The version copied, next to the files (read by the tests and by diffviz.viz.live).
VERSIONS_FILE = "versions.json"


def copy(node_modules: Path, dest: Path = DEST) -> dict[str, str]:
    """Copy the files into ``dest``; return package -> version copied."""
    wanted = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]
    versions = {}
    dest.mkdir(parents=True, exist_ok=True)
    for package, items in COPIES.items():
        meta = json.loads((node_modules / package / "package.json").read_text(encoding="utf-8"))
        if meta["version"] != wanted[package]:
            raise SystemExit(f"{package} {meta['version']} in {node_modules}, but package.json pins {wanted[package]} (run `npm ci`)")
        for src, name in items:
            shutil.copyfile(node_modules / package / src, dest / name)
        versions[package] = meta["version"]
    (dest / VERSIONS_FILE).write_text(json.dumps(versions, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return versions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, default=ROOT / "node_modules")
    parser.add_argument("--dest", type=Path, default=DEST)
    args = parser.parse_args()
    for package, version in copy(args.node_modules, args.dest).items():
        print(f"{package} {version} -> {args.dest}")


if __name__ == "__main__":
    main()
