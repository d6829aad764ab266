"""What each built chapter page weighs: its HTML plus the images it loads, in kB.

Reads the built book (``_build/html`` by default; ``make book`` makes it) and prints, per chapter
page: the HTML, the images it loads from ``_images/`` (figures MyST-NB wrote out), their sum (the
page's own weight: the theme's scripts and styles are shared by every page and cached after the
first), and what of the HTML readers never see:

* ``widget state``: the saved ipywidgets state (``application/vnd.jupyter.widget-state+json``),
  which holds the kernel explorers' last PNGs; the book hides every widget cell's output
  (``book/static/diffviz-book.css``), so this rides along unseen;
* ``hidden outputs``: the HTML of the outputs of cells tagged ``widget`` (hidden the same way);
* ``data: images``: base64 images inside the HTML (the players' frames, the live explorers'
  fallback pictures): seen, but part of the HTML figure.

    .venv/bin/python benchmarks/page_weights.py [--site _build/html] [--json out.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
WIDGET_STATE = re.compile(r'<script type="application/vnd\.jupyter\.widget-state\+json">.*?</script>', re.S)
IMG = re.compile(r'<img\b[^>]*?\bsrc="([^"]+)"', re.S)
DATA_IMAGE = re.compile(r'data:image/[a-z+]+;base64,[A-Za-z0-9+/=\\\n]+')
CELL_START = re.compile(r'<div class="cell(?: [^"]*)?"')


def hidden_output_bytes(html: str) -> int:
    """Bytes of the outputs of code cells tagged ``widget`` (``div.cell.tag_widget .cell_output``)."""
    total = 0
    starts = [m.start() for m in CELL_START.finditer(html)] + [len(html)]
    for begin, end in itertools.pairwise(starts):
        head = html[begin : html.index(">", begin)]
        if "tag_widget" not in head:
            continue
        cell = html[begin:end]
        at = cell.find('<div class="cell_output')
        if at >= 0:
            total += len(cell[at:].encode())
    return total


def weigh(page: Path) -> dict:
    html = page.read_text(encoding="utf-8")
    images = 0
    seen = set()
    for src in IMG.findall(html):
        if src.startswith("data:") or urlsplit(src).scheme:
            continue
        path = (page.parent / unquote(urlsplit(src).path)).resolve()
        if path.is_file() and path not in seen:
            seen.add(path)
            images += path.stat().st_size
    state = sum(len(m.group(0).encode()) for m in WIDGET_STATE.finditer(html))
    return {
        "html": len(html.encode()),
        "images": images,
        "total": len(html.encode()) + images,
        "widget_state": state,
        "hidden_outputs": hidden_output_bytes(html),
        "data_images": sum(len(m.group(0)) for m in DATA_IMAGE.finditer(html)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--json", type=Path, help="also write the figures (bytes) to this file")
    args = parser.parse_args()
    pages = sorted((args.site / "notebooks").glob("*.html"))
    if not pages:
        raise SystemExit(f"no chapter pages in {args.site / 'notebooks'} (run `make book` first)")
    kb = lambda b: f"{b / 1e3:8.0f}"
    print(f"{'page':32s} {'HTML':>8s} {'images':>8s} {'total':>8s}   {'widget state':>12s} {'hidden outputs':>14s} {'data: images':>12s}   (kB)")
    out = {}
    for page in pages:
        w = out[page.stem] = weigh(page)
        print(f"{page.stem:32s} {kb(w['html'])} {kb(w['images'])} {kb(w['total'])}   {kb(w['widget_state']):>12s} "
              f"{kb(w['hidden_outputs']):>14s} {kb(w['data_images']):>12s}")  # fmt: skip
    total = sum(w["total"] for w in out.values())
    unseen = sum(w["widget_state"] + w["hidden_outputs"] for w in out.values())
    print(f"{'all chapters':32s} {'':8s} {'':8s} {kb(total)}   unseen (widget state + hidden outputs): {unseen / 1e3:.0f} kB")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
