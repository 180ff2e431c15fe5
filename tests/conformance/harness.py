"""Run the same Workers on Cloudflare's workerd and on isogate's runtime; compare responses.

Two halves:

* :class:`Workerd` writes a capnp config with one service and one socket per corpus
  Worker, binds every socket itself on 127.0.0.1:0 and hands the descriptors to
  ``workerd serve --socket-fd`` (no port races), and waits until workerd reports every
  socket on its ``--control-fd``. Requests go over real HTTP with httpx; the response is
  read raw (no decompression), headers in wire order.
* An isogate backend (:func:`make_isogate_backend`, the one place that chooses it)
  takes the *same* request -- method, ``http://127.0.0.1:<port><path>`` exactly as
  workerd builds ``request.url`` from the Host header, the wire headers httpx sent
  (names lower-cased as ASGI hands them to the gateway) and the body bytes -- and
  returns an ``InvokeResult``.

:func:`compare` turns both into :class:`Observed` and lists the differences.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import dataclasses
import difflib
import hashlib
import http
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from isogate.runtime.types import FunctionRef, InvokeRequest, InvokeResult, Outcome

from .corpus import Case, Worker

REPO = Path(__file__).resolve().parents[2]
WORKERS_DIR = Path(__file__).resolve().parent / "workers"

#: Compatibility date of every corpus Worker on workerd (flags per Worker in the corpus).
COMPATIBILITY_DATE = "2024-09-23"

#: Headers that are the HTTP server's business, not the Worker's: never compared.
#: workerd adds ``content-length`` for bodies of known length, ``transfer-encoding:
#: chunked`` for streams (and for bodies it compresses itself), ``connection: close``
#: after an uncaught exception; it sends no ``date`` or ``server``.
TRANSPORT_HEADERS = frozenset(
    {"date", "server", "content-length", "transfer-encoding", "connection", "keep-alive"}
)

#: workerd keeps the name casing of the first ``set``/``append`` on the wire
#: (``X-Foo`` stays ``X-Foo``); Headers iteration is lower-case. HTTP names are
#: case-insensitive and ASGI servers lower-case them anyway, so by default names are
#: compared lower-cased; set ISOGATE_CONFORMANCE_HEADER_CASE=1 to compare them as sent.
COMPARE_HEADER_CASE = os.environ.get("ISOGATE_CONFORMANCE_HEADER_CASE") == "1"


# --------------------------------------------------------------------------- workerd


def workerd_binary() -> Path | None:
    """The native binary from ``npm ci`` (no install script needed), or $WORKERD_BIN."""
    env = os.environ.get("WORKERD_BIN")
    if env:
        return Path(env)
    for rel in (
        "node_modules/@cloudflare/workerd-linux-64/bin/workerd",
        "node_modules/@cloudflare/workerd-linux-arm64/bin/workerd",
        "node_modules/@cloudflare/workerd-darwin-arm64/bin/workerd",
        "node_modules/@cloudflare/workerd-darwin-64/bin/workerd",
    ):
        p = REPO / rel
        if p.is_file() and os.access(p, os.X_OK):
            return p
    found = shutil.which("workerd")
    return Path(found) if found else None


def _capnp_str(s: str) -> str:
    """A capnp text-format string literal (UTF-8; C-style escapes, no \\u)."""
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def worker_path(worker: Worker) -> Path:
    """The Worker's file: in ``worker.root`` if set (e.g. tests/realworld/workers), else here."""
    return Path(worker.root or WORKERS_DIR) / worker.file


def worker_files(worker: Worker) -> list[str]:
    """The Worker's files: its main module first, then its other modules."""
    return [worker.file, *worker.modules]


def worker_source(worker: Worker) -> str:
    """The code isogate stores: the file, or a module set (runtime/modules.py)."""
    if not worker.modules:
        return worker_path(worker).read_text(encoding="utf-8")
    from isogate.runtime.modules import Module, ModuleSet, dumps

    root = Path(worker.root or WORKERS_DIR)
    mods = tuple(
        Module(f, "esm", (root / f).read_text(encoding="utf-8")) for f in worker_files(worker)
    )
    return dumps(ModuleSet(worker.file, mods))


