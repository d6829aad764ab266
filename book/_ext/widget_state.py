"""Sphinx extension: drop the saved widget state that no reader of the book can see.

A chapter executed for the book saves the state of every ipywidget it made, and MyST-NB writes
it into the page (``<script type="application/vnd.jupyter.widget-state+json">``) for the
vendored html-manager to render the widgets' views. The course's live-kernel explorers sit in
cells tagged ``widget``, whose outputs the book hides (``book/static/diffviz-book.css``), yet
their state, with the last PNG each explorer showed, still rode along: 40-140 kB a chapter page.

After the build, on each written page: the widget views outside hidden cells are the visible
ones (progress bars, say); their models and every model those refer to (``IPY_MODEL_<id>``) are
kept; the other models go, with the view tags of the hidden cells (the html-manager would
otherwise look for their models). A page with no visible widget keeps no state at all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sphinx.application import Sphinx

STATE = re.compile(r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>', re.S)
VIEW = re.compile(r'<script type="application/vnd\.jupyter\.widget-view\+json">(.*?)</script>', re.S)
CELL = re.compile(r'<div class="cell(?: [^"]*)?"')
REFERENCE = re.compile(r"IPY_MODEL_([0-9a-f]+)")


def _in_hidden_cell(html: str, at: int, cells: list[re.Match]) -> bool:
    """Whether position ``at`` lies in a code cell tagged ``widget`` (cells do not nest)."""
    owner = None
    for cell in cells:
        if cell.start() > at:
            break
        owner = cell
    return owner is not None and "tag_widget" in owner.group(0)


def drop_unseen_widget_state(html: str) -> str:
    """``html`` without the widget models that only hidden (``tag_widget``) cells show."""
    state_match = STATE.search(html)
    if state_match is None:
        return html
    saved = json.loads(state_match.group(1))
    models = saved.get("state", {})
    cells = list(CELL.finditer(html))
    keep: set[str] = set()
    todo = []
    hidden_views = []
    for view in VIEW.finditer(html):
        if _in_hidden_cell(html, view.start(), cells):
            hidden_views.append(view)
        else:
            todo.append(json.loads(view.group(1)).get("model_id", ""))
    while todo:
        model = todo.pop()
        if model in keep or model not in models:
            continue
        keep.add(model)
        todo.extend(REFERENCE.findall(json.dumps(models[model])))
    # the hidden views' tags go (from the end, so earlier positions stay valid), then the state
    for view in reversed(hidden_views):
        html = html[: view.start()] + html[view.end() :]
    state_match = STATE.search(html)
    if keep:
        saved["state"] = {k: v for k, v in models.items() if k in keep}
        body = json.dumps(saved).replace("</", "<\\/")
        replacement = f'<script type="application/vnd.jupyter.widget-state+json">{body}</script>'
    else:
        replacement = ""
    return html[: state_match.start()] + replacement + html[state_match.end() :]


def on_build_finished(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        fixed = drop_unseen_widget_state(html)
        if fixed != html:
            page.write_text(fixed, encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
