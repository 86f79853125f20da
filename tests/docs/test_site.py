"""The docs site: the strict build fails on a broken link, and the real site builds without warning.

The real build takes about 5 s (the API reference loads the core with griffe); it runs once per
test run here (once for all the xdist workers), so that a docstring whose cross-reference does not resolve fails ``pytest`` as well
as ``.ci/run``'s ``mkdocs build --strict``.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "mkdocs.yml"
_WARNING = re.compile(r"^(?:WARNING|ERROR)\b.*$", re.M)


def mkdocs_build(config: Path, site: Path) -> tuple[int, str]:
    """``mkdocs build --strict`` as ``.ci/run`` runs it (no ``--quiet``): exit code and output."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=config.parent,
        timeout=300,
        check=False,
    )
    return result.returncode, result.stdout


def site_copy(tmp: Path, pages: dict[str, str]) -> Path:
    """The real ``mkdocs.yml`` (strict, its link validation) over a docs folder of ``pages``."""
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert config["strict"] is True, "mkdocs.yml must build strictly"
    docs = tmp / "docs"
    docs.mkdir()
    for name, text in pages.items():
        (docs / name).write_text(text, encoding="utf-8")
    config.update(docs_dir=str(docs), nav=[{name.removesuffix(".md"): name} for name in pages])
    config.pop("exclude_docs", None)
    # the API reference's handler is not needed by these pages; its paths point into the repo
    config["plugins"] = ["search"]
    path = tmp / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


HOME = "# Home\n\n## Install\n\nText.\n"


def test_a_copy_of_the_site_config_builds_when_every_link_resolves(tmp_path):
    fine = "# Fine\n\nSee [install](index.md#install) and [home](index.md).\n"
    code, log = mkdocs_build(
        site_copy(tmp_path, {"index.md": HOME, "fine.md": fine}), tmp_path / "s"
    )
    assert code == 0, log
    assert not _WARNING.findall(log), log


@pytest.mark.parametrize(
    ("link", "said"),
    [
        ("index.md#no-such-section", "does not contain an anchor '#no-such-section'"),
        ("missing.md", "contains a link 'missing.md', but the target is not found"),
    ],
    ids=["anchor", "page"],
)
def test_the_strict_build_fails_on_a_broken_link_and_names_it(tmp_path, link, said):
    broken = f"# Broken\n\nSee [there]({link}).\n"
    config = site_copy(tmp_path, {"index.md": HOME, "broken.md": broken})
    code, log = mkdocs_build(config, tmp_path / "site")
    assert code != 0, log
    assert [w for w in _WARNING.findall(log) if "'broken.md'" in w and said in w], log
    assert "Aborted with 1 warnings in strict mode" in log


@pytest.fixture(scope="session")
def real_site(once_per_run) -> tuple[Path, str]:
    def build(folder: Path) -> None:
        code, log = mkdocs_build(CONFIG, folder / "site")
        (folder / "build.log").write_text(log, encoding="utf-8")
        assert code == 0, f"mkdocs build --strict failed:\n{log}"

    folder = once_per_run("docs-site", build)
    return folder / "site", (folder / "build.log").read_text(encoding="utf-8")


def test_the_real_site_builds_strictly_and_prints_no_warning(real_site):
    site, log = real_site
    assert not _WARNING.findall(log), log
    assert (site / "index.html").is_file() and (site / "api" / "customcd" / "index.html").is_file()


def _anchors(page: Path) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', page.read_text(encoding="utf-8")))


def test_every_public_name_is_in_the_generated_reference(real_site):
    import customcd

    site, _ = real_site
    anchors = _anchors(site / "api" / "customcd" / "index.html")
    missing = [name for name in customcd.__all__ if f"customcd.{name}" not in anchors]
    assert not missing, f"add `::: customcd.NAME` to docs/api/customcd.md for: {missing}"
    documented = {a for a in anchors if a.count(".") == 1 and a.startswith("customcd.")}
    assert documented - {f"customcd.{name}" for name in customcd.__all__} == set()


def test_every_hookspec_and_every_fixture_is_in_the_generated_reference(real_site):
    from customcd import testing
    from customcd.plugins import hookspecs

    site, _ = real_site
    hooks = _anchors(site / "api" / "hooks" / "index.html")
    specs = [
        n for n, _ in inspect.getmembers(hookspecs, inspect.isfunction) if n[:9] == "customcd_"
    ]
    assert specs and not [s for s in specs if f"customcd.plugins.hookspecs.{s}" not in hooks]
    fixtures = _anchors(site / "api" / "testing" / "index.html")
    names = [n for n in dir(testing) if n.startswith("customcd_")]
    assert len(names) >= 5
    for name in names:
        assert f"customcd.testing.{name}" in fixtures, (
            f"fixture {name} is not on docs/api/testing.md"
        )
        function = getattr(testing, name)
        returns = inspect.signature(function).return_annotation
        assert returns not in (inspect.Signature.empty, "Any"), f"fixture {name} needs its type"
        assert function.__doc__ and len(function.__doc__) > 80, f"fixture {name} needs a docstring"
    for member in ("customcd.plugins.manager.Plugins", "customcd.receiver.Receiver"):
        assert any(member in _anchors(page) for page in site.glob("api/*/index.html")), member
