"""The personal access token: from ``CUSTOMCD_TOKEN`` or a token file, read with bounds.

A token file is a regular file of at most :data:`MAX_TOKEN_FILE` bytes; it is opened without
blocking and checked before it is read, so a FIFO, a device such as ``/dev/zero`` or a huge file
is refused at once instead of hanging or filling memory.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .contract.problems import ConfigurationError
from .secret import Secret, SecretLike

__all__ = ["MAX_TOKEN_FILE", "read_token_file", "resolve_token", "token_file_setting"]

#: A token file larger than this is refused (a token is a few dozen bytes).
MAX_TOKEN_FILE = 4096


def read_token_file(path: Path) -> str:
    """The text of a token file: a regular file of at most :data:`MAX_TOKEN_FILE` bytes.

    :raises ConfigurationError: naming the file and what is wrong with it.
    """

    def refuse(reason: str) -> ConfigurationError:
        return ConfigurationError(
            f"cannot read the token file {path}: {reason}", docs="configuration.md"
        )

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise refuse(exc.strerror or "cannot open it") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise refuse("it is not a regular file (a FIFO, device or folder); give a file")
        if info.st_size > MAX_TOKEN_FILE:
            raise refuse(f"it is larger than {MAX_TOKEN_FILE} bytes; it must hold the token alone")
        data = os.read(fd, MAX_TOKEN_FILE + 1)
    except OSError as exc:
        raise refuse(exc.strerror or "cannot read it") from None
    finally:
        os.close(fd)
    if len(data) > MAX_TOKEN_FILE:
        raise refuse(f"it is larger than {MAX_TOKEN_FILE} bytes; it must hold the token alone")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise refuse("it is not UTF-8 text") from None


def resolve_token(env: Mapping[str, str], token_file: str) -> SecretLike | None:
    """The token: the first line of ``token_file`` when one is named, else ``CUSTOMCD_TOKEN``.

    :return: ``None`` when no token is given at all.
    :raises ConfigurationError: the file cannot be read, is empty, or the token is not one word.
    """
    if token_file:
        path = Path(token_file).expanduser()
        text = read_token_file(path)
        lines = text.strip().splitlines()
        token = lines[0].strip() if lines else ""
        if not token:
            raise ConfigurationError(f"the token file {path} is empty", docs="configuration.md")
        if not _printable_token(token):
            raise ConfigurationError(
                f"the token in {path} contains a space or control character; the file must hold "
                "the token alone on its first line",
                docs="configuration.md",
            )
        return Secret(token)
    value = env.get("CUSTOMCD_TOKEN", "").strip()
    if value and not _printable_token(value):
        raise ConfigurationError(
            "CUSTOMCD_TOKEN contains a line break, space or control character (pasted with "
            "another line?); set it to the token alone",
            docs="troubleshooting.md",
        )
    return Secret(value) if value else None


def token_file_setting(
    flags: Mapping[str, Any], env: Mapping[str, str], data: Mapping[str, Any]
) -> str:
    """Which token file to read, if any ("" when the token comes from ``CUSTOMCD_TOKEN``).

    Precedence: ``--token-file`` > ``CUSTOMCD_TOKEN_FILE`` > ``CUSTOMCD_TOKEN`` >
    ``token_file`` in ``customcd.toml``.
    """
    if flags.get("token_file"):
        return str(flags["token_file"])
    if env.get("CUSTOMCD_TOKEN_FILE", "").strip():
        return env["CUSTOMCD_TOKEN_FILE"].strip()
    if env.get("CUSTOMCD_TOKEN", "").strip():
        return ""
    value = data.get("token_file") or ""
    if isinstance(value, (dict, list)):
        raise ConfigurationError(
            "customcd.toml: token_file must be a path (text)", docs="configuration.md"
        )
    return str(value)


def _printable_token(token: str) -> bool:
    """A token must be one word of printable ASCII: anything else breaks the HTTP header."""
    return token.isascii() and token.isprintable() and not any(c.isspace() for c in token)
