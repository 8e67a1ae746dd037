"""An SMTP relay that answers like one 20 ms away (each reply's last line waits one round
trip) and counts what it received by Message-ID, so tests and the outbox benchmark can see
concurrency pay off and count duplicates. ``python -m tests.support.slow_relay PORT DELAY``
runs one in its own process."""

from __future__ import annotations

import asyncio
import re
import sys
import threading
from collections import Counter

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

MESSAGE_ID_RE = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


class SlowSMTP(SMTP):
    def __init__(self, *args, relay: SlowRelay, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.relay = relay

    async def push(self, status):
        line = status if isinstance(status, str) else status.decode()
        delay = self.relay.delay  # read at each reply: a test may bring the relay closer
        if delay and (len(line) < 4 or line[3] != "-"):
            await asyncio.sleep(delay)
        await super().push(status)


class CountingHandler:
    """Counts received messages by Message-ID (header scan only: cheap at high rates)."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or b""
        head = content.split(b"\r\n\r\n", 1)[0]
        match = MESSAGE_ID_RE.search(head)
        with self._lock:
            self.received[match.group(1).decode() if match else "<none>"] += 1
        return "250 OK"

    @property
    def total(self) -> int:
        return sum(self.received.values())

    def duplicates(self) -> dict[str, int]:
        return {mid: n for mid, n in self.received.items() if n > 1}


class SlowRelay(Controller):
    """``SlowRelay(port, delay=0.020).start()``; ``.handler`` counts, ``.stop()`` ends it.
    Setting ``.delay`` changes the round trip of connections already open too."""

    def __init__(self, port: int, *, delay: float = 0.020) -> None:
        super().__init__(CountingHandler(), hostname="127.0.0.1", port=port)
        self.delay = delay

    def factory(self) -> SMTP:
        return SlowSMTP(self.handler, relay=self, hostname="relay.test")


def main() -> None:
    port, delay = int(sys.argv[1]), float(sys.argv[2])
    relay = SlowRelay(port, delay=delay)
    relay.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