#: workerd's outbound network for every corpus Worker: loopback only. workerd's default
#: "internet" service allows public addresses and refuses 127.0.0.1; tests must never
#: reach anything else, so "local" (127.0.0.0/8, ::1) is the whole allow list.
OUTBOUND_SERVICE = "loopback-only"


def bind_env(workers: Iterable[Worker], values: dict[str, str]) -> list[Worker]:
    """The Workers with ``{name}`` in env values replaced by ``values[name]``.

    Corpus env values may hold ``{upstream}``/``{closed}`` (see corpus.UPSTREAM_ENV): the
    upstream's port is only known at test time. Both runtimes get the returned Workers.
    """
    out = []
    for w in workers:
        env = []
        for k, v in w.env:
            for name, value in values.items():
                v = v.replace("{" + name + "}", value)
            env.append((k, v))
        out.append(dataclasses.replace(w, env=tuple(env)))
    return out


def upstream_env(server: Any) -> dict[str, str]:
    """Placeholder values for :func:`bind_env` from a running ``upstream.Upstream``."""
    return {"upstream": server.url, "closed": server.closed_url}


def workerd_config(workers: Iterable[Worker]) -> str:
    services = [f'    (name = {_capnp_str(OUTBOUND_SERVICE)}, network = (allow = ["local"]))']
    sockets = []
    for w in workers:
        bindings = ", ".join(f"(name = {_capnp_str(k)}, text = {_capnp_str(v)})" for k, v in w.env)
        flags = ", ".join(_capnp_str(f) for f in w.compatibility_flags)
        if w.syntax == "module":
            mods = ", ".join(
                f"(name = {_capnp_str(f)}, esModule = embed {_capnp_str(f)})"
                for f in worker_files(w)
            )
            code = f"modules = [{mods}]"
        else:
            code = f"serviceWorkerScript = embed {_capnp_str(w.file)}"
        services.append(
            f"    (name = {_capnp_str(w.name)}, worker = ({code},\n"
            f"      compatibilityDate = {_capnp_str(COMPATIBILITY_DATE)},\n"
            f"      compatibilityFlags = [{flags}],\n"
            f"      globalOutbound = {_capnp_str(OUTBOUND_SERVICE)},\n"
            f"      bindings = [{bindings}]))"
        )
        sockets.append(
            f'    (name = {_capnp_str(w.name)}, address = "127.0.0.1:0", http = (),'
            f" service = {_capnp_str(w.name)})"
        )
    return (
        'using Workerd = import "/workerd/workerd.capnp";\n\n'
        "const config :Workerd.Config = (\n"
        "  services = [\n" + ",\n".join(services) + "\n  ],\n"
        "  sockets = [\n" + ",\n".join(sockets) + "\n  ]\n"
        ");\n"
    )


def _die_with_parent() -> None:
    """In the child: SIGTERM when pytest dies (e.g. a segfault skips fixture teardown)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass(slots=True)
class Observed:
    """One response, reduced to what is compared."""

    status: int
    status_text: str | None  # None: the backend cannot say
    headers: list[tuple[str, str]]  # wire order, transport headers removed
    body: bytes
    error: str | None = None  # an error outcome instead of a response (isogate)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # transport headers seen


@dataclass(frozen=True, slots=True)
class Exchange:
    """The request as sent to workerd (and then given to isogate) and workerd's answer."""

    request: InvokeRequest
    response: Observed


