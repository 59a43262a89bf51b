"""What a Python service needs to be a member of a Carotene app, on Debian's grpcio alone.

`carrot dev` (and the generated Kubernetes manifests) start the service with its place in
the app in the environment: where to listen, its certificate from the app's CA, where the
generated `.proto` files are and where each service it calls listens. This module reads
that, generates the Python stubs from the `.proto` files at start-up (protoc and its gRPC
plugin), serves with mutual TLS, admits only the callers the app declared, maps errors to
gRPC statuses with the declared code in the status details (google.rpc.ErrorInfo, as every
Carotene service does), forwards deadlines, trace context and request ids to the services
it calls, and serves the gRPC health checking protocol.

Events travel as CloudEvents over `carotene.events.v1.Events/Deliver` (docs/grpc.md,
"Events"): a subscriber's handlers run in the same SQLite transaction that records the
event's id, so a redelivery is acknowledged and not handled twice; an event published with
`publish` is kept in an outbox table in the caller's transaction and pushed to every
subscriber until it answers OK.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import grpc

HERE = Path(__file__).resolve().parent
TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


# The gRPC status of a declared error, by the HTTP status the contract gives it (as Carotene services map them, docs/grpc.md).
STATUS_OF_HTTP = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    402: grpc.StatusCode.FAILED_PRECONDITION,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.FAILED_PRECONDITION,
    410: grpc.StatusCode.NOT_FOUND,
    422: grpc.StatusCode.FAILED_PRECONDITION,
    423: grpc.StatusCode.FAILED_PRECONDITION,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


class Rejection(Exception):
    """A declared domain error of the contract (`errors: { NOT_FOUND: 404 }`)."""

    def __init__(self, code: str, message: str, http_status: int):
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.status = STATUS_OF_HTTP.get(http_status, grpc.StatusCode.FAILED_PRECONDITION)


class InvalidInput(Exception):
    """The input breaks the contract: `path` names the field (`input.id`)."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path




def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def need(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        fail(f"environment variable {name} is required (carrot dev and the manifests set it)")
    return value  # type: ignore[return-value]


LEVELS = {"debug": 20, "info": 30, "warn": 40, "error": 50}


def log(level: str, msg: str, **fields: Any) -> None:
    """One JSON line, with the numeric levels of the other services' logs (carrot dev shows errors)."""
    print(json.dumps({"level": LEVELS[level], "time": int(time.time() * 1000), "service": os.environ.get("CAROTENE_SERVICE"), "msg": msg, **fields}), flush=True)


@dataclass(frozen=True)
class Stubs:
    pb2: Any
    grpc: Any


EVENT_PROTOS = ["carotene/events/v1/cloudevents.proto", "carotene/events/v1/events.proto"]


def generate_stubs(proto_dir: Path, files: list[str]) -> Path:
    """Runs protoc once over the app's `.proto` files and this module's own; returns where the modules are."""
    protoc = shutil.which(os.environ.get("PROTOC", "protoc"))
    plugin = shutil.which(os.environ.get("GRPC_PYTHON_PLUGIN", "grpc_python_plugin"))
    if not protoc or not plugin:
        fail("protoc and grpc_python_plugin are needed to generate the stubs (Debian: apt-get install protobuf-compiler protobuf-compiler-grpc)")
    out = Path(tempfile.mkdtemp(prefix="carotene-stubs-"))
    # google.rpc.Status and grpc.health.v1 under a folder of their own: a `google` or `grpc` folder would hide the installed packages
    own = ["carotene_std/google_rpc_status.proto", "carotene_std/grpc_health_v1.proto"]
    args = [protoc, f"--plugin=protoc-gen-grpc_python={plugin}", f"-I{proto_dir}", f"-I{HERE / 'protos'}", "-I/usr/include", f"--python_out={out}", f"--grpc_python_out={out}", *files, *own]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"protoc failed on {', '.join(files)}: {done.stderr.strip()}")
    (out / "carotene_std" / "__init__.py").touch()
    return out


