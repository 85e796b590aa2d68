"""What a message handler can say besides "done": retry later, or dead-letter."""

from __future__ import annotations

__all__ = ["DeadLetter", "MessagingError", "RetryLater"]


class MessagingError(Exception):
    """Base of the consumer kit's errors."""

    retriable = False


class RetryLater(MessagingError):
    """A transient failure: the message is retried with backoff, a bounded number of times."""

    retriable = True


class DeadLetter(MessagingError):
    """The message can never be processed: it goes to the dead-letter topic with the reason."""
