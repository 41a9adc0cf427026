"""The console's settings with channels_redis's list-based layer in place of its pub/sub one.

Only for ``bench/live.py`` (``--reconnect-env`` / ``--variant`` with
``DJANGO_SETTINGS_MODULE=bench.live_layer_settings``, or the whole run under it, worker
included, since the worker sends the pushes), to compare the two layers:

- ``RedisPubSubChannelLayer`` (the console's setting) publishes one copy of a push per group;
  each web process subscribed to the group receives it once and hands it to its own sockets.
  Membership lives in the process.
- ``RedisChannelLayer`` stores a group's members in Redis, and a ``group_send`` to N sockets
  serialises and pushes N copies of the message through Redis; each web process then pops and
  decodes its sockets' copies one by one.
"""

from incident_console.settings import *  # noqa: F403
from incident_console.settings import CHANNEL_LAYERS, REDIS_URL

if REDIS_URL:
    CHANNEL_LAYERS["default"]["BACKEND"] = "channels_redis.core.RedisChannelLayer"
