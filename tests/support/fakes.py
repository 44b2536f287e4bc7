"""Local stand-ins for the provider APIs we cannot reach in tests (Twilio, Telegram, Meta Graph).

Each fake is a real HTTP server on 127.0.0.1 (a free port) that records every request and answers
like the provider does, including its error shapes. `fail_next` makes the next requests fail;
`delay_s` slows every answer (for timeouts). Also: helpers that sign inbound webhooks the way the
providers do, and the recorded payloads under tests/fixtures/providers/.

    with FakeTelegram("123:abc") as fake:
        adapter = TelegramAdapter("123:abc", "secret", api_base=fake.base_url)
        ...
        assert fake.requests[0].path == "/bot123:abc/sendMessage"
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from twilio.request_validator import RequestValidator

from bot.web.forwarded import networks
from bot.web.webhooks import webhook_request
from connectors.base import ChannelAdapter, Incoming, WebhookRejected

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "providers"
Answer = tuple[int, Any, dict[str, str]]


def fixture(name: str) -> bytes:
    """The raw bytes of a recorded provider payload."""
    return (FIXTURES / name).read_bytes()


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """The `X-Twilio-Signature` Twilio would send for a form POST of `params` to `url`."""
    return str(RequestValidator(auth_token).compute_signature(url, params))


def messenger_signature(app_secret: str, raw_body: bytes) -> str:
    """The `X-Hub-Signature-256` header Meta would send with `raw_body`."""
    return "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def parsing_app(
    adapter: ChannelAdapter,
    path: str,
    after: Callable[[list[Incoming]], Awaitable[None]] | None = None,
    trusted_proxies: tuple[str, ...] = (),
) -> FastAPI:
    """A tiny app whose POST `path` runs `adapter.parse` (then `after`) and returns the
    messages as JSON; X-Forwarded-* reach the adapter only from `trusted_proxies`."""
    app = FastAPI()
    trusted = networks(trusted_proxies)

    @app.post(path)
    async def webhook(request: Request) -> JSONResponse:
        try:
            messages = await adapter.parse(
                await webhook_request(request, adapter.max_body_bytes, trusted)
            )
        except WebhookRejected as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status_code)
        if after is not None:
            await after(messages)
        return JSONResponse(
            [
                {**asdict(m), "sent_at": m.sent_at.isoformat() if m.sent_at else None}
                for m in messages
            ]
        )

    return app


def _flat(pairs: dict[str, list[str]]) -> dict[str, Any]:
    return {k: v[0] if len(v) == 1 else v for k, v in pairs.items()}


@dataclass(frozen=True)
class Recorded:
    """One request a fake received: `body` is parsed (JSON or form fields) when it could be."""

    method: str
    path: str
    query: dict[str, Any]
    headers: dict[str, str]  # names lower-cased
    body: Any
    raw: bytes


class _Server(ThreadingHTTPServer):
    # A provider takes many connections at once (a broadcast's sends); the default backlog of 5
    # resets the rest.
    request_queue_size = 256


class FakeProvider:
    """A threaded HTTP server that records requests; subclasses say how the provider answers."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self._lock = threading.Lock()
        self._records: list[Recorded] = []
        self._failures: list[Answer] = []
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """Where the fake listens, e.g. "http://127.0.0.1:54321"."""
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def requests(self) -> list[Recorded]:
        """Every request received so far, oldest first."""
        with self._lock:
            return list(self._records)

    def fail_next(
        self, n: int, status: int, body: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        """Answer the next `n` requests with `status` and `body` (default: the provider's
        error shape)."""
        with self._lock:
            self._failures += [
                (status, body if body is not None else self.error_body(status), headers or {})
            ] * n

    def __enter__(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, record: Recorded) -> Answer:
        """Record the request, then answer it: an injected failure first, else the
        provider's answer."""
        with self._lock:
            self._records.append(record)
            failure = self._failures.pop(0) if self._failures else None
        if self.delay_s:
            time.sleep(self.delay_s)
        return failure or self.answer(record)

    def answer(self, record: Recorded) -> Answer:
        """The provider's answer to a request that is not failed on purpose."""
        raise NotImplementedError

    def error_body(self, status: int) -> Any:
        """The provider's error body for `status`."""
        return {"error": status}


def _handler(fake: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the real APIs; every answer has a length

        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            kind = self.headers.get("content-type", "")
            body: Any = raw.decode("utf-8", "replace")
            if "json" in kind and raw:
                body = json.loads(raw)
            elif "x-www-form-urlencoded" in kind:
                body = _flat(parse_qs(body, keep_blank_values=True))
            url = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            record = Recorded(
                self.command, url.path, _flat(parse_qs(url.query)), headers, body, raw
            )
            status, answer, extra = fake.handle(record)
            payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (a timeout test): nothing to tell

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class FakeTwilio(FakeProvider):
    """Twilio's Messages API: basic auth with the account SID and auth token. A message is a Body,
    or an approved template (ContentSid, one of `templates`, with ContentVariables {"1": ...})."""

    def __init__(self, account_sid: str, auth_token: str, delay_s: float = 0.0) -> None:
        super().__init__(delay_s)
        self.account_sid = account_sid
        self._auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._created: list[dict[str, Any]] = []  # every message taken, as the list API shows it
        self.lookups = 0  # GETs of the message list (kept out of `requests`, which are sends)
        self.templates: dict[str, str] = {}  # Content SID -> its text, with {{1}}

    def handle(self, record: Recorded) -> Answer:
        if record.method == "GET":
            return self._list(record)
        return super().handle(record)

    def _list(self, record: Recorded) -> Answer:
        """The Messages list API, filtered by To (and From), newest first, one page."""
        if record.headers.get("authorization") != self._auth:
            return 401, self.error_body(401), {}
        with self._lock:
            self.lookups += 1
            found = [
                m
                for m in self._created
                if m["to"] == record.query.get("To")
                and m["from"] == record.query.get("From", m["from"])
            ]
        return 200, {"messages": found[::-1], "page": 0, "page_size": 50}, {}

    def error_body(self, status: int) -> Any:
        codes = {
            400: (21610, "Attempt to send to unsubscribed recipient"),
            401: (20003, "Authenticate"),
            404: (20404, "The requested resource was not found"),
            429: (20429, "Too Many Requests"),
        }
        code, message = codes.get(status, (20500, "Internal Server Error"))
        return {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }

    def answer(self, record: Recorded) -> Answer:
        if record.headers.get("authorization") != self._auth:
            return 401, self.error_body(401), {}
        if (
            record.method != "POST"
            or record.path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        ):
            return 404, self.error_body(404), {}
        form = record.body if isinstance(record.body, dict) else {}
        if form.get("ContentSid"):
            template = self.templates.get(form["ContentSid"])
            try:
                variables = json.loads(form.get("ContentVariables") or "{}")
            except ValueError:
                variables = None
            if template is None or not isinstance(variables, dict) or "1" not in variables:
                return 400, {"code": 21656, "message": "Invalid content", "status": 400}, {}
            form = {**form, "Body": template.replace("{{1}}", str(variables["1"]))}
        if not form.get("To") or not form.get("Body"):
            return (
                400,
                {"code": 21604, "message": "A 'To' phone number is required.", "status": 400},
                {},
            )
        sid = f"SM{uuid.uuid4().hex}"
        now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        message = {
            "sid": sid,
            "account_sid": self.account_sid,
            "from": form.get("From"),
            "to": form["To"],
            "body": form["Body"],
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        with self._lock:
            self._created.append(message)
        return 201, message, {}


class FakeTelegram(FakeProvider):
    """Telegram's Bot API at /bot<token>/<method>: getMe, sendMessage,
    answerCallbackQuery, setWebhook."""

    def __init__(self, token: str, delay_s: float = 0.0) -> None:
        super().__init__(delay_s)
        self.token = token
        self._next_id = 1000
        self.me = {
            "id": int(token.split(":")[0]) if token.split(":")[0].isdigit() else 1,
            "is_bot": True,
            "first_name": "GovBot",
            "username": "govbot_test_bot",
        }

    def error_body(self, status: int) -> Any:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": status,
            "description": {
                400: "Bad Request: chat not found",
                401: "Unauthorized",
                403: "Forbidden: bot was blocked by the user",
                404: "Not Found",
                429: "Too Many Requests: retry after 1",
            }.get(status, "Internal Server Error"),
        }
        if status == 429:
            body["parameters"] = {"retry_after": 1}
        return body

    def answer(self, record: Recorded) -> Answer:
        prefix = f"/bot{self.token}/"
        if not record.path.startswith(prefix):
            return 401, self.error_body(401), {}
        method, params = (
            record.path[len(prefix) :],
            record.body if isinstance(record.body, dict) else {},
        )
        if method == "getMe":
            return 200, {"ok": True, "result": self.me}, {}
        if method in ("answerCallbackQuery", "setWebhook", "deleteWebhook"):
            return (
                200,
                {
                    "ok": True,
                    "result": True,
                    **({"description": "Webhook was set"} if method == "setWebhook" else {}),
                },
                {},
            )
        if method == "sendMessage":
            with self._lock:
                self._next_id += 1
                message_id = self._next_id
            chat_id = params.get("chat_id", "0")
            result: dict[str, Any] = {
                "message_id": message_id,
                "from": self.me,
                "date": int(time.time()),
                "text": params.get("text", ""),
                "chat": {
                    "id": int(chat_id) if str(chat_id).lstrip("-").isdigit() else 0,
                    "type": "private",
                },
            }
            if params.get("reply_markup"):
                markup = params["reply_markup"]
                result["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
            return 200, {"ok": True, "result": result}, {}
        return 404, self.error_body(404), {}


class FakeGraph(FakeProvider):
    """Meta's Graph Send API at /<version>/me/messages, checking the page access token."""

    def __init__(self, access_token: str, api_version: str = "v19.0", delay_s: float = 0.0) -> None:
        super().__init__(delay_s)
        self.access_token = access_token
        self.api_version = api_version

    def error_body(self, status: int) -> Any:
        code, message = {
            400: (10, "(#10) This message is sent outside of allowed window."),
            403: (200, "(#200) Requires pages_messaging permission to manage the object"),
            429: (613, "Calls to this api have exceeded the rate limit."),
        }.get(status, (2, "An unexpected error has occurred. Please retry your request later."))
        return {
            "error": {
                "message": message,
                "type": "OAuthException",
                "code": code,
                "fbtrace_id": f"A{uuid.uuid4().hex[:22]}",
            }
        }

    def answer(self, record: Recorded) -> Answer:
        if record.query.get("access_token") != self.access_token:
            return (
                400,
                {
                    "error": {
                        "message": "Invalid OAuth access token - Cannot parse access token",
                        "type": "OAuthException",
                        "code": 190,
                        "fbtrace_id": "AbCdEf",
                    }
                },
                {},
            )
        if record.method != "POST" or record.path != f"/{self.api_version}/me/messages":
            return (
                404,
                {
                    "error": {
                        "message": "Unknown path components",
                        "type": "OAuthException",
                        "code": 2500,
                    }
                },
                {},
            )
        recipient = (
            record.body.get("recipient", {}).get("id") if isinstance(record.body, dict) else None
        )
        if not recipient:
            return (
                400,
                {
                    "error": {
                        "message": "(#100) The parameter recipient is required",
                        "type": "OAuthException",
                        "code": 100,
                    }
                },
                {},
            )
        return 200, {"recipient_id": recipient, "message_id": f"m_{uuid.uuid4().hex}"}, {}
