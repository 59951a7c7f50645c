"""Errors a service raises for a request it refuses; views and the API turn them into 4xx answers."""


class ServiceError(Exception):
    """The request was understood and refused; nothing was changed."""

    status_code = 400

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class NotFound(ServiceError):
    status_code = 404


class Forbidden(ServiceError):
    status_code = 403


class Conflict(ServiceError):
    status_code = 409
