"""The copies packaging/ci/embed.py writes are current, and they hold install.sh verbatim."""

from __future__ import annotations

import importlib.util
import re

import yaml

from .conftest import ROOT, install_sh


def load_embed():
    spec = importlib.util.spec_from_file_location("embed", ROOT / "packaging" / "ci" / "embed.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_generated_copy_is_current():
    embed = load_embed()
    stale = [
        path.relative_to(ROOT).as_posix()
        for path, text in embed.expected().items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"stale: {stale}; run `uv run python packaging/ci/embed.py`"


def embedded_installer(script: str) -> str:
    match = re.search(
        r"^  cat <<'CUSTOMCD_INSTALL_SH'\n(.*?)\nCUSTOMCD_INSTALL_SH$", script, re.S | re.M
    )
    assert match, "no embedded install.sh"
    return match[1]


def test_the_component_and_the_azure_step_run_install_sh_verbatim():
    want = install_sh().read_text(encoding="utf-8").rstrip()
    component = list(yaml.safe_load_all((ROOT / "templates/customcd/template.yml").read_text()))[1]
    assert embedded_installer(component[".customcd-report"]["after_script"][1]) == want
    azure = yaml.safe_load((ROOT / "adapters/azure-devops/templates/customcd-step.yml").read_text())
    assert embedded_installer(azure["steps"][0]["bash"]) == want
    jenkins = (ROOT / "adapters/jenkins/resources/customcd/report.sh").read_text()
    assert embedded_installer(jenkins) == want


def test_the_windows_copies_are_report_ps1():
    want = (ROOT / "packaging/ci/report.ps1").read_text(encoding="utf-8").rstrip()
    azure = yaml.safe_load((ROOT / "adapters/azure-devops/templates/customcd-step.yml").read_text())
    assert want in azure["steps"][1]["powershell"]
    assert want in (ROOT / "adapters/jenkins/resources/customcd/report.ps1").read_text()


def test_check_mode_names_a_stale_copy(tmp_path, monkeypatch, capsys):
    embed = load_embed()
    target = tmp_path / "report.sh"
    target.write_text("old\n", encoding="utf-8")
    monkeypatch.setattr(embed, "ROOT", tmp_path)
    monkeypatch.setattr(embed, "REGION_TARGETS", ())
    monkeypatch.setattr(embed, "FILE_TARGETS", {target: "sh"})
    assert embed.main(["--check"]) == 1
    assert "report.sh" in capsys.readouterr().out
    assert target.read_text() == "old\n"
    assert embed.main([]) == 0
    assert embed.main(["--check"]) == 0
