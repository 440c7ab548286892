"""The error family every layer raises and the edges translate (CLI exit codes, HTTP)."""


class CxloopError(Exception):
    """Base of every error cxloop raises on purpose."""


class InvalidInput(CxloopError):
    """The caller gave something cxloop cannot accept (a file, a field, a parameter)."""


class NotFound(CxloopError):
    """A named thing does not exist."""


class Conflict(CxloopError):
    """The request contradicts what is stored."""
