"""A griffe extension for the API reference: Sphinx cross-reference roles become links.

customcd's docstrings are Sphinx-style (``:param x:``, ``:class:`~customcd.Job```), readable in
an editor and in ``help()``. mkdocstrings renders the ``:param:`` fields itself; this extension
turns the inline roles (``:class:``, ``:func:``, ``:meth:``, ``:attr:``, ``:data:``, ``:exc:``,
``:mod:``, ``:obj:``) into autorefs links, so that a reference to a name the site does not
document is a warning (an error under ``mkdocs build --strict``), not silently dead text.

- ``:class:`~a.b.C``` shows ``C`` and links to ``a.b.C``;
- ``:class:`a.b.C``` shows and links ``a.b.C``;
- ``:meth:`detect``` (no dot path) is resolved in the docstring's own scope (the
  ``scoped_crossrefs`` option), as Python would resolve the name there.
- Names of the standard library and of pydantic (``http.client``, ``pydantic.ValidationError``)
  are shown as code: the site does not document them.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|attr|data|exc|mod|obj):`(?P<tilde>~?)(?P<target>[^`]+)`")
#: Packages the site does not document: their names are shown as code, not linked.
_EXTERNAL = ("http.", "importlib.", "pydantic.", "pluggy.", "click.", "httpx.", "logging.")


def convert(text: str) -> str:
    """Sphinx roles in ``text`` -> autorefs links (external names -> inline code)."""

    def link(match: re.Match[str]) -> str:
        target = match["target"].lstrip(".")
        shown = target.rsplit(".", 1)[-1] if match["tilde"] else target
        if target.startswith(_EXTERNAL) or target in {"http.client", "importlib.metadata"}:
            return f"`{shown}`"
        return f"[`{shown}`][{target}]"

    return _ROLE.sub(link, text)


class SphinxRoles(griffe.Extension):
    """Rewrite every docstring's Sphinx roles when the object is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Convert the roles of one object's docstring."""
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