class Member:
    """This process as a member of the app: its identity, credentials, peers and stubs."""

    def __init__(self, contracts: list[str]):
        self.app = need("CAROTENE_APP")
        self.service = need("CAROTENE_SERVICE")
        self.host = os.environ.get("CAROTENE_HOST") or "127.0.0.1"
        port = need("CAROTENE_PORT")
        if not port.isdigit() or int(port) > 65535:
            fail(f"CAROTENE_PORT must be a port number, got '{port}'")
        self.port = int(port)
        self.ca = Path(need("CAROTENE_TLS_CA")).read_bytes()
        self.cert = Path(need("CAROTENE_TLS_CERT")).read_bytes()
        self.key = Path(need("CAROTENE_TLS_KEY")).read_bytes()
        self.callers = {c for c in os.environ.get("CAROTENE_ALLOWED_CALLERS", "").split(",") if c}
        # where to push each event type it publishes, and whose events it may be handed
        self.subscribers: dict[str, list[str]] = json.loads(os.environ.get("CAROTENE_EVENT_SUBSCRIBERS") or "{}")
        self.publishers = {p for p in os.environ.get("CAROTENE_EVENT_PUBLISHERS", "").split(",") if p}
        self._handlers: dict[str, Callable[[sqlite3.Connection, dict], None]] = {}
        proto_dir = Path(need("CAROTENE_PROTO_DIR"))
        files = [f"{c}.proto" for c in contracts] + (EVENT_PROTOS if self.subscribers or self.publishers else [])
        missing = [f for f in files if not (proto_dir / f).exists()]
        if missing:
            fail(f"no {', '.join(missing)} in {proto_dir}: run 'carrot contracts proto'")
        out = generate_stubs(proto_dir, files)
        sys.path.insert(0, str(out))
        self._stubs = {c: Stubs(importlib.import_module(f"{module(c)}_pb2"), importlib.import_module(f"{module(c)}_pb2_grpc")) for c in contracts}
        self.status_pb2 = importlib.import_module("carotene_std.google_rpc_status_pb2")
        self.health_pb2 = importlib.import_module("carotene_std.grpc_health_v1_pb2")
        self.health_grpc = importlib.import_module("carotene_std.grpc_health_v1_pb2_grpc")
        if self.subscribers or self.publishers:
            self.events_pb2 = importlib.import_module("carotene.events.v1.events_pb2")
            self.events_grpc = importlib.import_module("carotene.events.v1.events_pb2_grpc")
            self.cloudevents_pb2 = importlib.import_module("carotene.events.v1.cloudevents_pb2")
        self._channels: dict[str, grpc.Channel] = {}
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._db_lock = threading.RLock()
        self._wake = threading.Event()

    def stubs(self, contract: str) -> Stubs:
        return self._stubs[contract]

    # --- calling other services -------------------------------------------------------------

    def channel(self, peer: str) -> grpc.Channel:
        """One channel per peer, mutual TLS with this service's certificate; the server must be `peer`."""
        with self._lock:
            if peer not in self._channels:
                url = need(f"CAROTENE_PEER_{peer.upper().replace('-', '_')}_URL")
                target = re.sub(r"^[a-z]+://", "", url).rstrip("/")
                credentials = grpc.ssl_channel_credentials(root_certificates=self.ca, private_key=self.key, certificate_chain=self.cert)
                # a restarted peer is found again within seconds (the library's default backoff reaches two minutes)
                options = [("grpc.ssl_target_name_override", peer), ("grpc.initial_reconnect_backoff_ms", 200), ("grpc.max_reconnect_backoff_ms", 5000)]
                self._channels[peer] = grpc.secure_channel(target, credentials, options=options)
            return self._channels[peer]

    def forward(self, context: grpc.ServicerContext) -> dict[str, Any]:
        """What a call made while serving `context` carries: what is left of the deadline, a child trace context, the request id."""
        incoming = dict(context.invocation_metadata())
        metadata = []
        parent = TRACEPARENT.match(incoming.get("traceparent", ""))
        if parent and parent.group(1) != "ff":
            metadata.append(("traceparent", f"00-{parent.group(2)}-{secrets.token_hex(8)}-{parent.group(4)}"))
            if incoming.get("tracestate"):
                metadata.append(("tracestate", incoming["tracestate"]))
        request_id = incoming.get("x-request-id", "")
        if REQUEST_ID.match(request_id):
            metadata.append(("x-request-id", request_id))
        left = context.time_remaining()
        return {"timeout": left if left is not None else 10.0, "metadata": metadata}

    def error_code(self, error: grpc.RpcError) -> str | None:
        """The declared error code a service answered with (google.rpc.ErrorInfo's reason), if any."""
        for key, value in error.trailing_metadata() or ():
            if key == "grpc-status-details-bin":
                status = self.status_pb2.Status.FromString(value)
                for detail in status.details:
                    info = self.status_pb2.ErrorInfo()
                    if detail.Unpack(info):
                        return info.reason
        return None

    # --- its own database and events -------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The service's SQLite database (`$CAROTENE_DATA_DIR/<service>.sqlite3`), in one transaction: committed when the block ends, rolled back on an exception."""
        with self._db_lock:
            db = self._database()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        self._wake.set()

    def _database(self) -> sqlite3.Connection:
        if self._db is None:
            folder = Path(need("CAROTENE_DATA_DIR"))
            folder.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(folder / f"{self.service}.sqlite3", isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("CREATE TABLE IF NOT EXISTS carotene_inbox (id TEXT PRIMARY KEY, type TEXT NOT NULL, received_at INTEGER NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS carotene_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, destination TEXT NOT NULL, envelope TEXT NOT NULL)")
            self._db = db
        return self._db

    def on(self, event_type: str) -> Callable[[Callable[[sqlite3.Connection, dict], None]], Callable[[sqlite3.Connection, dict], None]]:
        """Registers the handler of a subscribed event type (`orders.OrderConfirmed`): `handler(db, event)`, run once per event id, in the transaction that records it."""
        if event_type.split(".")[0] not in self.publishers:
            fail(f"{self.service} handles '{event_type}' but the app does not declare it among its subscriptions (CAROTENE_EVENT_PUBLISHERS)")

        def register(handler: Callable[[sqlite3.Connection, dict], None]) -> Callable[[sqlite3.Connection, dict], None]:
            self._handlers[event_type] = handler
            return handler

        return register

    def publish(self, db: sqlite3.Connection, event_type: str, data: Any, key: str | None = None, version: int = 1) -> str:
        """Publishes an event inside `transaction()`: kept with the block's writes, pushed to each subscriber after it commits. Returns the event id."""
        if not event_type.startswith(f"{self.service}."):
            raise ValueError(f"{self.service} publishes only its own events, not '{event_type}'")
        event_id = secrets.token_hex(16)
        envelope = {
            "id": event_id,
            "type": event_type,
            "subject": key or event_id,
            "time": time.time(),
            "version": version,
            "data": data,
            "traceparent": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01",
        }
        for destination in self.subscribers.get(event_type, []):
            db.execute("INSERT INTO carotene_outbox (destination, envelope) VALUES (?, ?)", (destination, json.dumps(envelope)))
        return event_id

    def _to_cloud_event(self, envelope: dict) -> Any:
        ce = self.cloudevents_pb2.CloudEvent(id=envelope["id"], source=f"/services/{self.service}", spec_version="1.0", type=envelope["type"])
        ce.attributes["time"].ce_timestamp.FromNanoseconds(int(envelope["time"] * 1e9))
        ce.attributes["subject"].ce_string = envelope["subject"]
        ce.attributes["datacontenttype"].ce_string = "application/json"
        ce.attributes["traceparent"].ce_string = envelope["traceparent"]
        ce.attributes["schemaversion"].ce_integer = envelope["version"]
        ce.text_data = json.dumps(envelope["data"])
        return ce

    def _relay(self, stop: threading.Event) -> None:
        """Pushes the outbox to each subscriber in order, a batch at a time; a failed push is tried again with backoff, nothing is dropped."""
        backoff: dict[str, float] = {}
        not_before: dict[str, float] = {}
        while not stop.is_set():
            with self._db_lock:
                destinations = [r[0] for r in self._database().execute("SELECT DISTINCT destination FROM carotene_outbox")]
            for destination in destinations:
                if time.monotonic() < not_before.get(destination, 0):
                    continue
                with self._db_lock:
                    rows = self._database().execute("SELECT seq, envelope FROM carotene_outbox WHERE destination = ? ORDER BY seq LIMIT 100", (destination,)).fetchall()
                request = self.events_pb2.DeliverRequest(events=[self._to_cloud_event(json.loads(e)) for _, e in rows])
                try:
                    self.events_grpc.EventsStub(self.channel(destination)).Deliver(request, timeout=10)
                except grpc.RpcError as err:
                    wait = min(backoff.get(destination, 0.1) * 2, 5.0)
                    backoff[destination] = wait
                    not_before[destination] = time.monotonic() + wait
                    log("warn", "delivery failed, retrying", destination=destination, status=err.code().name, retry_in_s=round(wait, 2))
                    continue
                backoff.pop(destination, None)
                not_before.pop(destination, None)
                with self._db_lock:
                    self._database().execute("DELETE FROM carotene_outbox WHERE destination = ? AND seq <= ?", (destination, rows[-1][0]))
            self._wake.wait(0.1 if not_before else 1.0)
            self._wake.clear()

    def _deliver(self, request: Any, context: grpc.ServicerContext) -> Any:
        caller = self._caller(context)
        if caller not in self.publishers:
            self._abort(context, grpc.StatusCode.PERMISSION_DENIED, f"'{caller}' may not deliver events to {self.service}: it subscribes to none of theirs", "CALLER_NOT_ALLOWED")
        events = []
        for i, ce in enumerate(request.events):
            if ce.source != f"/services/{caller}":
                self._abort(context, grpc.StatusCode.PERMISSION_DENIED, f"{caller} delivered '{ce.type}' from {ce.source}; a service delivers only its own events", "FORBIDDEN")
            if ce.type not in self._handlers:
                continue  # not subscribed: acknowledged, not kept
            if ce.WhichOneof("data") != "text_data":
                self._abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"events[{i}].text_data: Carotene events carry JSON as text_data", "INVALID_INPUT")
            try:
                data = json.loads(ce.text_data)
            except ValueError:
                self._abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"events[{i}].text_data: is not JSON", "INVALID_INPUT")
            attrs = ce.attributes
            events.append({
                "id": ce.id,
                "type": ce.type,
                "source": caller,
                "key": attrs["subject"].ce_string if "subject" in attrs else ce.id,
                "version": attrs["schemaversion"].ce_integer if "schemaversion" in attrs else 1,
                "data": data,
            })
        try:
            with self.transaction() as db:
                for event in events:
                    if db.execute("INSERT OR IGNORE INTO carotene_inbox (id, type, received_at) VALUES (?, ?, ?)", (event["id"], event["type"], int(time.time() * 1000))).rowcount == 0:
                        continue  # a redelivery: handled before
                    self._handlers[event["type"]](db, event)
        except InvalidInput as err:
            self._abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(err), "INVALID_INPUT")
        except Exception as err:  # the batch is not kept: the publisher delivers it again
            log("error", "event handler failed", caller=caller, error=repr(err))
            self._abort(context, grpc.StatusCode.INTERNAL, f"a handler failed: {err!r}", "INTERNAL")
        log("info", "events handled", caller=caller, received=len(request.events), handled=len(events))
        return self.events_pb2.DeliverResponse(accepted=len(request.events))

    # --- serving ----------------------------------------------------------------------------

    def _abort(self, context: grpc.ServicerContext, status: grpc.StatusCode, message: str, reason: str, declared: int | None = None) -> None:
        """Ends the call with `status`; ErrorInfo names the code, and for a declared error its HTTP status, as Carotene services do."""
        metadata = {"status": str(declared), "declared": "true"} if declared is not None else {}
        info = self.status_pb2.ErrorInfo(reason=reason, domain=self.service, metadata=metadata)
        details = self.status_pb2.Status(code=status.value[0], message=message)
        details.details.add().Pack(info)
        context.set_trailing_metadata((("grpc-status-details-bin", details.SerializeToString()),))
        context.abort(status, message)

    def _guard(self, name: str, method: Callable[[Any, grpc.ServicerContext], Any]) -> Callable[[Any, grpc.ServicerContext], Any]:
        def guarded(request: Any, context: grpc.ServicerContext) -> Any:
            started = time.monotonic()
            caller = self._caller(context)
            if caller not in self.callers:
                log("warn", "caller refused", fn=name, caller=caller)
                self._abort(context, grpc.StatusCode.PERMISSION_DENIED, f"'{caller}' may not call {self.service}: the app does not declare it as a caller", "CALLER_NOT_ALLOWED")
            try:
                answer = method(request, context)
            except InvalidInput as err:
                self._abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(err), "INVALID_INPUT")
            except Rejection as err:
                self._abort(context, err.status, err.message, err.code, err.http_status)
            except grpc.RpcError as err:
                # a call of ours failed in a way the handler did not handle
                code = err.code() if callable(getattr(err, "code", None)) else grpc.StatusCode.UNKNOWN
                if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                    self._abort(context, code, "the deadline passed while waiting for a call", "DEADLINE_EXCEEDED")
                log("error", "call failed", fn=name, status=code.name, details=err.details() if callable(getattr(err, "details", None)) else "")
                self._abort(context, grpc.StatusCode.UNAVAILABLE, f"a dependency failed: {code.name}", "UNAVAILABLE")
            log("info", "served", fn=name, caller=caller, ms=round((time.monotonic() - started) * 1000, 2))
            return answer

        return guarded

    def _caller(self, context: grpc.ServicerContext) -> str:
        for spiffe in context.auth_context().get("peer_spiffe_id", []):
            prefix = f"spiffe://{self.app}/"
            text = spiffe.decode()
            if text.startswith(prefix):
                return text[len(prefix):]
        return "(no identity)"

    def serve(self, contract: str, servicer: Any) -> None:
        """Serves `servicer` (a subclass of the generated `<Service>Servicer`) and health until SIGTERM."""
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=[("grpc.max_receive_message_length", 4 * 1024 * 1024)])
        stubs = self.stubs(contract)
        service_name = stubs.pb2.DESCRIPTOR.services_by_name[next(iter(stubs.pb2.DESCRIPTOR.services_by_name))].full_name
        guarded = _Guarded(servicer, self._guard)
        add = next(getattr(stubs.grpc, n) for n in dir(stubs.grpc) if n.startswith("add_") and n.endswith("Servicer_to_server"))
        add(guarded, server)
        names = [service_name]
        if self.publishers:
            self.events_grpc.add_EventsServicer_to_server(_Events(self), server)
            names.append("carotene.events.v1.Events")
        self.health_grpc.add_HealthServicer_to_server(_Health(self, names), server)
        credentials = grpc.ssl_server_credentials([(self.key, self.cert)], root_certificates=self.ca, require_client_auth=True)
        bound = server.add_secure_port(f"{self.host}:{self.port}", credentials)
        if bound == 0:
            fail(f"cannot listen on {self.host}:{self.port}")
        server.start()
        log("info", "listening", url=f"https://{self.host}:{bound}", protocol="grpc", service_name=service_name)
        stop = threading.Event()
        relay = None
        if self.subscribers:
            relay = threading.Thread(target=self._relay, args=(stop,), name="carotene-relay", daemon=True)
            relay.start()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: (stop.set(), self._wake.set()))
        stop.wait()
        if relay:
            relay.join(timeout=5)
        server.stop(grace=5).wait()
        log("info", "stopped")


