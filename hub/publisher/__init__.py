"""A synchronous publisher for code that is not async: see ``hub.publisher.publisher``."""

from hub.publisher.publisher import Publisher as Publisher
from hub.publisher.values import Failures as Failures
from hub.publisher.values import PublisherClosed as PublisherClosed
from hub.publisher.values import PublisherFull as PublisherFull
from hub.publisher.values import PublisherStats as PublisherStats
from hub.publisher.values import PublishFailure as PublishFailure
from hub.publisher.values import Retry as Retry

__all__ = [
    "Failures",
    "PublishFailure",
    "Publisher",
    "PublisherClosed",
    "PublisherFull",
    "PublisherStats",
    "Retry",
]
