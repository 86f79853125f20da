"""`customcd -v send`: which adapter was chosen and why, and where each field came from."""

from __future__ import annotations

from customcd import hookimpl

SHA = "a2e7da86cc392417b0d9f605b28038aae80b002f"
GITLAB = {
    "GITLAB_CI": "true",
    "CI_JOB_ID": "99",
    "CI_SERVER_URL": "https://gitlab.example.com",
    "CI_COMMIT_SHA": SHA,
    "CI_PROJECT_PATH": "acme/shop",
    "CI_PROJECT_ID": "5",
    "CI_JOB_STATUS": "success",
    "CI_JOB_STARTED_AT": "2026-01-07T01:00:00Z",
    "GITLAB_USER_EMAIL": "dev@example.com",
    "CUSTOMCD_SERVICE_ID": "3",
}


def info_lines(result):
    return [line.removeprefix("customcd: INFO: ") for line in result.stderr.splitlines()]


def test_verbose_names_the_adapter_its_variables_and_each_fields_source(customcd_cli, tmp_path):
    (tmp_path / "customcd.toml").write_text('[job]\ntriggered_by = "deploy-bot"\n')
    result = customcd_cli(
        [
            "-v",
            "send",
            "--dry-run",
            "--job-type",
            "Prod Deploy",
            "--end-time",
            "2026-01-07T01:05:00Z",
        ],
        env=GITLAB,
        cwd=tmp_path,
    )
    assert result.exit_code == 0, result.stderr
    lines = info_lines(result)
    assert (
        "adapter 'gitlab' chosen: it detected its CI from GITLAB_CI, CI_SERVER_URL, CI_JOB_ID"
        in lines
    )
    assert "field job_id = '99' (from adapter gitlab)" in lines
    assert "field service_id = 3 (from variable CUSTOMCD_SERVICE_ID)" in lines
    assert "field job_type = 'Prod Deploy' (from flag --job-type)" in lines
    assert "field job_duration = 300 (from flag --end-time: end - start)" in lines
    assert "field triggered_by = 'deploy-bot' (from customcd.toml)" in lines


def test_verbose_credits_an_enrich_hook_and_the_adapter_flag(
    customcd_cli, customcd_plugins, monkeypatch
):
    class Team:
        @hookimpl
        def customcd_enrich(self, draft, context):
            draft.job_type = "from a hook"

    import customcd.plugins.manager as manager

    real = manager.get_plugin_manager
    monkeypatch.setattr(
        manager,
        "get_plugin_manager",
        lambda *a, **k: real(*a, **{**k, "extra": [("team", Team())]}),
    )
    result = customcd_cli(["-v", "send", "--dry-run", "--adapter", "gitlab"], env=GITLAB)
    lines = info_lines(result)
    assert "adapter 'gitlab' chosen by --adapter/CUSTOMCD_ADAPTER" in lines
    assert "field job_type = 'from a hook' (from an enrich hook)" in lines
    assert any(line.startswith("field job_duration = ") and "now - start" in line for line in lines)


def test_quiet_runs_print_no_provenance(customcd_cli):
    result = customcd_cli(["send", "--dry-run"], env=GITLAB)
    assert result.exit_code == 0 and "field job_id" not in result.stderr
