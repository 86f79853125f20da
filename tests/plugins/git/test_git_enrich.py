"""customcd-git fills commit and repository from the local checkout, and only then."""

from __future__ import annotations

import logging
import os
import time

import pytest
from customcd import Draft, get_plugin_manager
from customcd_git.plugin import customcd_enrich


def test_fills_commit_and_repo_from_the_checkout(repo, head, context, monkeypatch):
    monkeypatch.chdir(repo)
    draft = Draft()
    customcd_enrich(draft=draft, context=context())

    assert draft.commit_sha == head(repo)
    assert len(draft.commit_sha) == 40
    assert draft.repo_name == "acme/payments-api"
    assert any(f"commit_sha {head(repo)} from the local git checkout" in n for n in draft.notes)
    assert any("'acme/payments-api'" in note and "'origin'" in note for note in draft.notes)
    # It adds nothing else.
    assert draft.optional == []
    assert draft.repo_id is None


def test_credentials_in_the_origin_url_never_leak(repo, context, monkeypatch, caplog, secret):
    caplog.set_level(logging.DEBUG)
    monkeypatch.chdir(repo)
    draft = Draft()
    customcd_enrich(draft=draft, context=context())

    assert draft.repo_name == "acme/payments-api"
    everything = repr(draft) + caplog.text
    assert secret not in everything
    assert "deploy-bot" not in everything


def test_never_replaces_what_an_adapter_set(repo, context, monkeypatch):
    monkeypatch.chdir(repo)
    sha = "9f3c1e27b8a4d6f05e21c7a9b3d84f6e0c2a5b71"
    draft = Draft(commit_sha=sha, repo_name="acme/from-the-ci", adapter="jenkins")
    customcd_enrich(draft=draft, context=context())

    assert draft.commit_sha == sha
    assert draft.repo_name == "acme/from-the-ci"
    assert draft.notes == []


def test_fills_only_the_missing_field(repo, head, context, monkeypatch):
    monkeypatch.chdir(repo)
    draft = Draft(repo_name="acme/from-the-ci")
    customcd_enrich(draft=draft, context=context())

    assert draft.commit_sha == head(repo)
    assert draft.repo_name == "acme/from-the-ci"


def test_flags_make_git_needless(repo, context, monkeypatch):
    import subprocess

    def fail(*args, **kwargs):
        raise AssertionError("git must not run when the user gave both fields")

    monkeypatch.setattr(subprocess, "run", fail)
    monkeypatch.chdir(repo)
    draft = Draft()
    sha = "c04d7a9e15b3f862d0a4e7c91b5f3a28d6e0b947"
    customcd_enrich(draft=draft, context=context(commit_sha=sha, repo_name="acme/flag"))

    # Left empty: the builder applies the user's values afterwards, and they win.
    assert draft.commit_sha is None
    assert draft.repo_name is None


def test_a_flag_for_one_field_leaves_the_other_to_git(repo, head, context, monkeypatch):
    monkeypatch.chdir(repo)
    draft = Draft()
    customcd_enrich(draft=draft, context=context(repo_name="acme/flag"))
    assert draft.commit_sha == head(repo)
    assert draft.repo_name is None


