"""HTTP/2: a stream answered before its request body arrived must not end the connection.

Hypercorn (0.18) forgets a stream once its response is complete. When the gateway
answers early (413 before reading an oversized upload, 401 on a keyed upload), the
client's remaining DATA frames then hit a forgotten stream, Hypercorn raises
``KeyError`` and drops the whole connection, with every other stream multiplexed on
it: behind a proxy that shares one h2c connection among clients, one client's
refused upload reset everyone's requests. (HTTP/1.1 closes its own connection in
that case, which costs nobody else anything.)

:class:`H2Protocol` sends ``RST_STREAM(NO_ERROR)`` right after a response completes
while the request is still open, which RFC 9113 section 8.1 provides for exactly this
case: the client stops sending and reads the response (without it, a client blocked on
flow control waited for credit that never came, until the idle timeout). DATA already
in flight for such streams is dropped and its flow-control credit returned.
:func:`install` makes Hypercorn use it.
"""

from __future__ import annotations

import contextlib

import h2.errors
import h2.events
import h2.exceptions
import hypercorn.protocol
from h2.stream import StreamState
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

    async def _send_data(self, stream_id: int) -> None:
        await super()._send_data(stream_id)
        if stream_id not in self.stream_buffers:  # the response is complete (or cut off)
            stream = self.connection.streams.get(stream_id)
            if stream is not None and stream.state_machine.state is StreamState.HALF_CLOSED_LOCAL:
                # the client still sends its body: tell it to stop, it has its answer
                with contextlib.suppress(h2.exceptions.ProtocolError):
                    self.connection.reset_stream(stream_id, h2.errors.ErrorCodes.NO_ERROR)
                await self._flush()

    def _refuse_data(self, event: h2.events.DataReceived) -> None:
        # a fully closed stream refuses both; the connection window is credited anyway
        with contextlib.suppress(h2.exceptions.ProtocolError):
            self.connection.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        with contextlib.suppress(h2.exceptions.ProtocolError):
            self.connection.reset_stream(event.stream_id, h2.errors.ErrorCodes.NO_ERROR)


def install() -> None:
    """Make Hypercorn's protocol selection use :class:`H2Protocol` (idempotent)."""
    hypercorn.protocol.H2Protocol = H2Protocol  # type: ignore[attr-defined]  # not re-exported
