"""The one error hierarchy the consumer runner and the harvester base class understand.

- `ConfigError`: a setting is missing or wrong; the process stops at start.
- `RetryableError`: the same input may work later (a timeout, a 503); the message is redelivered.
- `PermanentError`: the input itself is wrong; retrying cannot help, so it goes to dead letters.
"""

from __future__ import annotations


class ScopeError(Exception):
    """Base of Scope's own errors."""


class ConfigError(ScopeError):
    """A setting is missing or invalid. The message names the environment variable."""


class RetryableError(ScopeError):
    """A transient failure: try again after a delay.

    Attributes:
        retry_after: Seconds the other side asked us to wait (HTTP Retry-After), if it said.
        outage: A service the message needs is down (not the message's fault): a consumer
            that allows it (`ConsumerSpec.outages_wait`) never dead-letters it for that.
    """

    def __init__(
        self, message: str, *, retry_after: float | None = None, outage: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.outage = outage


class PermanentError(ScopeError):
    """The input cannot be processed as it is; it is dead-lettered with this reason.

    Attributes:
        field_path: Where in the input the problem is (`$.donnees.FNSimple.organisme`), if known.
    """

    def __init__(self, message: str, *, field_path: str | None = None) -> None:
        super().__init__(message)
        self.field_path = field_path
