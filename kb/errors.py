"""Every error the core raises, in one tree.

    KBError
    ├── NotFoundError              a document or chunk that does not exist (or is hidden)
    ├── UnauthorizedError          no valid API key: missing, wrong, or its user disabled
    ├── ForbiddenError             the user's role or clearance does not allow it
    ├── InvalidRequestError        a query, filter or argument that makes no sense
    │   └── InvalidMetadataError   metadata that breaks its document type's schema (names fields)
    ├── ModelMismatchError         the store was built with another embedding model
    ├── StoreError                 the store on disk cannot be opened or written
    │   └── StoreBusyError         another process is writing; try again
    ├── ConfigError                a setting or settings file that cannot be used
    └── InputError                 a file that cannot be ingested (always names the file)
        ├── UnsupportedTypeError   an extension we have no reader for
        ├── TooLargeError          over the configured size limit
        ├── EmptyInputError        no bytes, or no text at all
        ├── EncryptedError         password-protected
        ├── NoTextLayerError       scanned pages without a text layer
        ├── CorruptFileError       bytes that do not parse as the claimed format
        └── ParseLimitError        parsing took longer or needed more memory than allowed

The core knows nothing of HTTP: `api/errors.py` maps each class to a status once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class KBError(Exception):
    """Base of every error raised by Precedent's core."""

    code = "kb_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(KBError):
    code = "not_found"


class UnauthorizedError(KBError):
    code = "unauthorized"


class ForbiddenError(KBError):
    code = "forbidden"


class InvalidRequestError(KBError):
    code = "invalid_request"


@dataclass(frozen=True)
class FieldProblem:
    """One metadata field that breaks the schema, and why; `source` is the file, if known."""

    field: str
    reason: str
    source: str | None = None

    def __str__(self) -> str:
        return f"metadata field {self.field!r} {self.reason}"


class InvalidMetadataError(InvalidRequestError):
    """Every schema problem of one or more documents; `field` is the first one's field."""

    code = "invalid_metadata"

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        if not problems:
            raise ValueError("InvalidMetadataError needs at least one problem")
        self.problems = tuple(problems)
        self.field = self.problems[0].field
        self.source = self.problems[0].source
        sources: dict[str | None, list[str]] = {}
        for problem in self.problems:
            sources.setdefault(problem.source, []).append(str(problem))
        super().__init__(
            "; ".join(
                f"{source}: {', '.join(found)}" if source else ", ".join(found)
                for source, found in sources.items()
            )
        )

    def naming(self, source: str) -> InvalidMetadataError:
        """The same problems, said of the file `source`."""
        return InvalidMetadataError(
            [FieldProblem(p.field, p.reason, source) for p in self.problems]
        )


class ModelMismatchError(KBError):
    code = "model_mismatch"


class StoreError(KBError):
    code = "store_error"


class StoreBusyError(StoreError):
    """Another writer held the store's lock (or SQLite's) for longer than we would wait."""

    code = "store_busy"


class ConfigError(KBError):
    code = "config_error"


class InputError(KBError):
    """A file that cannot be ingested; the message always starts with the file's name."""

    code = "bad_input"

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class UnsupportedTypeError(InputError):
    code = "unsupported_type"


class TooLargeError(InputError):
    code = "too_large"


class EmptyInputError(InputError):
    code = "empty"


class EncryptedError(InputError):
    code = "encrypted"


class NoTextLayerError(InputError):
    code = "no_text_layer"


class CorruptFileError(InputError):
    code = "corrupt"


class ParseLimitError(InputError):
    """The parsing process was stopped: over the time or memory bound (KB_PARSE_*)."""

    code = "parse_limit"


__all__ = [
    "ConfigError",
    "CorruptFileError",
    "EmptyInputError",
    "EncryptedError",
    "ForbiddenError",
    "InputError",
    "InvalidMetadataError",
    "InvalidRequestError",
    "KBError",
    "ModelMismatchError",
    "NoTextLayerError",
    "NotFoundError",
    "ParseLimitError",
    "StoreBusyError",
    "StoreError",
    "TooLargeError",
    "UnauthorizedError",
    "UnsupportedTypeError",
]
