"""packaging/install.sh against a loopback mirror, with a small fake build.

Every test runs with each available POSIX shell (sh, dash) and a PATH holding only the tools
install.sh may use. The contract: exactly one line on stdout (the absolute path of the
executable) on success; on any failure one line on stderr starting with ``customcd:``, nothing on
stdout, exit 0 (1 with CUSTOMCD_INSTALL_STRICT=1), and nothing unpacked.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from install_support import (
    INSTALL_SH,
    archive_name,
    cache_entries,
    checksum_line,
    default_cache,
    fake_build,
    make_archive,
    platform_name,
    publish,
)
from loopback_files import LoopbackFiles, closed_port

FOLDER = "/releases/customcd/0.1.0"


def failure_line(stderr: str) -> str:
    """The one ``customcd: ERROR`` line of a failed run (asserts there is exactly one)."""
    lines = [line for line in stderr.splitlines() if line.startswith("customcd: ERROR")]
    assert len(lines) == 1, stderr
    return lines[0]


def assert_refused(run, cache: Path, *, strict: bool = False, reason: str) -> None:
    assert run.returncode == (1 if strict else 0), run.stderr
    assert run.stdout == ""
    line = failure_line(run.stderr)
    assert "customcd was NOT installed" in line
    assert reason in line, line
    # nothing unpacked, no temporary folder left behind
    assert [name for name in cache_entries(cache) if not name.startswith(".")] == []
    assert [name for name in cache_entries(cache) if name.startswith(".install.")] == []


def test_success_prints_only_the_path_of_a_working_executable(install, mirror) -> None:
    archive = fake_build()
    url = publish(mirror, FOLDER, archive)
    run = install({"CUSTOMCD_DOWNLOAD_URL": url})
    assert run.returncode == 0, run.stderr
    digest = hashlib.sha256(archive).hexdigest()
    assert run.path == default_cache(install.home) / digest / "customcd" / "customcd"
    assert run.path.is_absolute()
    assert f"customcd: downloading {archive_name()} from {url}/" in run.stderr
    done = subprocess.run([str(run.path), "send", "--dry-run"], capture_output=True, text=True)
    assert done.stdout == "fake customcd: send --dry-run\n"
    assert mirror.counts() == {
        f"{FOLDER}/{archive_name()}.sha256": 1,
        f"{FOLDER}/{archive_name()}": 1,
    }


def test_a_second_run_uses_the_cache_and_downloads_only_the_checksum(install, mirror) -> None:
    url = publish(mirror, FOLDER, fake_build())
    first = install({"CUSTOMCD_DOWNLOAD_URL": url + "/"})  # a trailing slash is fine
    second = install({"CUSTOMCD_DOWNLOAD_URL": url})
    assert first.returncode == second.returncode == 0
    assert first.path == second.path
    assert second.stderr == ""  # nothing to say on a cache hit
    counts = mirror.counts()
    assert counts[f"{FOLDER}/{archive_name()}"] == 1
    assert counts[f"{FOLDER}/{archive_name()}.sha256"] == 2


def test_a_new_build_on_the_mirror_is_installed_beside_the_old_one(install, mirror) -> None:
    url = publish(mirror, FOLDER, fake_build())
    old = install({"CUSTOMCD_DOWNLOAD_URL": url}).path
    newer = make_archive({"customcd/customcd": (b"#!/bin/sh\necho newer\n", 0o755)})
    publish(mirror, FOLDER, newer)
    new = install({"CUSTOMCD_DOWNLOAD_URL": url}).path
    assert new != old and old.exists()
    assert subprocess.run([str(new)], capture_output=True, text=True).stdout == "newer\n"


@pytest.mark.parametrize("strict", [False, True])
def test_a_wrong_checksum_is_refused_and_nothing_is_unpacked(install, mirror, strict) -> None:
    archive = fake_build()
    url = publish(mirror, FOLDER, archive, checksum_line(b"something else", archive_name()))
    env = {"CUSTOMCD_DOWNLOAD_URL": url}
    if strict:
        env["CUSTOMCD_INSTALL_STRICT"] = "1"
    run = install(env)
    assert_refused(run, default_cache(install.home), strict=strict, reason="checksum mismatch")
    assert hashlib.sha256(archive).hexdigest() in failure_line(run.stderr)


def test_a_cached_build_is_not_used_when_the_checksum_changes_to_a_wrong_one(
    install, mirror
) -> None:
    archive = fake_build()
    url = publish(mirror, FOLDER, archive)
    assert install({"CUSTOMCD_DOWNLOAD_URL": url}).returncode == 0
    tampered = archive + b"\0"
    mirror.files[f"{FOLDER}/{archive_name()}"] = tampered
    mirror.files[f"{FOLDER}/{archive_name()}.sha256"] = checksum_line(b"not it", archive_name())
    run = install({"CUSTOMCD_DOWNLOAD_URL": url})
    assert run.stdout == ""
    assert "checksum mismatch" in failure_line(run.stderr)


@pytest.mark.parametrize("strict", [False, True])
def test_an_unreachable_mirror_is_loud_and_harmless(install, strict) -> None:
    url = f"http://127.0.0.1:{closed_port()}/customcd"
    env = {"CUSTOMCD_DOWNLOAD_URL": url}
    if strict:
        env["CUSTOMCD_INSTALL_STRICT"] = "1"
    run = install(env)
    assert_refused(
        run, default_cache(install.home), strict=strict, reason=f"cannot download {url}/"
    )
    assert "Failed to connect" in failure_line(run.stderr) or "connect" in run.stderr.lower()


def test_an_http_error_names_the_file_and_the_status(install, mirror) -> None:
    url = f"{mirror.origin}/nothing-here"
    run = install({"CUSTOMCD_DOWNLOAD_URL": url})
    assert_refused(run, default_cache(install.home), reason=f"cannot download {url}/")
    assert "404" in failure_line(run.stderr)


def test_an_archive_missing_beside_its_checksum_is_an_http_error(install, mirror) -> None:
    url = publish(mirror, FOLDER, fake_build())
    del mirror.files[f"{FOLDER}/{archive_name()}"]
    run = install({"CUSTOMCD_DOWNLOAD_URL": url})
    assert_refused(run, default_cache(install.home), reason=f"{archive_name()}: curl: (22)")


@pytest.mark.parametrize("strict", [False, True])
def test_no_download_url_says_which_variable_to_set(install, strict) -> None:
    run = install({"CUSTOMCD_INSTALL_STRICT": "1"} if strict else {})
    assert_refused(
        run, default_cache(install.home), strict=strict, reason="CUSTOMCD_DOWNLOAD_URL is not set"
    )
    assert archive_name() in failure_line(run.stderr)


def test_a_download_url_that_is_not_a_url(install) -> None:
    run = install({"CUSTOMCD_DOWNLOAD_URL": "releases/0.1.0"})
    assert_refused(run, default_cache(install.home), reason="is not a URL")


def test_credentials_in_the_url_are_used_and_never_printed(shell, make_install) -> None:
    secret, token = "s3cr3t-Pa55", "tok-987654321"
    with LoopbackFiles(credentials=f"deploy:{secret}") as mirror:
        archive = fake_build()
        publish(mirror, FOLDER, archive)
        url = mirror.origin.replace("://", f"://deploy:{secret}@") + FOLDER + f"?token={token}"
        install = make_install(shell)
        ok = install({"CUSTOMCD_DOWNLOAD_URL": url})
        assert ok.returncode == 0, ok.stderr
        assert ok.path.name == "customcd"
        # the query string went with each file (after the file name), the credentials as Basic auth
        assert f"{FOLDER}/{archive_name()}?token={token}" in mirror.requests
        # failures print the URL too: a wrong checksum, a missing file, a wrong password
        mirror.files[f"{FOLDER}/{archive_name()}.sha256"] = checksum_line(b"x", archive_name())
        bad_sum = install({"CUSTOMCD_DOWNLOAD_URL": url.replace(FOLDER, FOLDER + "/")})
        missing = install({"CUSTOMCD_DOWNLOAD_URL": url.replace(FOLDER, "/missing")})
        refused = install({"CUSTOMCD_DOWNLOAD_URL": url.replace(secret, secret + "x")})
    for run in (ok, bad_sum, missing, refused):
        for text in (run.stdout, run.stderr):
            assert secret not in text and token not in text
            assert "deploy:" not in text
    assert "http://***@127.0.0.1:" in failure_line(bad_sum.stderr)
    assert "404" in failure_line(missing.stderr)
    assert "401" in failure_line(refused.stderr)


def test_a_pinned_sha256_refuses_another_build_even_with_a_matching_checksum_file(
    install, mirror
) -> None:
    archive = fake_build()
    url = publish(mirror, FOLDER, archive)
    pinned = hashlib.sha256(b"the build we reviewed").hexdigest()
    run = install({"CUSTOMCD_DOWNLOAD_URL": url, "CUSTOMCD_SHA256": pinned})
    assert_refused(run, default_cache(install.home), reason=f"CUSTOMCD_SHA256 pins {pinned}")
    right = install(
        {"CUSTOMCD_DOWNLOAD_URL": url, "CUSTOMCD_SHA256": hashlib.sha256(archive).hexdigest()}
    )
    assert right.returncode == 0 and right.path.exists()


def test_a_checksum_file_of_another_archive_is_refused(install, mirror) -> None:
    archive = fake_build()
    url = publish(mirror, FOLDER, archive, checksum_line(archive, "customcd-other-os.tar.gz"))
    run = install({"CUSTOMCD_DOWNLOAD_URL": url})
    assert_refused(run, default_cache(install.home), reason="'customcd-other-os.tar.gz'")


def test_a_checksum_file_without_a_checksum_is_refused(install, mirror) -> None:
    url = publish(mirror, FOLDER, fake_build(), b"<html>Not the checksum</html>\n")
    run = install({"CUSTOMCD_DOWNLOAD_URL": url})
    assert_refused(run, default_cache(install.home), reason="is not a sha256 checksum file")


def test_an_archive_that_is_not_a_tarball_is_refused(install, mirror) -> None:
    url = publish(mirror, FOLDER, b"this is not gzip data")
    run = install({"CUSTOMCD_DOWNLOAD_URL": url})
    assert_refused(run, default_cache(install.home), reason="is not a customcd build")


@pytest.mark.parametrize(
    "members",
    [
        {"customcd/customcd": (b"#!/bin/sh\n", 0o755), "customcd/../../escape": (b"x", 0o644)},
        {"customcd/customcd": (b"#!/bin/sh\n", 0o755), "other/file": (b"x", 0o644)},
    ],
    ids=["climbs-out", "second-top-folder"],
)
def test_an_archive_with_entries_outside_customcd_is_refused(install, mirror, members) -> None:
    url = publish(mirror, FOLDER, make_archive(members))
    run = install({"CUSTOMCD_DOWNLOAD_URL": url})
    assert_refused(run, default_cache(install.home), reason="every entry must be under customcd/")
    assert not (install.home / ".cache" / "escape").exists()


def test_an_archive_without_the_executable_is_refused(install, mirror) -> None:
    url = publish(mirror, FOLDER, make_archive({"customcd/README": (b"no program", 0o644)}))
    run = install({"CUSTOMCD_DOWNLOAD_URL": url})
    assert_refused(run, default_cache(install.home), reason="holds no executable customcd/customcd")


def test_a_build_that_cannot_start_here_is_refused_and_not_cached(install, mirror) -> None:
    broken = b'#!/bin/sh\necho "error while loading shared libraries: libc.musl" >&2\nexit 127\n'
    url = publish(mirror, FOLDER, make_archive({"customcd/customcd": (broken, 0o755)}))
    run = install({"CUSTOMCD_DOWNLOAD_URL": url})
    assert_refused(
        run, default_cache(install.home), reason="the build does not run on this machine"
    )
    assert "libc.musl" in failure_line(run.stderr)
    assert "not musl/Alpine" in failure_line(run.stderr)


def test_an_incomplete_cached_build_is_installed_again(install, mirror) -> None:
    archive = fake_build()
    url = publish(mirror, FOLDER, archive)
    broken = default_cache(install.home) / hashlib.sha256(archive).hexdigest()
    (broken / "customcd").mkdir(parents=True)  # e.g. a folder someone half deleted
    run = install({"CUSTOMCD_DOWNLOAD_URL": url})
    assert run.returncode == 0, run.stderr
    assert "incomplete; installing it again" in run.stderr
    assert subprocess.run([str(run.path)], capture_output=True, text=True).returncode == 0


def test_jobs_installing_the_same_build_at_once_share_one_tree(install, mirror) -> None:
    url = publish(mirror, FOLDER, fake_build())
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda _: install({"CUSTOMCD_DOWNLOAD_URL": url}), range(4)))
    assert all(run.returncode == 0 for run in runs), [run.stderr for run in runs]
    assert len({run.path for run in runs}) == 1
    tree = runs[0].path.parent.parent
    assert sorted(p.name for p in tree.iterdir()) == [".customcd-sha256", "customcd"]
    assert [p.name for p in default_cache(install.home).iterdir()] == [tree.name]


@pytest.mark.parametrize("variable", ["CUSTOMCD_CACHE_DIR", "XDG_CACHE_HOME"])
def test_the_cache_folder_is_configurable_and_the_path_absolute(install, mirror, variable) -> None:
    url = publish(mirror, FOLDER, fake_build())
    run = install({"CUSTOMCD_DOWNLOAD_URL": url, variable: "relative/cache"})
    assert run.returncode == 0, run.stderr
    base = install.home / "relative" / "cache"
    expected_root = base if variable == "CUSTOMCD_CACHE_DIR" else base / "customcd"
    assert run.path.is_absolute()
    assert run.path.parent.parent.parent == expected_root.resolve()


def test_without_home_the_cache_goes_to_tmpdir(install, mirror, tmp_path) -> None:
    url = publish(mirror, FOLDER, fake_build())
    run = install({"CUSTOMCD_DOWNLOAD_URL": url, "HOME": "", "TMPDIR": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    assert run.path.is_relative_to(tmp_path.resolve())


@pytest.mark.parametrize("downloader", ["curl", "wget"])
@pytest.mark.parametrize("checksum", ["sha256sum", "shasum"])
def test_each_downloader_and_checksum_tool(make_install, mirror, downloader, checksum) -> None:
    install = make_install("sh", downloader, checksum)
    url = publish(mirror, FOLDER, fake_build())
    ok = install({"CUSTOMCD_DOWNLOAD_URL": url})
    assert ok.returncode == 0, ok.stderr
    assert ok.path.exists()
    mirror.files[f"{FOLDER}/{archive_name()}.sha256"] = checksum_line(b"x", archive_name())
    assert "checksum mismatch" in failure_line(install({"CUSTOMCD_DOWNLOAD_URL": url}).stderr)
    gone = install({"CUSTOMCD_DOWNLOAD_URL": f"{mirror.origin}/gone"})
    assert gone.stdout == "" and "cannot download" in failure_line(gone.stderr)


def test_platform_prints_the_os_and_arch_of_the_archive_names(install) -> None:
    run = install({}, "--platform")
    assert run.returncode == 0
    assert run.stdout == platform_name() + "\n"


def test_an_unknown_argument_is_a_failure_like_any_other(install) -> None:
    run = install({"CUSTOMCD_INSTALL_STRICT": "1"}, "--bogus")
    assert run.returncode == 1 and run.stdout == ""
    assert "unknown argument '--bogus'" in failure_line(run.stderr)


def test_help_prints_the_header_on_stdout(install) -> None:
    run = install({}, "--help")
    assert run.returncode == 0
    assert "CUSTOMCD_DOWNLOAD_URL" in run.stdout and "CUSTOMCD_INSTALL_STRICT" in run.stdout
    assert not run.stdout.startswith("!")


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_install_sh_is_shellcheck_clean() -> None:
    done = subprocess.run(
        ["shellcheck", "--shell=sh", str(INSTALL_SH)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
