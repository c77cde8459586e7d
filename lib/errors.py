"""Errors of the filter and user services, worded for the people who cause them.

Every door (web form, API, bot, admin, imports) shows these messages as they are.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A request the service refuses; `message` is one sentence for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FieldError(ServiceError):
    """One field is wrong; `field` names it as the user wrote it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationFailed(ServiceError):
    """Several fields are wrong at once; each error keeps its field."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors

    def as_dict(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for error in self.errors:
            result.setdefault(error.field, []).append(error.message)
        return result


class NotFound(ServiceError):
    """Missing, or not the caller's: the two are indistinguishable on purpose."""


class QuotaExceeded(ServiceError):
    pass


class Banned(ServiceError):
    pass