class Workerd:
    """A ``workerd serve`` process serving every corpus Worker, each on its own port."""

    def __init__(self, workers: list[Worker], binary: Path) -> None:
        self.workers = workers
        self.binary = binary
        self.ports: dict[str, int] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="isogate-workerd-")
        self._log = Path(self._tmp.name) / "workerd.log"
        self._client: httpx.Client | None = None

    # -- lifecycle
    def start(self, timeout: float = 30.0) -> None:
        tmp = Path(self._tmp.name)
        for w in self.workers:
            for f in worker_files(w):
                (tmp / f).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(w.root or WORKERS_DIR) / f, tmp / f)
        (tmp / "config.capnp").write_text(workerd_config(self.workers), encoding="utf-8")
        socks: list[socket.socket] = []
        args = [str(self.binary), "serve", "config.capnp"]
        for w in self.workers:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            s.listen(128)
            socks.append(s)
            self.ports[w.name] = s.getsockname()[1]
            args.append(f"--socket-fd={w.name}={s.fileno()}")
        ctl_r, ctl_w = os.pipe()
        args.append(f"--control-fd={ctl_w}")
        log = self._log.open("wb")
        try:
            self._proc = subprocess.Popen(
                args,
                cwd=tmp,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=[s.fileno() for s in socks] + [ctl_w],
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()
            os.close(ctl_w)
            for s in socks:  # workerd holds its own copies now
                s.close()
        # Ready when workerd has reported every socket listening on the control fd.
        pending = {w.name for w in self.workers}
        deadline = time.monotonic() + timeout
        buf = b""
        try:
            while pending:
                left = deadline - time.monotonic()
                if left <= 0 or self._proc.poll() is not None:
                    raise RuntimeError(
                        f"workerd did not start (exit={self._proc.poll()}):\n{self.log_text()}"
                    )
                ready, _, _ = select.select([ctl_r], [], [], min(left, 0.2))
                if not ready:
                    continue
                chunk = os.read(ctl_r, 65536)
                if not chunk:
                    continue
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    with contextlib.suppress(ValueError):
                        msg = json.loads(line)
                        if msg.get("event") == "listen":
                            pending.discard(msg.get("socket"))
        finally:
            os.close(ctl_r)
        client = httpx.Client(timeout=15.0, follow_redirects=False, trust_env=False)
        client.headers.clear()  # no user-agent/accept/accept-encoding/connection defaults
        self._client = client

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._proc = None
        self._tmp.cleanup()

    def log_text(self) -> str:
        try:
            return self._log.read_text(errors="replace")[-20000:]
        except OSError:
            return ""

    # -- requests
    def exchange(self, worker: Worker, case: Case) -> Exchange:
        assert self._client is not None, "workerd not started"
        port = self.ports[worker.name]
        self._client.cookies.clear()  # httpx would replay set-cookie from earlier cases
        req = self._client.build_request(
            case.method,
            f"http://127.0.0.1:{port}{case.path}",
            headers=list(case.headers),
            content=case.body if case.body or case.method not in ("GET", "HEAD") else None,
        )
        # What workerd's Worker sees: the URL parsed from "http://" + Host + target,
        # and the wire headers (the Worker sees them lower-cased; so does an ASGI app).
        target = req.url.raw_path.decode("ascii")
        url = f"http://{req.headers['host']}{target}"
        wire = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in req.headers.raw]
        resp = self._client.send(req, stream=True)
        try:
            body = b"".join(resp.iter_raw())
        finally:
            resp.close()
        headers: list[tuple[str, str]] = []
        dropped: list[tuple[str, str]] = []
        for k, v in resp.headers.raw:
            name = k.decode("latin-1")
            pair = (name if COMPARE_HEADER_CASE else name.lower(), v.decode("latin-1"))
            (dropped if name.lower() in TRANSPORT_HEADERS else headers).append(pair)
        observed = Observed(
            status=resp.status_code,
            status_text=resp.reason_phrase,
            headers=headers,
            body=body,
            dropped=dropped,
        )
        return Exchange(
            request=InvokeRequest(method=req.method, url=url, headers=tuple(wire), body=case.body),
            response=observed,
        )


# --------------------------------------------------------------------------- isogate


class IsogateBackend(Protocol):
    name: str

    def invoke(self, worker: Worker, request: InvokeRequest) -> InvokeResult: ...

    def close(self) -> None: ...


def function_ref(worker: Worker) -> FunctionRef:
    source = worker_source(worker)
    return FunctionRef(
        name=worker.name,
        version=1,
        tenant="conformance",
        sha256=hashlib.sha256(source.encode()).hexdigest(),
        env=tuple(worker.env),
        source=source,
    )


