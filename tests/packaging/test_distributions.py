"""Every distribution builds with its license, a real long description and valid metadata."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = {
    "customcd": ROOT / "core",
    "customcd_jenkins": ROOT / "adapters" / "jenkins",
    "customcd_gitlab": ROOT / "adapters" / "gitlab",
    "customcd_azure_devops": ROOT / "adapters" / "azure-devops",
    "customcd_github_actions": ROOT / "plugins" / "github-actions",
    "customcd_git": ROOT / "plugins" / "git",
}
#: A link target that works on a package index: absolute, or an anchor on the same page.
_RELATIVE_LINK = re.compile(r"\]\((?!https://|http://|#)([^)]+)\)")


@pytest.fixture(scope="module")
def built(once_per_run) -> Path:
    """The wheels and sdists of every distribution, built once per test run."""
    if shutil.which("uv") is None:
        pytest.fail("uv is needed to build the distributions (it runs the test suite)")

    def build(out: Path) -> None:
        subprocess.run(
            ["uv", "build", "--all-packages", "--out-dir", str(out), "--quiet"],
            cwd=ROOT,
            check=True,
            timeout=300,
        )

    return once_per_run("distributions", build)


def _metadata(wheel: Path) -> tuple[dict[str, str], str, list[str]]:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        message = Parser().parsestr(archive.read(meta_name).decode("utf-8"))
        licenses = [archive.read(n).decode("utf-8") for n in names if ".dist-info/licenses/" in n]
    body = message.get_payload()
    assert isinstance(body, str)
    return dict(message.items()), body, licenses


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_each_wheel_carries_the_license_and_a_long_description_with_absolute_links(built, name):
    (wheel,) = built.glob(f"{name}-*.whl")
    meta, description, licenses = _metadata(wheel)
    assert meta["License-Expression"] == "Apache-2.0"
    assert licenses == [(ROOT / "LICENSE").read_text(encoding="utf-8")]
    assert meta["Description-Content-Type"].startswith("text/markdown")
    assert len(description) > 700, f"{name}: the long description is {len(description)} chars"
    assert not _RELATIVE_LINK.findall(description), "relative links break on a package index"
    assert "Apache-2.0" in description


def test_every_distribution_folder_holds_the_same_license_as_the_repository():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0" in text
    for folder in DISTRIBUTIONS.values():
        assert (folder / "LICENSE").read_text(encoding="utf-8") == text, folder


def test_twine_accepts_every_wheel_and_sdist(built):
    files = sorted(str(p) for p in built.iterdir() if p.name.endswith((".whl", ".tar.gz")))
    assert len(files) == 2 * len(DISTRIBUTIONS)
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == len(files)
