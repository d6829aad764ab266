"""Sphinx extension: keep every page of the book free of requests to external hosts.

Notebook outputs can carry their own links to CDNs. matplotlib's
``FuncAnimation.to_jshtml()`` players (the course's static scrubbers) start with
``<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/...">``
for their button icons. On each page this extension replaces such known links with the
copy vendored from npm (package.json -> scripts/vendor_book_assets.py -> _static/vendor/),
then warns about any other ``src=``/``href=`` of a script, stylesheet, image or frame that
still points to an external host, so a new one cannot slip in unnoticed (the browser test,
tests/test_book.py, checks the real requests).

Ordinary links (``<a href="https://...">``) are fine: they are followed only when a reader
clicks them.
"""

from __future__ import annotations

import re
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

# URL pattern on a CDN -> file under _static/ that replaces it.
REPLACEMENTS: dict[re.Pattern[str], str] = {
    re.compile(r"https?://maxcdn\.bootstrapcdn\.com/font-awesome/4\.\d+\.\d+/css/font-awesome(?:\.min)?\.css"):
        "_static/vendor/font-awesome/css/font-awesome.min.css",
}
# Resources a page would fetch on load (not <a href> links, which need a click).
EXTERNAL_RESOURCE = re.compile(
    r"<(?:script|link|img|iframe|source|video|audio|embed)\b[^>]*?\b(?:src|href)\s*=\s*[\"']((?:https?:)?//[^\"']+)",
    re.I | re.S,
)


def localise(html: str, static_url) -> str:
    """Replace the known CDN URLs in ``html``; ``static_url(path)`` gives a path's URL."""
    for pattern, local in REPLACEMENTS.items():
        html = pattern.sub(static_url(local), html)
    return html


SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)


def dedupe_head_scripts(html: str) -> str:
    """Drop repeated, identical ``<script>`` elements from a page's ``<head>``.

    sphinx-thebe 0.3 and sphinx-togglebutton 0.4 register their inline configuration
    scripts (``const THEBE_JS_URL = ...``) again after Sphinx has set up the page's
    scripts, so each page gets them twice and the browser reports "Identifier
    'THEBE_JS_URL' has already been declared". Done on the written files, after every
    extension has had its say.
    """
    head_end = html.find("</head>")
    if head_end < 0:
        return html
    head, rest = html[:head_end], html[head_end:]
    seen: set[str] = set()

    def once(match: re.Match) -> str:
        tag = match.group(0)
        if tag in seen:
            return ""
        seen.add(tag)
        return tag

    return SCRIPT.sub(once, head) + rest


def on_build_finished(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        fixed = dedupe_head_scripts(html)
        if fixed != html:
            page.write_text(fixed, encoding="utf-8")


def on_page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    body = context.get("body")
    if not body:
        return
    pathto = context["pathto"]
    body = localise(body, lambda path: pathto(path, 1))
    context["body"] = body
    for url in EXTERNAL_RESOURCE.findall(body):
        logger.warning(f"{pagename}: the page loads {url} from an external host; vendor it (see book/_ext/offline_assets.py)")


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", on_page_context)
    app.connect("build-finished", on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
