"""The fast entry-point scanner agrees with importlib.metadata."""

from __future__ import annotations

import sys
import zipfile
from importlib.metadata import entry_points

from customcd.plugins.entrypoints import find_entry_points


def dist(root, folder, entry_text, metadata="Name: {name}\nVersion: 1.0\n\nbody\nName: not-this\n"):
    path = root / folder
    path.mkdir(parents=True)
    (path / "entry_points.txt").write_text(entry_text)
    name = folder.split("-")[0]
    (path / "METADATA").write_text(metadata.format(name=name))
    return path


def test_matches_importlib_metadata_on_the_real_environment():
    ours = sorted((ep.name, ep.value, ep.dist.name) for ep in find_entry_points("customcd"))
    theirs = sorted((ep.name, ep.value, ep.dist.name) for ep in entry_points(group="customcd"))
    assert ours == theirs and len(ours) >= 5


def test_first_distribution_on_the_path_wins_and_parsing_rules(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    dist(
        first,
        "toy_plugin-2.0.dist-info",
        "# comment\n[console_scripts]\ntoy = toy:main\n\n[customcd]\n"
        "toy = toy_plugin.plugin [extra]\n; another comment\nother = toy_plugin.other:hooks\n",
    )
    dist(second, "toy_plugin-1.0.dist-info", "[customcd]\ntoy = old_toy.plugin\n")
    dist(second, "lonely-1.0.egg-info", "[customcd]\nlonely=lonely_mod\n")
    found = find_entry_points("customcd", [str(first), str(second)])
    assert [(ep.name, ep.value) for ep in found] == [
        ("toy", "toy_plugin.plugin"),
        ("other", "toy_plugin.other:hooks"),
        ("lonely", "lonely_mod"),
    ]
    assert found[0].dist.name == "toy_plugin" and found[0].dist.version == "1.0"
    assert find_entry_points("console_scripts", [str(first)])[0].name == "toy"


def test_load_imports_module_and_attribute(tmp_path, monkeypatch):
    (tmp_path / "ep_target_mod.py").write_text("class Holder:\n    value = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    site = tmp_path / "site"
    dist(site, "ep_target-1.0.dist-info", "[customcd]\nx = ep_target_mod:Holder.value\n")
    (ep,) = find_entry_points("customcd", [str(site)])
    assert ep.load() == 42
    sys.modules.pop("ep_target_mod", None)


def test_a_zip_on_the_path_falls_back_to_importlib(tmp_path):
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(
            "zipped-1.0.dist-info/entry_points.txt", "[customcd]\nzipped = zipped_mod\n"
        )
        zipped.writestr("zipped-1.0.dist-info/METADATA", "Name: zipped\nVersion: 1.0\n")
    found = find_entry_points("customcd", [str(archive)])
    # importlib.metadata scans sys.path itself: the fallback is taken, and still finds ours
    assert {"jenkins", "gitlab"} <= {ep.name for ep in found}


def test_missing_folders_are_skipped(tmp_path):
    assert find_entry_points("customcd", [str(tmp_path / "nope")]) == []
