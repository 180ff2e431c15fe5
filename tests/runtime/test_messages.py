"""The typed messages between the supervisor and its workers (runtime/messages.py):
each decodes to what was sent, only on its own direction's pipe."""

from __future__ import annotations

import pytest

from isogate.runtime.messages import (
    After,
    Blanks,
    Cancel,
    Egress,
    ErrorInfo,
    Evict,
    Evicted,
    FnSpec,
    HttpRequest,
    Invoke,
    KvCall,
    KvReply,
    NeedCode,
    Ready,
    Result,
    SelfTest,
    Wait,
)
from isogate.runtime.protocol import (
    FrameDecoder,
    ProtocolError,
    decode_from_worker,
    decode_to_executor,
    frame,
)

TO_EXECUTOR = [
    Invoke(
        7,
        1,
        FnSpec("f@1:ab:cd", "acme", 1000, 50, (("K", "v"),), "export default {}", ("CACHE",)),
        HttpRequest("POST", "http://x/y", (("content-type", "text/plain"),), b"\x00\xffbody"),
        "inv_0123",
    ),
    Evict(0, "f@1:ab:cd"),
    Cancel(7, 1),
    KvReply(7, 1, 3, '{"v":{"value":"\u00ff","metadata":null}}'),
]
FROM_WORKER = [
    Result(7, 1, "ok", 200, "OK", (("a", "b"),), b"\x00hi", ("[log] x",), None, "", True),
    Result(8, 0, "js_error", e=ErrorInfo("TypeError", "nope", "at f (x:1:2)", 1, 2)),
    NeedCode(7, 1),
    Wait(7, 1),
    After(7, 1, ("[error] late",), "inv_0123"),
    Blanks(1, 16, 3),
    Evicted(1, ("f@1:ab:cd",)),
    Ready(4242, 2),
    SelfTest(True, "1,234.5"),
    Egress((("acme", "allowed", 3),)),
    KvCall(7, 1, 3, '{"b":"CACHE","m":"get","k":"a"}'),
]


@pytest.mark.parametrize("message", TO_EXECUTOR, ids=lambda m: type(m).__name__)
def test_requests_round_trip_and_are_refused_by_the_supervisor(message: object) -> None:
    payload = frame(message)[4:]  # type: ignore[arg-type]
    assert decode_to_executor(payload) == message
    with pytest.raises(ProtocolError):
        decode_from_worker(payload)


@pytest.mark.parametrize("message", FROM_WORKER, ids=lambda m: type(m).__name__)
def test_answers_round_trip_and_are_refused_by_an_executor(message: object) -> None:
    payload = frame(message)[4:]  # type: ignore[arg-type]
    assert decode_from_worker(payload) == message
    with pytest.raises(ProtocolError):
        decode_to_executor(payload)


def test_a_stream_of_frames_split_anywhere_decodes_in_order() -> None:
    data = b"".join(frame(m) for m in FROM_WORKER)
    decoder = FrameDecoder(decode_from_worker)
    got = []
    for i in range(0, len(data), 7):
        got.extend(decoder.feed(data[i : i + 7]))
    assert got == FROM_WORKER


def test_a_bad_frame_is_skipped_when_asked_and_its_neighbours_kept() -> None:
    bad = frame(Wait(1, 0))  # a worker's message on an executor's request pipe
    data = frame(Cancel(1, 0)) + bad + frame(Cancel(2, 0))
    skipped: list[Exception] = []
    decoder = FrameDecoder(decode_to_executor, skip=skipped.append)
    assert list(decoder.feed(data)) == [Cancel(1, 0), Cancel(2, 0)]
    assert len(skipped) == 1
    with pytest.raises(ProtocolError):  # without ``skip``: an error
        list(FrameDecoder(decode_to_executor).feed(bad))
