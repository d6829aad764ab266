"""Copy the book's browser libraries from node_modules/ into book/_vendor/.

The rendered book must work offline and from disk, so MathJax 3, require.js, the
ipywidgets HTML manager and Font Awesome 4 are served from the site's own folder instead of a CDN. They come
from the npm packages pinned in package.json / package-lock.json (``npm ci``); this script
copies only the files a page needs. book.yml lists book/_vendor in ``html_static_path``,
so Sphinx copies them on into ``_build/html/_static/vendor/``.

book/_vendor is a build product (book/.gitignore): never edit or commit it.
``make book`` runs this script after ``npm ci``.

Usage: python scripts/vendor_book_assets.py [--node-modules DIR] [--dest DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# package -> (source paths relative to the package, destination relative to _vendor/vendor)
# Everything lands under a "vendor/" prefix so that the URLs in the built site are
# _static/vendor/<package>/..., clearly apart from the theme's own files.
COPIES: dict[str, list[tuple[str, str]]] = {
    "mathjax": [
        # The combined TeX + MathML input, CommonHTML output component ...
        ("es5/tex-mml-chtml.js", "mathjax/tex-mml-chtml.js"),
        # ... and what it loads lazily, relative to its own URL: web fonts, TeX extensions,
        # the context menu and the accessibility components (loaded on request).
        ("es5/output/chtml", "mathjax/output/chtml"),
        ("es5/input/tex/extensions", "mathjax/input/tex/extensions"),
        ("es5/input/mml", "mathjax/input/mml"),
        ("es5/ui", "mathjax/ui"),
        ("es5/a11y", "mathjax/a11y"),
        ("es5/sre", "mathjax/sre"),
        ("es5/adaptors", "mathjax/adaptors"),
        ("LICENSE", "mathjax/LICENSE"),
    ],
    "requirejs": [
        ("require.js", "requirejs/require.js"),
    ],
    # matplotlib's FuncAnimation.to_jshtml() players (the static scrubbers) link Font
    # Awesome 4 from a CDN for their button icons; book/_ext/offline_assets.py points
    # that link here instead.
    "font-awesome": [
        ("css/font-awesome.min.css", "font-awesome/css/font-awesome.min.css"),
        ("fonts", "font-awesome/fonts"),
    ],
    "@jupyter-widgets/html-manager": [
        # embed-amd.js bundles @jupyter-widgets/base, controls and output; the font files
        # (Font Awesome, used by widget icons) sit next to it under webpack's hashed names.
        # The npm layout is kept (vendor/@jupyter-widgets/html-manager/dist/) because the
        # bundle fetches its fonts from <data-jupyter-widgets-cdn>/@jupyter-widgets/
        # html-manager/dist/, and book.yml points that attribute at _static/vendor/.
        ("dist/embed-amd.js", "@jupyter-widgets/html-manager/dist/embed-amd.js"),
        ("dist/embed.js.LICENSE.txt", "@jupyter-widgets/html-manager/dist/LICENSE.txt"),
    ],
}
FONT_SUFFIXES = (".woff2", ".woff", ".ttf", ".eot", ".svg")


def package_version(node_modules: Path, package: str) -> str:
    return json.loads((node_modules / package / "package.json").read_text(encoding="utf-8"))["version"]


def expected_versions(root: Path) -> dict[str, str]:
    """The exact versions package.json pins (it pins exact versions, no ranges)."""
    return json.loads((root / "package.json").read_text(encoding="utf-8"))["dependencies"]


def copy(node_modules: Path, dest: Path, root: Path = ROOT) -> dict[str, str]:
    """Copy the files into ``dest`` (replacing it); return package -> version copied."""
    wanted = expected_versions(root)
    missing = [p for p in COPIES if not (node_modules / p / "package.json").is_file()]
    if missing:
        raise SystemExit(f"not installed in {node_modules}: {', '.join(missing)} (run `npm ci` first)")
    versions = {p: package_version(node_modules, p) for p in COPIES}
    stale = {p: v for p, v in versions.items() if wanted.get(p) != v}
    if stale:
        raise SystemExit(f"node_modules does not match package.json ({stale} vs {wanted}): run `npm ci`")
    if dest.exists():
        shutil.rmtree(dest)
    out = dest / "vendor"
    for package, items in COPIES.items():
        for src_rel, dst_rel in items:
            src, dst = node_modules / package / src_rel, out / dst_rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst)
            else:
                shutil.copy2(src, dst)
    dist = node_modules / "@jupyter-widgets/html-manager/dist"
    for font in dist.iterdir():
        if font.suffix in FONT_SUFFIXES:
            shutil.copy2(font, out / "@jupyter-widgets/html-manager/dist" / font.name)
    (out / "VERSIONS.json").write_text(json.dumps(versions, indent=2) + "\n", encoding="utf-8")
    return versions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, default=ROOT / "node_modules")
    parser.add_argument("--dest", type=Path, default=ROOT / "book" / "_vendor")
    args = parser.parse_args(argv)
    versions = copy(args.node_modules, args.dest)
    size = sum(f.stat().st_size for f in args.dest.rglob("*") if f.is_file())
    print(f"vendored {', '.join(f'{p}@{v}' for p, v in versions.items())} into {args.dest} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