#: Where a test's Workers may fetch: the loopback upstream (tests/conformance/upstream.py).
EGRESS_ALLOW = ("127.0.0.1",)


def make_runtime(code_loader: Any) -> Any:
    """THE place the tests build isogate's ``Runtime`` (conformance and realworld).

    Workers here fetch from a loopback upstream, which the default egress policy
    refuses: the operator's allow list (setting ``egress.allow``) is given as an
    argument, not by setting ``ISOGATE_EGRESS__ALLOW`` here, which would leak into every
    later test of the session (e.g. one checking that 127.0.0.1 is refused by default).
    """
    from isogate.config.egress import EgressSettings
    from isogate.config.runtime import RuntimeSettings
    from isogate.runtime import Runtime

    settings = RuntimeSettings(
        workers=1, threads_per_worker=2, default_timeout_ms=5000, default_cpu_ms=5000
    )
    egress = EgressSettings(allow=list(EGRESS_ALLOW))
    return Runtime(settings, code_loader=code_loader, egress=egress)


class RuntimeBackend:
    """The real path: ``isogate.runtime.Runtime`` (worker processes), on its own loop thread."""

    name = "runtime"

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._refs: dict[str, FunctionRef] = {}

        async def load_code(ref: FunctionRef) -> str:  # used only if the runtime asks
            return worker_source(_WORKERS_BY_NAME[ref.name])

        self._rt = make_runtime(load_code)
        self._run(self._rt.start())

    def _run(self, coro: Any, timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def invoke(self, worker: Worker, request: InvokeRequest) -> InvokeResult:
        worker = _WORKERS_BY_NAME.get(worker.name, worker)  # env bound to the upstream
        ref = self._refs.get(worker.name) or self._refs.setdefault(
            worker.name, function_ref(worker)
        )
        return self._run(self._rt.invoke(ref, request))

    def close(self) -> None:
        try:
            self._run(self._rt.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()


class EngineBackend:
    """One in-process isolate per Worker: ``isogate.runtime.engine.Engine``."""

    name = "engine"

    def __init__(self) -> None:
        from isogate.runtime import engine as engine_mod

        self._mod = engine_mod
        self._engines: dict[str, Any] = {}

    def _guarded(self, eng: Any, fn: Any, *args: Any) -> Any:
        # NOTE: an exception escaping the Engine (e.g. a JS error thrown out of the
        # prelude) carries stpyv8 objects; when the cyclic GC later frees them on
        # another thread the process segfaults. Engine bug, reported; the Runtime
        # backend (the default) is immune because isolates live in worker processes.
        try:
            return fn(*args)
        except Exception as exc:
            raise RuntimeError(f"{type(exc).__name__}: {str(exc)[:2000]}") from None

    def _engine(self, worker: Worker) -> Any:
        eng = self._engines.get(worker.name)
        if eng is None:
            eng = self._mod.Engine()
            self._engines[worker.name] = eng
            load = self._guarded(eng, eng.load, worker_source(worker), dict(worker.env))
            if load.outcome is not Outcome.OK:
                return load
        return eng

    def invoke(self, worker: Worker, request: InvokeRequest) -> InvokeResult:
        worker = _WORKERS_BY_NAME.get(worker.name, worker)  # env bound to the upstream
        eng = self._engine(worker)
        if isinstance(eng, InvokeResult):  # the load failed: that is the result
            del self._engines[worker.name]
            return eng
        return self._guarded(eng, eng.invoke, request)

    def close(self) -> None:
        for eng in self._engines.values():
            close = getattr(eng, "close", None)
            if close is not None:
                close()
        self._engines.clear()


class WorkerdBackend:
    """A second workerd standing in for isogate: the corpus compared with itself.

    ``ISOGATE_CONFORMANCE_BACKEND=workerd`` calibrates the measuring stick: every case
    must pass, which shows the answers are deterministic (same request, same bytes,
    same sink records) and that the request handed to isogate (method, URL via the
    ``host`` header, wire headers, body) carries everything the Worker sees.
    """

    name = "workerd"

    def __init__(self, workers: list[Worker]) -> None:
        binary = workerd_binary()
        if binary is None:
            raise RuntimeError("workerd not installed")
        self._server = Workerd(workers, binary)
        self._server.start()
        self._client = httpx.Client(timeout=15.0, follow_redirects=False, trust_env=False)
        self._client.headers.clear()

    def invoke(self, worker: Worker, request: InvokeRequest) -> InvokeResult:
        port = self._server.ports[worker.name]
        target = request.url.split("/", 3)[3] if request.url.count("/") >= 3 else ""
        self._client.cookies.clear()  # httpx would replay set-cookie from earlier answers
        # The original host header goes along, so request.url is the same in the Worker.
        req = self._client.build_request(
            request.method,
            f"http://127.0.0.1:{port}/{target}",
            headers=list(request.headers),
            content=request.body or None,
        )
        resp = self._client.send(req, stream=True)
        try:
            body = b"".join(resp.iter_raw())
        finally:
            resp.close()
        headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in resp.headers.raw)
        if resp.status_code == 500 and body == b"Internal Server Error":
            return InvokeResult(outcome=Outcome.JS_ERROR, detail="workerd: uncaught exception")
        text = resp.reason_phrase
        return InvokeResult(
            outcome=Outcome.OK,
            status=resp.status_code,
            headers=headers,
            body=body,
            status_text="" if text == default_reason(resp.status_code) else text,
        )

    def close(self) -> None:
        self._client.close()
        self._server.stop()


_WORKERS_BY_NAME: dict[str, Worker] = {}


def make_isogate_backend(workers: list[Worker]) -> IsogateBackend | str:
    """THE switch. ISOGATE_CONFORMANCE_BACKEND = runtime | engine | auto (default), or
    ``workerd`` (workerd against itself: calibrates the corpus, see WorkerdBackend).

    Returns a backend, or a string saying why none is available (tests then skip the
    isogate half and only check workerd).
    """
    _WORKERS_BY_NAME.update({w.name: w for w in workers})
    choice = os.environ.get("ISOGATE_CONFORMANCE_BACKEND", "auto")
    errors = []
    order = ["runtime", "engine"] if choice == "auto" else [choice]
    for kind in order:
        try:
            if kind == "workerd":
                return WorkerdBackend(list(workers))
            return RuntimeBackend() if kind == "runtime" else EngineBackend()
        except Exception as exc:  # not written yet, or failed to start
            errors.append(f"{kind}: {type(exc).__name__}: {exc}")
    return "no isogate backend: " + "; ".join(errors)


def observe_isogate(result: InvokeResult) -> Observed:
    if result.outcome is not Outcome.OK:
        err = f"{result.outcome.value}"
        if result.error is not None:
            err += f": {result.error.name}: {result.error.message}"
        elif result.detail:
            err += f": {result.detail}"
        return Observed(status=0, status_text=None, headers=[], body=b"", error=err)
    headers: list[tuple[str, str]] = []
    dropped: list[tuple[str, str]] = []
    for k, v in result.headers:
        pair = (k if COMPARE_HEADER_CASE else k.lower(), v)
        (dropped if k.lower() in TRANSPORT_HEADERS else headers).append(pair)
    status_text = getattr(result, "status_text", None)
    if status_text is None:
        status_text = getattr(result, "statusText", None)
    if status_text == "":
        # The Worker chose no text: a server sends its own standard phrase, which
        # varies between servers (workerd's table, Hypercorn's, none over HTTP/2).
        status_text = None
    return Observed(
        status=result.status,
        status_text=status_text,
        headers=headers,
        body=bytes(result.body),
        dropped=dropped,
    )


def default_reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


# --------------------------------------------------------------------------- comparing


def _show_body(b: bytes) -> list[str]:
    try:
        text = b.decode("utf-8")
    except UnicodeDecodeError:
        return [f"<{len(b)} bytes> {b[:2048].hex(' ')}" + (" ..." if len(b) > 2048 else "")]
    if text.startswith(("{", "[")):
        with contextlib.suppress(ValueError):
            return json.dumps(json.loads(text), indent=1, ensure_ascii=False).splitlines()
    return text.splitlines() or [""]


def _json_diff(a: Any, b: Any, path: str = "$") -> list[str]:
    """Leaf-level differences between two JSON values, as ``path: workerd X, isogate Y``."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in list(a) + [k for k in b if k not in a]:
            if k not in b:
                out.append(
                    f"{path}.{k}: workerd {json.dumps(a[k], ensure_ascii=False)}, isogate <missing>"
                )
            elif k not in a:
                out.append(
                    f"{path}.{k}: workerd <missing>, isogate {json.dumps(b[k], ensure_ascii=False)}"
                )
            else:
                out.extend(_json_diff(a[k], b[k], f"{path}.{k}"))
        if not out and list(a) != list(b):
            out.append(f"{path}: key order workerd {list(a)}, isogate {list(b)}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            label = f"{path}[{i}]"
            if isinstance(x, dict) and "input" in x:  # URL tables: name the element
                label += f"<{json.dumps(x['input'], ensure_ascii=False)}>"
            out.extend(_json_diff(x, y, label))
        return out
    if a != b or type(a) is not type(b):
        return [
            f"{path}: workerd {json.dumps(a, ensure_ascii=False)}, "
            f"isogate {json.dumps(b, ensure_ascii=False)}"
        ]
    return []


def compare(case: Case, expected: Observed, actual: Observed) -> list[str]:
    """Differences between workerd's response (expected) and isogate's, as report lines."""
    diffs: list[str] = []
    if case.expect_error:
        # workerd answers an uncaught exception / non-Response with a bare 500
        # "Internal Server Error"; isogate reports it as Outcome.JS_ERROR and the gateway
        # maps that to its own error response. So: workerd must say 500, isogate js_error.
        if expected.status != 500:
            diffs.append(f"workerd status {expected.status}, expected 500 for a thrown error")
        if actual.error is None or not actual.error.startswith(Outcome.JS_ERROR.value):
            got = actual.error or f"a {actual.status} response"
            diffs.append(f"isogate gave {got}, expected outcome js_error")
        return diffs
    if actual.error is not None:
        return [f"isogate failed: {actual.error}"]
    if expected.status != actual.status:
        diffs.append(f"status: workerd {expected.status}, isogate {actual.status}")
    if actual.status_text is None:
        pass  # no text chosen: the standard phrase is the server's business
    elif expected.status_text != actual.status_text:
        diffs.append(
            f"status text: workerd {expected.status_text!r}, isogate {actual.status_text!r}"
        )
    if expected.headers != actual.headers:
        diffs.append("headers (workerd --- / isogate +++):")
        diffs.extend(
            "  " + line
            for line in difflib.unified_diff(
                [f"{k}: {v}" for k, v in expected.headers],
                [f"{k}: {v}" for k, v in actual.headers],
                "workerd",
                "isogate",
                lineterm="",
                n=20,
            )
        )
    if expected.body != actual.body:
        diffs.append(f"body differs ({len(expected.body)} vs {len(actual.body)} bytes)")
        try:
            a, b = json.loads(expected.body), json.loads(actual.body)
        except ValueError:
            pass
        else:
            leaves = _json_diff(a, b)
            diffs.append(f"  JSON differences ({len(leaves)}):")
            diffs.extend("    " + line for line in leaves[:60])
            if len(leaves) > 60:
                diffs.append(f"    ... {len(leaves) - 60} more")
        diffs.append("  text diff (workerd --- / isogate +++):")
        diffs.extend(
            "  " + line
            for line in difflib.unified_diff(
                _show_body(expected.body),
                _show_body(actual.body),
                "workerd",
                "isogate",
                lineterm="",
                n=3,
            )
        )
        diffs.append(f"  workerd raw: {expected.body[:600]!r}")
        diffs.append(f"  isogate raw: {actual.body[:600]!r}")
    return diffs


# --------------------------------------------------------------------------- one case, both sides


def _sink_diffs(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> list[str]:
    if expected == actual:
        return []
    lines = ["webhook sink records differ (workerd --- / isogate +++):"]
    lines.extend(
        "  " + line
        for line in difflib.unified_diff(
            json.dumps(expected, indent=1, ensure_ascii=False).splitlines(),
            json.dumps(actual, indent=1, ensure_ascii=False).splitlines(),
            "workerd",
            "isogate",
            lineterm="",
            n=3,
        )
    )
    return lines


def check_workerd_serves(
    workerd: Workerd, worker: Worker, case: Case, upstream: Any = None
) -> Exchange:
    """The case is sane on the reference: no unexpected 500s, no missing routes, and the
    sink records it promises arrive. Returns the exchange for further checks."""
    if upstream is not None:
        upstream.reset()
    ex = workerd.exchange(worker, case)
    r = ex.response
    if case.expect_error:
        assert r.status == 500, f"expected workerd to fail with 500, got {r.status}: {r.body!r}"
    else:
        assert r.status != 500 or r.body != b"Internal Server Error", (
            f"workerd failed on {worker.name}:{case.label}:\n{workerd.log_text()[-3000:]}"
        )
        assert r.body != b"no route", "the case's path has no route in the Worker"
    if case.expect_status is not None:
        assert r.status == case.expect_status, (
            f"workerd answered {r.status}, expected {case.expect_status}: {r.body[:2000]!r}\n"
            f"{workerd.log_text()[-2000:]}"
        )
    if case.expect_in_body is not None:
        assert case.expect_in_body.encode() in r.body, (
            f"{case.expect_in_body!r} not in workerd's body: {r.body[:2000]!r}"
        )
    if case.sink:
        assert upstream is not None, "a case with sink records needs the upstream"
        got = upstream.wait_sink(case.sink)
        assert len(got) == case.sink, f"sink got {len(got)} records, expected {case.sink}: {got}"
    return ex


def check_isogate_matches(
    workerd: Workerd,
    isogate: IsogateBackend | str,
    worker: Worker,
    case: Case,
    upstream: Any = None,
) -> None:
    """Same request to workerd, then to isogate; fail the test with a diff if they differ.

    With an ``upstream`` (tests/conformance/upstream.py) its state is reset before each
    side (flaky counters, sink), so both sides see the same upstream, and the sink
    records of ``case.sink`` are compared as well.
    """
    import pytest

    if isinstance(isogate, str):
        if os.environ.get("CI"):
            pytest.fail(isogate, pytrace=False)
        pytest.skip(isogate)
    if upstream is not None:
        upstream.reset()
    ex = workerd.exchange(worker, case)
    want_sink = upstream.wait_sink(case.sink) if upstream is not None and case.sink else []
    if upstream is not None:
        upstream.reset()
    try:
        result = isogate.invoke(worker, ex.request)
    except Exception as exc:  # the backend itself broke: still a clear, per-case failure
        pytest.fail(
            f"{worker.name}:{case.label}: isogate ({isogate.name}) raised "
            f"{type(exc).__name__}: {str(exc)[:2000]}",
            pytrace=False,
        )
    got_sink: list[dict[str, Any]] = []
    if upstream is not None and case.sink:
        # Wait for the follow-up only when there was a response to follow up on.
        ok = result.outcome is Outcome.OK
        got_sink = upstream.wait_sink(case.sink, timeout=5.0 if ok else 0.0)
    actual = observe_isogate(result)
    diffs = compare(case, ex.response, actual) + _sink_diffs(want_sink, got_sink)
    if diffs:
        logs = "\n".join(f"  {line}" for line in result.logs)
        pytest.fail(
            f"{worker.name}:{case.label} differs ({isogate.name}):\n"
            f"request: {ex.request.method} {ex.request.url} headers={list(ex.request.headers)}"
            f" body={ex.request.body[:200]!r}\n"
            + "\n".join(diffs)
            + (f"\nisogate console:\n{logs}" if logs else ""),
            pytrace=False,
        )
