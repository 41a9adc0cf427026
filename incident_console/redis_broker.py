"""Celery's Redis transport, with one failure after a lost connection made recoverable.

When Redis goes away while the worker holds a task, Celery first collects the broken
connection (which detaches it from its transport) and then closes it. Closing a channel
hands its unacknowledged tasks back to Redis, and kombu's Redis channel builds a new
connection pool for that from the detached connection's address: ``None``. The
``AttributeError`` is not a connection error, so Celery takes it as unrecoverable and the
worker exits (celery 5.7.0, kombu 5.7.0); the task's late acknowledgement fails the same way.

Here a channel whose connection is already detached says so with Redis's own
``ConnectionError``: the close is then finished as for any lost connection, the late
acknowledgement is logged as one that could not be made, and the worker reconnects. A task
that was not handed back or acknowledged is delivered again once its visibility timeout
passes (or, with Redis restarted empty, sent again by the requeue task); every task is safe to
run twice.
"""

from __future__ import annotations

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise RedisConnectionError("the connection to the broker is already closed")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