def test_quiet_outside_a_repository(tmp_path, context, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.chdir(tmp_path)
    draft = Draft()
    # The ceiling stops git from finding a repository above tmp_path (if any).
    customcd_enrich(draft=draft, context=context(env={"GIT_CEILING_DIRECTORIES": str(tmp_path)}))

    assert draft.commit_sha is None and draft.repo_name is None
    assert draft.notes == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "git rev-parse failed" in caplog.text


def test_quiet_without_git(repo, tmp_path, context, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    empty = tmp_path / "no-git-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.chdir(repo)
    draft = Draft()
    customcd_enrich(draft=draft, context=context())

    assert draft.commit_sha is None and draft.repo_name is None
    assert "git is not installed" in caplog.text
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_path_option(repo, head, tmp_path, context, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    draft = Draft()
    customcd_enrich(draft=draft, context=context(options={"path": str(repo)}))
    assert draft.commit_sha == head(repo)
    assert draft.repo_name == "acme/payments-api"


def test_a_missing_path_option_is_a_warning(tmp_path, context, caplog):
    draft = Draft()
    customcd_enrich(draft=draft, context=context(options={"path": str(tmp_path / "nope")}))
    assert draft.commit_sha is None
    assert "is not a directory" in caplog.text


def test_remote_option_and_scp_style_url(repo, run_git, context, monkeypatch):
    run_git(repo, "remote", "add", "upstream", "git@github.example.com:platform/payments.git")
    monkeypatch.chdir(repo)
    draft = Draft()
    customcd_enrich(draft=draft, context=context(options={"remote": "upstream"}))
    assert draft.repo_name == "platform/payments"


def test_unknown_remote_fills_only_the_commit(repo, head, context, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.chdir(repo)
    draft = Draft()
    customcd_enrich(draft=draft, context=context(options={"remote": "nope"}))
    assert draft.commit_sha == head(repo)
    assert draft.repo_name is None
    assert "git remote failed" in caplog.text


def test_git_dir_from_the_environment(repo, head, tmp_path, context, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    draft = Draft()
    customcd_enrich(draft=draft, context=context(env={"GIT_DIR": str(repo / ".git")}))
    assert draft.commit_sha == head(repo)
    assert draft.repo_name == "acme/payments-api"


def test_inherited_git_dir_does_not_win_over_the_run_environment(
    repo, head, new_repo, tmp_path, context, monkeypatch
):
    other = new_repo(tmp_path / "other", origin="git@github.com:acme/other.git")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))  # as inside a git hook
    monkeypatch.chdir(repo)
    draft = Draft()
    customcd_enrich(draft=draft, context=context())
    assert draft.commit_sha == head(repo)
    assert draft.repo_name == "acme/payments-api"


def test_repository_without_commits_still_names_the_repo(new_repo, tmp_path, context, monkeypatch):
    empty = new_repo(tmp_path / "empty", origin="git@github.com:acme/fresh.git", commit=False)
    monkeypatch.chdir(empty)
    draft = Draft()
    customcd_enrich(draft=draft, context=context())
    assert draft.commit_sha is None
    assert draft.repo_name == "acme/fresh"


def test_sha256_repository(new_repo, head, tmp_path, context, monkeypatch):
    repo = new_repo(tmp_path / "sha256", object_format="sha256")
    monkeypatch.chdir(repo)
    draft = Draft()
    customcd_enrich(draft=draft, context=context())
    assert draft.commit_sha == head(repo)
    assert len(draft.commit_sha) == 64


def test_a_hanging_git_is_cut_off(repo, tmp_path, context, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "git"
    fake.write_text("#!/bin/sh\nexec sleep 10\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(repo)
    draft = Draft()
    started = time.monotonic()
    customcd_enrich(draft=draft, context=context(options={"timeout": 0.2}))
    assert time.monotonic() - started < 3
    assert draft.commit_sha is None and draft.repo_name is None
    assert "gave up" in caplog.text


def test_git_errors_are_logged_without_credentials(
    repo, tmp_path, context, monkeypatch, caplog, secret
):
    caplog.set_level(logging.DEBUG)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "git"
    fake.write_text(
        "#!/bin/sh\n"
        f"echo \"fatal: unable to access 'https://deploy-bot:{secret}@github.com/acme/x.git/'\" >&2\n"
        "exit 128\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(repo)
    draft = Draft()
    customcd_enrich(draft=draft, context=context())
    assert "unable to access 'https://github.com/acme/x.git/'" in caplog.text
    assert secret not in caplog.text
    assert "deploy-bot" not in caplog.text


def test_skipped_records_are_left_alone(repo, context, monkeypatch):
    monkeypatch.chdir(repo)
    draft = Draft(skip="status 'skipped' produces no record")
    customcd_enrich(draft=draft, context=context())
    assert draft.commit_sha is None


def test_registered_as_a_plugin_without_adapters(repo, head, context, monkeypatch):
    plugins = get_plugin_manager(env={"CUSTOMCD_PLUGINS": "git"})
    info = plugins.info["git"]
    assert info.distribution == "customcd-git"
    assert info.module == "customcd_git.plugin"
    assert plugins.hooks_of("git") == ["customcd_enrich"]
    assert plugins.adapters() == {}

    monkeypatch.chdir(repo)
    draft = Draft()
    plugins.enrich(draft=draft, context=context())
    assert draft.commit_sha == head(repo)


@pytest.mark.parametrize("disabled", ["git", "customcd-git"])
def test_can_be_disabled(disabled):
    env = {"CUSTOMCD_PLUGINS": "git", "CUSTOMCD_DISABLE_PLUGINS": disabled}
    plugins = get_plugin_manager(env=env)
    assert "git" not in plugins.info
