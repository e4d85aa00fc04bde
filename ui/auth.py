"""Logins for `briefing serve`: ``--auth USER:PASS`` or a users file of ``user:pass`` lines."""

from __future__ import annotations

from pathlib import Path

from index_build.core.errors import SettingsError

__all__ = ["parse_auth"]


def parse_auth(auth: str | None = None, auth_file: str | Path | None = None) -> list[tuple[str, str]] | None:
    """The accepted ``(user, password)`` pairs, or None when no login is required.

    Blank lines and ``#`` comments in the file are ignored; a malformed line is a
    ``SettingsError`` naming the file and line.
    """
    lines: list[tuple[str, str]] = []
    if auth is not None:
        lines.append(("--auth", auth))
    if auth_file is not None:
        try:
            text = Path(auth_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise SettingsError(f"{auth_file}: cannot read the users file ({e})") from None
        entries = [(f"{auth_file}:{i}", ln.strip()) for i, ln in enumerate(text.splitlines(), 1)
                   if ln.strip() and not ln.lstrip().startswith("#")]
        if not entries:
            raise SettingsError(f"{auth_file}: no user:password lines; add one per user")
        lines += entries
    pairs: list[tuple[str, str]] = []
    for origin, line in lines:
        user, sep, password = line.partition(":")
        if not sep or not user.strip() or not password:
            raise SettingsError(f"{origin}: expected USER:PASSWORD")
        pairs.append((user.strip(), password))
    return pairs or None
