"""Finding the ``customcd`` entry points without loading :mod:`importlib.metadata`.

``importlib.metadata.entry_points()`` reads the metadata of every installed distribution to
deduplicate them, which costs tens of milliseconds on every ``customcd send``. This module reads
only the ``entry_points.txt`` files of ``*.dist-info`` / ``*.egg-info`` folders on ``sys.path``,
in path order (the first distribution of a name wins, as with importlib), and reads a
distribution's name and version only when asked for. When ``sys.path`` holds anything it cannot
scan (a zip file), it falls back to :mod:`importlib.metadata`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Sequence
from importlib import import_module
from typing import Any

__all__ = ["EntryPoint", "find_entry_points"]

_EXTRAS = re.compile(r"\s*\[.*\]\s*$")


class _Distribution:
    """A distribution's name and version, read from its metadata file on first use."""

    def __init__(self, folder: str) -> None:
        self._folder = folder
        self._fields: dict[str, str] | None = None

    def _read(self) -> dict[str, str]:
        if self._fields is None:
            fields: dict[str, str] = {}
            for filename in ("METADATA", "PKG-INFO"):
                try:
                    with open(os.path.join(self._folder, filename), encoding="utf-8") as handle:
                        for line in handle:
                            if not line.strip():
                                break  # the headers end at the first blank line
                            key, _, value = line.partition(":")
                            if key in ("Name", "Version") and key not in fields:
                                fields[key] = value.strip()
                    break
                except OSError:
                    continue
            self._fields = fields
        return self._fields

    @property
    def name(self) -> str:
        """The distribution's name ("" when unreadable)."""
        return self._read().get("Name", "")

    @property
    def version(self) -> str:
        """The distribution's version ("" when unreadable)."""
        return self._read().get("Version", "")


class EntryPoint:
    """One ``name = module[:attr]`` entry of a group.

    :param name: the entry point's name.
    :param value: ``module`` or ``module:attribute``.
    :param group: the group.
    :param folder: the ``*.dist-info`` folder it comes from.
    """

    def __init__(self, name: str, value: str, group: str, folder: str) -> None:
        self.name = name
        self.value = value
        self.group = group
        self.dist = _Distribution(folder)

    def load(self) -> Any:
        """Import the module (and get the attribute) the entry point names."""
        module_name, _, attribute = self.value.partition(":")
        target: Any = import_module(module_name.strip())
        for part in filter(None, attribute.strip().split(".")):
            target = getattr(target, part)
        return target

    def __repr__(self) -> str:
        return f"EntryPoint(name={self.name!r}, value={self.value!r}, group={self.group!r})"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _section(text: str, group: str) -> Iterable[tuple[str, str]]:
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            inside = line == f"[{group}]"
            continue
        if inside and "=" in line:
            name, _, value = line.partition("=")
            yield name.strip(), _EXTRAS.sub("", value.strip())


def _scan(paths: Sequence[str], group: str) -> list[EntryPoint] | None:
    found: list[EntryPoint] = []
    seen: set[str] = set()
    for entry in paths:
        directory = entry or "."
        if os.path.isfile(directory):
            return None  # a zip on sys.path: let importlib.metadata handle it
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for folder_name in names:
            if not folder_name.endswith((".dist-info", ".egg-info")):
                continue
            dist_key = _normalise(folder_name.rsplit(".", 1)[0].split("-", 1)[0])
            if dist_key in seen:
                continue
            seen.add(dist_key)
            folder = os.path.join(directory, folder_name)
            try:
                with open(os.path.join(folder, "entry_points.txt"), encoding="utf-8") as handle:
                    text = handle.read()
            except OSError:
                continue
            if f"[{group}]" in text:
                found.extend(EntryPoint(n, v, group, folder) for n, v in _section(text, group))
    return found


def find_entry_points(group: str, paths: Sequence[str] | None = None) -> list[Any]:
    """The entry points of ``group`` from the distributions on ``paths`` (default ``sys.path``)."""
    scanned = _scan(sys.path if paths is None else paths, group)
    if scanned is not None:
        return scanned
    from importlib.metadata import entry_points

    return list(entry_points(group=group))
