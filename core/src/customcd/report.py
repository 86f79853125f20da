"""Telling the user what happened: one stderr line per outcome, CI annotations, exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import IO

from .delivery.outcome import Outcome
from .printable import network_text

__all__ = ["EXIT", "Reporter", "exit_code_for"]

#: ``--strict`` exit codes (sysexits.h where one fits).
EXIT = {
    "ok": 0,
    "pending": 75,  # EX_TEMPFAIL
    "auth": 77,  # EX_NOPERM
    "invalid": 65,  # EX_DATAERR
    "config": 78,  # EX_CONFIG
    "usage": 64,  # EX_USAGE
    "internal": 70,  # EX_SOFTWARE
}


def exit_code_for(outcome: Outcome) -> int:
    """The ``--strict`` exit code of one outcome."""
    if outcome.kind in {"delivered", "duplicate", "skipped", "vetoed"}:
        return EXIT["ok"]
    if outcome.kind == "pending":
        return EXIT["pending"]
    if outcome.status_code in {401, 403}:
        return EXIT["auth"]
    return EXIT["invalid"]


def _advice(outcome: Outcome) -> str:
    code = outcome.status_code
    if code == 401:
        return "check CUSTOMCD_TOKEN (the personal access token) — see docs/troubleshooting.md"
    if code == 403:
        return "the token may not post to this company — check CUSTOMCD_COMPANY_ID and the token's rights"
    if code == 404:
        return "check CUSTOMCD_URL and CUSTOMCD_COMPANY_ID"
    if code in {400, 413, 415, 422}:
        return "the server refused the body — run with --dry-run and `customcd validate -`"
    if code is not None and 300 <= code < 400:
        return "CUSTOMCD_URL points at a redirect — use the final https:// address"
    return "see docs/troubleshooting.md"


class Reporter:
    """Writes outcome lines (and CI annotations) to stderr.

    :param stream: where lines go (stderr).
    :param annotate: turns ``(level, message)`` into the CI's annotation line, or ``None``.
    """

    def __init__(
        self,
        stream: IO[str] | None = None,
        annotate: Callable[[str, str], str | None] | None = None,
    ) -> None:
        self.stream = stream or sys.stderr
        self.annotate = annotate

    def line(self, text: str) -> None:
        """Write one line."""
        print(text, file=self.stream, flush=True)

    def warn(self, text: str) -> None:
        """A warning line, plus the CI's annotation when it has one."""
        self.line(f"customcd: warning: {text}")
        self._annotation("warning", text)

    def error(self, text: str) -> None:
        """A ``customcd:`` line that is an error (a configuration problem), plus the annotation."""
        self.line(f"customcd: {text}")
        self._annotation("error", text)

    def quarantined(self, key: str, why: str) -> None:
        """The warning for a kept record found unreadable and quarantined (never sent)."""
        self.warn(
            f"kept record {key} is unreadable ({network_text(why)}); quarantined: it stays in "
            "the outbox and is never sent — see `customcd outbox list`"
        )

    def _annotation(self, level: str, text: str) -> None:
        if self.annotate is None:
            return
        try:
            annotation = self.annotate(level, text)
        except Exception:  # an adapter's formatting bug must not hide the message
            annotation = None
        if annotation:
            self.line(annotation)

    def outcome(self, outcome: Outcome, *, replay: bool = False, kept: bool = True) -> None:
        """One line saying what happened to a record.

        :param replay: the record is an older one, re-sent from the outbox.
        :param kept: the record is in the outbox; ``False`` when the outbox was unusable, so a
            record that was not delivered was not kept either (the caller prints it).
        """
        what = f"job {network_text(repr(outcome.job_id))}" if outcome.job_id else "record"
        reason = network_text(outcome.reason)  # often the server's words: one escaped line
        if replay:
            what = f"kept {what} (replay)"
        tries = f"{outcome.attempts} attempt" + ("" if outcome.attempts == 1 else "s")
        lost = "NOT kept: the outbox is unusable — the record follows, to keep by hand"
        if outcome.kind == "delivered":
            how = tries if outcome.attempts else "sent by another customcd process"
            self.line(f"customcd: delivered {what} ({outcome.status_code or '2xx'}, {how})")
        elif outcome.kind == "duplicate":
            self.line(f"customcd: {what} was delivered before; not sent again")
        elif outcome.kind == "skipped":
            self.line(f"customcd: no record sent: {reason}")
        elif outcome.kind == "vetoed":
            self.line(f"customcd: {what} not sent: {reason}")
        elif outcome.kind == "pending":
            then = (
                "kept in the outbox — the next customcd run or `customcd outbox flush` re-sends it"
                if kept
                else lost
            )
            text = f"{what} NOT delivered yet ({reason}; {tries}); {then}"
            self.line(f"customcd: {text}")
            self._annotation("warning", text)
        else:
            then = "kept in the outbox as rejected" if kept else lost
            text = f"{what} REJECTED by the server ({reason}); {then} — {_advice(outcome)}"
            self.line(f"customcd: {text}")
            self._annotation("error", text)
