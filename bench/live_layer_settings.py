"""The console's settings with the channels_redis connection pool configured for redis-py 8.

Only for ``bench/live.py`` (``--reconnect-env`` / ``--variant`` with
``DJANGO_SETTINGS_MODULE=bench.live_layer_settings``), to show what two pool options change:

- redis-py 8 gives every connection ``socket_timeout=5`` by default, the same 5 s that
  channels_redis blocks in ``BZPOPMIN``; an idle ``receive()`` then raises
  ``redis.exceptions.TimeoutError`` and the consumer holding the receive lock dies with its
  socket. A read timeout above the block (30 s) leaves the block to end on its own.
- redis-py 8's asyncio pool holds at most 100 connections and raises ``MaxConnectionsError``
  past that instead of waiting, so a burst of connects or disconnects fails in
  ``group_add`` / ``group_discard``.
"""

from incident_console.settings import *  # noqa: F403
from incident_console.settings import CHANNEL_LAYERS, REDIS_URL

if REDIS_URL:
    CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [
        {"address": REDIS_URL, "socket_timeout": 30, "max_connections": 2000}
    ]
