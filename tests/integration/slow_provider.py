"""A text-message provider that takes its time, so a worker is holding a send when a fault
is injected. Worker processes load it by name through ``SMS_PROVIDER``."""

import time

from comms.delivery import RecordingSmsProvider

SECONDS_PER_SEND = 0.5


class SlowRecordingSmsProvider(RecordingSmsProvider):
    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        time.sleep(SECONDS_PER_SEND)
        return super().send(to=to, body=body, idempotency_key=idempotency_key)