class _Guarded:
    """The servicer with every RPC method wrapped by the caller check and error mapping."""

    def __init__(self, servicer: Any, guard: Callable[[str, Callable[..., Any]], Callable[..., Any]]):
        self._servicer = servicer
        self._guard = guard

    def __getattr__(self, name: str) -> Any:
        return self._guard(name, getattr(self._servicer, name))


class _Events:
    """carotene.events.v1.Events: Deliver, admitted for the publishers of the events it subscribes to."""

    def __init__(self, member: Member):
        self._member = member

    def Deliver(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._member._deliver(request, context)


class _Health:
    """grpc.health.v1: SERVING for "" and the full names of what it serves; any identity of the app may ask."""

    def __init__(self, member: Member, service_names: list[str]):
        self._member = member
        self._names = {"", *service_names}

    def Check(self, request: Any, context: grpc.ServicerContext) -> Any:
        pb2 = self._member.health_pb2
        if not self._member._caller(context).startswith("("):
            if request.service in self._names:
                return pb2.HealthCheckResponse(status=pb2.HealthCheckResponse.SERVING)
            context.abort(grpc.StatusCode.NOT_FOUND, f"no service '{request.service}' here")
        context.abort(grpc.StatusCode.PERMISSION_DENIED, "only identities of the app may ask")

    def Watch(self, request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "Watch is not served; poll Check")


def module(contract: str) -> str:
    return contract.replace("-", "_")
