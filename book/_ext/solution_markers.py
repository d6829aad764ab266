"""Sphinx extension: show the exercise solutions in the book without Otter-Grader's markers.

The chapters are also the source of the classroom edition (book/teachers_guide.md), so the
code of a worked solution carries Otter's markers: a line ending in ``# SOLUTION`` (the line
students must write), and blocks between ``# BEGIN SOLUTION`` (or ``# BEGIN SOLUTION NO
PROMPT``) and ``# END SOLUTION``. In JupyterLab they tell a teacher what the student edition
will blank out. On the rendered site they are noise to a reader who opened "Show the
solution", so this extension removes them from the displayed source of every code cell
tagged ``solution``: the marker lines go, and a trailing ``# SOLUTION`` comment is cut from
its line; the code itself is unchanged. The notebooks (and the book's .ipynb downloads)
keep their markers.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only Sphinx needs docutils and Sphinx: the tests import strip_markers alone
    from docutils import nodes
    from sphinx.application import Sphinx

# A whole line that only opens or closes a solution block.
BLOCK_MARKER = re.compile(r"^[ \t]*# (?:BEGIN SOLUTION(?: NO PROMPT)?|END SOLUTION)[ \t]*$")
# A trailing marker on a line of code: `x = 1  # SOLUTION` (or `# SOLUTION NO PROMPT`).
LINE_MARKER = re.compile(r"[ \t]*# SOLUTION(?: NO PROMPT)?[ \t]*$")


def strip_markers(code: str) -> str:
    """``code`` without Otter's solution markers (the lines of code themselves are kept)."""
    lines = [LINE_MARKER.sub("", line) for line in code.split("\n") if not BLOCK_MARKER.match(line)]
    return "\n".join(lines)


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    from docutils import nodes

    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") != "cell_code" or "tag_solution" not in cell["classes"]:
            continue
        for source in cell.findall(nodes.container):
            if source.get("nb_element") != "cell_code_source":
                continue
            for block in source.findall(nodes.literal_block):
                code = block.astext()
                clean = strip_markers(code)
                if clean != code:
                    # rawsource too: Sphinx highlights a literal block only when the two agree
                    block.rawsource = clean
                    block.children = [nodes.Text(clean)]


def setup(app: Sphinx) -> dict:
    app.connect("doctree-read", on_doctree_read)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
