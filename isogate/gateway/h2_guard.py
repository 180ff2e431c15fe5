"""HTTP/2: a stream answered before its request body arrived must not end the connection.

Hypercorn (0.18) forgets a stream once its response is complete. When the gateway
answers early (413 before reading an oversized upload, 401 on a keyed upload), the
client's remaining DATA frames then hit a forgotten stream, Hypercorn raises
``KeyError`` and drops the whole connection, with every other stream multiplexed on
it: behind a proxy that shares one h2c connection among clients, one client's
refused upload reset everyone's requests. (HTTP/1.1 closes its own connection in
that case, which costs nobody else anything.)

:class:`H2Protocol` drops DATA for such streams, returns their flow-control credit,
and asks the client to stop sending with ``RST_STREAM(NO_ERROR)``, which RFC 9113
section 8.1 provides for exactly this case. :func:`install` makes Hypercorn use it.
"""

from __future__ import annotations

import h2.errors
import h2.events
import h2.exceptions
import hypercorn.protocol
from hypercorn.protocol.h2 import H2Protocol as _HypercornH2


class H2Protocol(_HypercornH2):
    """Hypercorn's HTTP/2 protocol, tolerant of request data after the response."""

    async def _handle_events(self, events: list[h2.events.Event]) -> None:
        batch: list[h2.events.Event] = []
        for event in events:
            if isinstance(event, h2.events.DataReceived) and event.stream_id not in self.streams:
                if batch:  # keep the order: what came before is handled first
                    await super()._handle_events(batch)
                    batch = []
                if event.stream_id not in self.streams:  # (handling may not revive it)
                    self._refuse_data(event)
                    await self._flush()
                    continue
            batch.append(event)
        if batch:
            await super()._handle_events(batch)

    def _refuse_data(self, event: h2.events.DataReceived) -> None:
        try:
            self.connection.acknowledge_received_data(
                event.flow_controlled_length, event.stream_id
            )
        except h2.exceptions.ProtocolError:
            pass  # the stream is fully closed: the connection window was credited anyway
        try:
            self.connection.reset_stream(event.stream_id, h2.errors.ErrorCodes.NO_ERROR)
        except h2.exceptions.ProtocolError:
            pass  # already reset or closed


def install() -> None:
    """Make Hypercorn's protocol selection use :class:`H2Protocol` (idempotent)."""
    hypercorn.protocol.H2Protocol = H2Protocol  # type: ignore[misc]
