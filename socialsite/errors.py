"""Errors a service raises for a request it refuses; views and the API turn them into 4xx answers."""


class ServiceError(Exception):
    """The request was understood and refused; nothing was changed."""

    status_code = 400

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class NotFound(ServiceError):
    """Nothing the caller may see answers to the name or id: the 404 of DRF's own lookups, `not_found`."""

    status_code = 404

    def __init__(self, message: str, *, code: str = "not_found") -> None:
        super().__init__(message, code=code)


class Forbidden(ServiceError):
    status_code = 403


class Conflict(ServiceError):
    status_code = 409
