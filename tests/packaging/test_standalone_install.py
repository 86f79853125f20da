"""install.sh with the REAL standalone archive served over loopback, then the path it printed.

This is the zero-install path end to end: mirror folder -> install.sh -> verified, cached build ->
``customcd plugins`` and a real ``customcd send`` with no Python on PATH.
"""

from __future__ import annotations

import hashlib

from customcd.testing import TEST_TOKEN
from install_support import publish
from standalone_support import gitlab_job, run_bare

FOLDER = "/customcd/0.1.0"


def test_install_sh_installs_the_real_build_and_its_path_reports_a_job(
    standalone_archive, install, mirror, bare_home, customcd_receiver
) -> None:
    archive = standalone_archive.read_bytes()
    checksum = standalone_archive.with_name(standalone_archive.name + ".sha256").read_bytes()
    url = publish(mirror, FOLDER, archive, checksum)

    first = install({"CUSTOMCD_DOWNLOAD_URL": url})
    assert first.returncode == 0, first.stderr
    program = first.path
    assert program.parent.parent.name == hashlib.sha256(archive).hexdigest()

    listed = run_bare(program, ["plugins"], bare_home)
    assert listed.returncode == 0, listed.stderr
    for plugin in ("jenkins", "gitlab", "azure-devops", "github-actions", "git"):
        assert f"\n{plugin} " in listed.stdout

    env = {
        **gitlab_job(8001),
        "CUSTOMCD_URL": customcd_receiver.url,
        "CUSTOMCD_COMPANY_ID": "1",
        "CUSTOMCD_TOKEN": TEST_TOKEN,
    }
    sent = run_bare(program, ["send"], bare_home, env)
    assert sent.returncode == 0, sent.stderr
    assert [record["job_id"] for record in customcd_receiver.accepted] == ["8001"]

    # the next job on this runner: no download, same program
    again = install({"CUSTOMCD_DOWNLOAD_URL": url})
    assert again.path == program
    assert mirror.counts()[f"{FOLDER}/{standalone_archive.name}"] == 1
