"""Errors that become a clean 4xx answer at the view boundary."""


class IngestError(Exception):
    status = 400

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class BadRequest(IngestError):
    status = 400


class TooLarge(IngestError):
    status = 413
