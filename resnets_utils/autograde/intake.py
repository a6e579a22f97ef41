"""Read a submission folder without ever following a link: the grading process's only way in.

A submission is a folder of student files, and the grading process runs with the
instructor's rights, so nothing in it may lead elsewhere. Every entry is looked at with
``lstat`` semantics (``os.scandir`` on an open folder, ``O_NOFOLLOW`` on every component,
``fstat`` after opening): plain files within the limits are taken, and everything else (a
link, a FIFO, a device, a socket, a file over a limit) is refused, named, and never opened.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

MB = 1 << 20
_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO that slipped past the checks returns at once instead of waiting for a writer.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


@dataclass(frozen=True)
class Allowance:
    """What one submission may bring (as nbgrader's ``max_file_size`` does on collection)."""

    file_mb: float = 100.0
    total_mb: float = 500.0
    files: int = 1000


class RefusedError(Exception):
    """A path the grader will not read; the message says what it is, for the feedback."""


@dataclass
class Intake:
    """What a submission folder holds: plain files taken (relative path -> size) and what was refused."""

    folder: Path
    files: dict[str, int] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # relative path -> what it is, in words
    problem: str = ""  # the folder itself cannot be read: nothing is taken

    def notes(self) -> list[str]:
        """One line per refused entry, for the feedback (at most 20, then a count)."""
        lines = [f"{path} ({what}): not read" for path, what in sorted(self.refused.items())]
        return lines[:20] + ([f"... and {len(lines) - 20} more"] if len(lines) > 20 else [])


def describe(mode: int, path: str) -> str:
    """What a non-file entry is, in words, for a verdict or the feedback."""
    if stat.S_ISLNK(mode):
        try:
            return f"a link to {os.readlink(path)}"
        except OSError:
            return "a link"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a plain file"


def scan(folder: Path, allowance: Allowance, first: str = "") -> Intake:
    """Look at every entry of ``folder`` (``first`` is counted before the others)."""
    intake = Intake(Path(folder))
    try:
        mode = os.lstat(folder).st_mode
        top = os.open(folder, _FOLDER_FLAGS) if stat.S_ISDIR(mode) else None
    except OSError as error:
        intake.problem = f"the submission folder cannot be read ({error.strerror})"
        return intake
    if top is None:
        intake.problem = f"the submission folder is {describe(mode, str(folder))}, not a folder"
        return intake
    entries: list[tuple[str, os.stat_result]] = []
    budget = allowance.files

    def walk(fd: int, prefix: str) -> None:
        nonlocal budget
        with os.scandir(fd) as found:
            for entry in sorted(found, key=lambda e: (not (prefix == "" and e.name == first), e.name)):
                relative = prefix + entry.name
                if budget <= 0:
                    intake.refused[prefix or "."] = (
                        f"more than {allowance.files} files and folders: the rest was not looked at"
                    )
                    return
                budget -= 1
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    try:
                        child = os.open(entry.name, _FOLDER_FLAGS, dir_fd=fd)
                    except OSError:
                        intake.refused[relative] = "a folder that could not be opened"
                        continue
                    try:
                        walk(child, relative + "/")
                    finally:
                        os.close(child)
                else:
                    entries.append((relative, info))

    try:
        walk(top, "")
    finally:
        os.close(top)

    total = 0
    entries.sort(key=lambda item: (item[0] != first, item[0]))
    for relative, info in entries:
        if not stat.S_ISREG(info.st_mode):
            intake.refused[relative] = describe(info.st_mode, str(folder / relative))
        elif info.st_size > allowance.file_mb * MB:
            limit = f"over the limit of {allowance.file_mb:g} MB per file"
            intake.refused[relative] = f"{info.st_size / MB:.1f} MB, {limit}"
        elif total + info.st_size > allowance.total_mb * MB:
            intake.refused[relative] = f"over the limit of {allowance.total_mb:g} MB per submission"
        else:
            total += info.st_size
            intake.files[relative] = info.st_size
    return intake


def _open(folder: Path, relative: str) -> int:
    """A file descriptor of ``folder/relative``, opened through no link at any component."""
    parts = relative.split("/")
    fd = os.open(folder, _FOLDER_FLAGS)
    try:
        for part in parts[:-1]:
            child = os.open(part, _FOLDER_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
        mode = os.stat(parts[-1], dir_fd=fd, follow_symlinks=False).st_mode
        if not stat.S_ISREG(mode):
            raise RefusedError(f"{relative} is {describe(mode, str(Path(folder) / relative))}, not a file")
        file = os.open(parts[-1], _FILE_FLAGS, dir_fd=fd)
    finally:
        os.close(fd)
    if not stat.S_ISREG(os.fstat(file).st_mode):  # replaced between the two looks
        os.close(file)
        raise RefusedError(f"{relative} is not a plain file")
    return file


def read(folder: Path, relative: str, limit_bytes: int) -> bytes:
    """The bytes of a plain file of the submission, at most ``limit_bytes`` (``RefusedError`` if longer)."""
    fd = _open(folder, relative)
    with os.fdopen(fd, "rb") as file:
        data = file.read(limit_bytes + 1)
    if len(data) > limit_bytes:
        raise RefusedError(f"{relative} is over the limit of {limit_bytes / MB:g} MB per file")
    return data


def _raw(text: str) -> bytes:
    """``text`` as bytes, whatever it holds: a file name that is not UTF-8 reads as lone surrogates."""
    return text.encode("utf-8", "surrogatepass")


def fingerprint(intake: Intake) -> str:
    """A hash of what was taken and what was refused: a changed submission is graded again."""
    digest = hashlib.sha256(_raw(intake.problem) + b"\0")
    for relative, why in sorted(intake.refused.items()):
        digest.update(_raw(f"refused {relative} {why}\0"))
    for relative in sorted(intake.files):
        digest.update(_raw(relative) + b"\0")
        try:
            with os.fdopen(_open(intake.folder, relative), "rb") as file:
                for chunk in iter(lambda: file.read(MB), b""):  # noqa: B023 (file is this loop's)
                    digest.update(chunk)
        except (OSError, RefusedError) as error:
            digest.update(_raw(f"unreadable {error}"))
        digest.update(b"\0")
    return digest.hexdigest()


def _taken(intake: Intake):
    """Each plain file taken that still opens as one: (relative path, size counted, open file)."""
    for relative, size in intake.files.items():
        try:
            source = os.fdopen(_open(intake.folder, relative), "rb")
        except (OSError, RefusedError):
            continue  # changed since the scan: left out
        with source:
            yield relative, size, source


def copy(intake: Intake, destination: Path) -> None:
    """Copy the plain files taken into ``destination`` (created): plain files and folders only."""
    destination.mkdir(mode=0o700, parents=True)  # private until the job's user is given it
    for relative, size, source in _taken(intake):
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as out:
            remaining = size  # never more than was counted against the limits
            while remaining > 0 and (chunk := source.read(min(MB, remaining))):
                out.write(chunk)
                remaining -= len(chunk)


def contents(intake: Intake) -> dict[str, bytes]:
    """The plain files taken, ``{relative path: bytes}``, to send to a worker machine (as :func:`copy`)."""
    return {relative: source.read(size) for relative, size, source in _taken(intake)}
