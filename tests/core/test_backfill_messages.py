"""Backfill tells a configuration error once, and shows its progress as a bar or as log lines."""

from __future__ import annotations

import io
import socket
import time

from customcd.backfill import BackfillStats
from customcd.backfill_progress import Progress

ENV = {"CUSTOMCD_URL": "http://127.0.0.1:9", "CUSTOMCD_COMPANY_ID": "1", "CUSTOMCD_TOKEN": "x"}


def test_a_configuration_error_is_one_message_without_a_summary(customcd_cli):
    result = customcd_cli(
        ["backfill", "gitlab", "--project", "acme/shop", "--since", "30d"], env=ENV
    )
    assert result.exit_code == 78
    assert result.stderr.splitlines() == [
        "customcd: backfill gitlab needs a GitLab token: set CUSTOMCD_GITLAB_TOKEN or "
        "GITLAB_TOKEN to a personal, project or group access token with the read_api scope"
    ]


def test_an_unreachable_jenkins_is_said_whole_once(customcd_cli):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {**ENV, "JENKINS_URL": f"http://127.0.0.1:{port}/"}
    result = customcd_cli(["backfill", "jenkins", "--job", "app", "--since", "30d"], env=env)
    errors = [line for line in result.stderr.splitlines() if "could not reach Jenkins" in line]
    assert len(errors) == 1, result.stderr
    assert errors[0].endswith("Connection refused)"), errors[0]
    assert "stopped the history early" not in result.stderr and "records/s" not in result.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _stats(read: int) -> BackfillStats:
    stats = BackfillStats()
    stats.read, stats.sent, stats.failed = read, read - 1, 1
    stats.started = time.monotonic() - 10
    return stats


def test_on_a_terminal_the_progress_is_a_bar_with_rate_and_time_left():
    screen = _Terminal()
    progress = Progress(_stats(40), screen, since=0, until=1000)
    progress.position = 250
    progress.tick(force=True)
    progress.done()
    shown = screen.getvalue()
    assert "customcd backfill" in shown and "read 40  sent 39" in shown and "/s" in shown
    assert "━" in shown and "100%" in shown  # the bar, completed at the end


def test_elsewhere_the_progress_is_a_plain_line_now_and_then():
    log = io.StringIO()
    progress = Progress(_stats(40), log, since=0, until=1000, interval=3600)
    progress.position = 500
    progress.tick(force=True)
    progress.tick()  # within the interval: nothing more
    progress.done()
    lines = log.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("customcd backfill: read 40  sent 39")
    assert "ETA 10s" in lines[0] and "\x1b" not in lines[0]


def test_nothing_is_shown_before_the_first_record():
    log = io.StringIO()
    Progress(_stats(0), log, since=0, until=10).tick(force=True)
    assert log.getvalue() == ""
