"""Mail on disk: a Maildir, an mbox file, ``.eml`` files or a folder of them.

Maildir delivery is hand-written (a rename from ``new/`` to ``cur/``) because
``mailbox.Maildir`` can only move a message by rewriting it, and the move must happen
exactly once, after the commit."""

from __future__ import annotations

import logging
import mailbox
import os
from collections.abc import Iterator
from pathlib import Path

from core.inbound.pipeline import SourceMessage

log = logging.getLogger("core.inbound")


def is_maildir(path: Path) -> bool:
    return all((path / sub).is_dir() for sub in ("new", "cur", "tmp"))


def is_mbox(path: Path) -> bool:
    """An mbox starts with a ``From `` envelope line; anything else is one message."""
    with path.open("rb") as fh:
        return fh.read(5) == b"From "


def _move_to_cur(path: Path) -> None:
    name = path.name if ":" in path.name else f"{path.name}:2,"
    try:
        os.rename(path, path.parent.parent / "cur" / name)
    except FileNotFoundError:
        log.info("maildir message %s was already moved", path.name)


def maildir_messages(root: Path) -> Iterator[SourceMessage]:
    """Messages in ``new/``, oldest name first; each moves to ``cur/`` once committed.
    ``cur/`` is left alone: it holds what was already ingested (or read by a person)."""
    root = root.resolve()
    for name in sorted(os.listdir(root / "new")):
        if name.startswith("."):
            continue
        path = root / "new" / name
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            continue
        yield SourceMessage(raw, f"maildir:{root}", done=lambda p=path: _move_to_cur(p), key=name)


def mbox_messages(path: Path) -> Iterator[SourceMessage]:
    """Every message of an mbox (read only; the unique constraint makes re-runs no-ops)."""
    box = mailbox.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            yield SourceMessage(box.get_bytes(key), f"mbox:{path.resolve()}", key=key)
    finally:
        box.close()


def file_messages(path: Path) -> Iterator[SourceMessage]:
    if is_mbox(path):
        yield from mbox_messages(path)
    else:
        yield SourceMessage(path.read_bytes(), f"eml:{path.resolve()}", key=path.name)


def _files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def path_messages(paths: list[Path], errors: list[str] | None = None) -> Iterator[SourceMessage]:
    """Messages from each path: a Maildir, an mbox, an ``.eml`` file, or a folder whose files
    are each an mbox or one message. What cannot be read goes to ``errors`` and is skipped."""
    errors = errors if errors is not None else []
    for path in paths:
        try:
            if path.is_dir() and is_maildir(path):
                yield from maildir_messages(path)
            elif path.is_dir():
                for file in _files(path):
                    try:
                        yield from file_messages(file)
                    except OSError as exc:
                        errors.append(f"{file}: {exc.strerror or exc}")
            else:
                yield from file_messages(path)
        except OSError as exc:
            errors.append(f"{path}: {exc.strerror or exc}")


def count_messages(paths: list[Path]) -> int | None:
    """How many messages ``path_messages`` will yield, for a progress bar (None if unknown)."""
    total = 0
    try:
        for path in paths:
            if path.is_dir() and is_maildir(path):
                total += sum(1 for n in os.listdir(path / "new") if not n.startswith("."))
            elif path.is_dir():
                total += sum(_count_file(f) for f in _files(path))
            else:
                total += _count_file(path)
    except OSError:
        return None
    return total


def _count_file(path: Path) -> int:
    if not is_mbox(path):
        return 1
    box = mailbox.mbox(path, create=False)
    try:
        return len(box)
    finally:
        box.close()
