"""Exceptions that carry what a user needs to fix the problem; the CLI prints them as one line."""

from __future__ import annotations

from pathlib import Path


class IdaisError(Exception):
    """Base class of every error the library reports to users."""

    exit_code = 1


class InputError(IdaisError):
    """Unreadable or malformed input: a file that does not parse, a bad parameter."""

    exit_code = 2


class RdfSyntaxError(InputError):
    """An RDF file that does not parse, with its path and (where known) line."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.detail = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: syntax error: {message}")


class UnsafeInputError(InputError):
    """Input refused before parsing because it could harm the process or reach outside it (untrusted files)."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.detail = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: refused: {message}")


class UnreadableFileError(InputError):
    """A file that cannot be read at all (missing, no permission, an I/O error), before any check of its content."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = str(path)
        self.detail = message
        super().__init__(f"{self.path}: cannot read: {message}")


class EmptyInputError(InputError):
    """A partner file with nothing in it: no bytes at all, or no triples once parsed."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = str(path)
        self.detail = message
        super().__init__(f"{self.path}: {message}")


class TableError(InputError):
    """A mapping table (SSSOM TSV or the partner CSV layout) with a bad header, column or cell."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class PartnerError(InputError):
    """A partner command that cannot be carried out (unknown partner, name taken, no store)."""


class StoreWriteError(PartnerError):
    """The partner store cannot be written (read-only, disk full, a file-size limit); nothing was changed."""

    def __init__(self, store_dir: Path | str, reason: str) -> None:
        self.store_dir = str(store_dir)
        self.reason = reason
        super().__init__(f"cannot write the partner store {self.store_dir}: {reason}; nothing was changed")


class PartnerRejected(IdaisError):
    """Partner data that does not pass the checks; nothing was stored (exit code 1, like violations)."""


class UnknownQueryError(InputError):
    """A saved query asked for by a name the registry does not hold; the message lists the known ones."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(f"unknown query {name!r}; known queries: {', '.join(known)}")


class QueryHeaderError(IdaisError):
    """A saved query whose header is malformed (a defect of the repository, not of the user)."""


class ParameterError(InputError):
    """A missing, unknown or ill-typed query parameter."""

    def __init__(self, query: str, param: str, message: str) -> None:
        self.query = query
        self.param = param
        super().__init__(f"query {query!r}, parameter {param!r}: {message}")


class QueryError(InputError):
    """A SPARQL text that the engine refuses (syntax error or unsupported feature)."""


class ServeError(InputError):
    """The server cannot start as asked: a port out of range or taken, an address it cannot listen on."""


def reason_of(exc: OSError) -> str:
    """An operating-system error as a short phrase on one line (``No space left on device``), for messages.

    >>> reason_of(OSError(28, "No space left on device", "/x"))
    'No space left on device'
    >>> reason_of(OSError("IO error: While appending to file: a.sst: File too large\\n"))
    'IO error: While appending to file: a.sst: File too large'
    """
    text = exc.strerror if exc.strerror else str(exc)
    return " ".join(text.split())
