"""What a Python service needs to be a member of a Carotene app, on Debian's grpcio alone.

`carrot dev` (and the generated Kubernetes manifests) start the service with its place in
the app in the environment: where to listen, its certificate from the app's CA, where the
generated `.proto` files are and where each service it calls listens. This module reads
that, generates the Python stubs from the `.proto` files at start-up (protoc and its gRPC
plugin), serves with mutual TLS, admits only the callers the app declared, maps errors to
gRPC statuses with the declared code in the status details (google.rpc.ErrorInfo, as every
Carotene service does), forwards deadlines, trace context and request ids to the services
it calls, and serves the gRPC health checking protocol.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

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
        proto_dir = Path(need("CAROTENE_PROTO_DIR"))
        missing = [c for c in contracts if not (proto_dir / f"{c}.proto").exists()]
        if missing:
            fail(f"no {', '.join(m + '.proto' for m in missing)} in {proto_dir}: run 'carrot contracts proto'")
        out = generate_stubs(proto_dir, [f"{c}.proto" for c in contracts])
        sys.path.insert(0, str(out))
        self._stubs = {c: Stubs(importlib.import_module(f"{module(c)}_pb2"), importlib.import_module(f"{module(c)}_pb2_grpc")) for c in contracts}
        self.status_pb2 = importlib.import_module("carotene_std.google_rpc_status_pb2")
        self.health_pb2 = importlib.import_module("carotene_std.grpc_health_v1_pb2")
        self.health_grpc = importlib.import_module("carotene_std.grpc_health_v1_pb2_grpc")
        self._channels: dict[str, grpc.Channel] = {}
        self._lock = threading.Lock()

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
                self._channels[peer] = grpc.secure_channel(target, credentials, options=[("grpc.ssl_target_name_override", peer)])
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
        self.health_grpc.add_HealthServicer_to_server(_Health(self, service_name), server)
        credentials = grpc.ssl_server_credentials([(self.key, self.cert)], root_certificates=self.ca, require_client_auth=True)
        bound = server.add_secure_port(f"{self.host}:{self.port}", credentials)
        if bound == 0:
            fail(f"cannot listen on {self.host}:{self.port}")
        server.start()
        log("info", "listening", url=f"https://{self.host}:{bound}", protocol="grpc", service_name=service_name)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
        server.stop(grace=5).wait()
        log("info", "stopped")


class _Guarded:
    """The servicer with every RPC method wrapped by the caller check and error mapping."""

    def __init__(self, servicer: Any, guard: Callable[[str, Callable[..., Any]], Callable[..., Any]]):
        self._servicer = servicer
        self._guard = guard

    def __getattr__(self, name: str) -> Any:
        return self._guard(name, getattr(self._servicer, name))


class _Health:
    """grpc.health.v1: SERVING for "" and this service's full name; any identity of the app may ask."""

    def __init__(self, member: Member, service_name: str):
        self._member = member
        self._names = {"", service_name}

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
