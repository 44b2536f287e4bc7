"""Telegram through python-telegram-bot: webhook updates in, `sendMessage` with inline buttons out.

Inbound, Telegram proves itself with the secret token we gave `setWebhook` (header
`X-Telegram-Bot-Api-Secret-Token`). A pressed inline button arrives as a callback query, which must
be answered or the citizen's button keeps spinning: the route calls `acknowledge(messages)` once the
messages are stored. Outbound, every text (the bot's, an agent's, a notice) goes out in parse_mode
HTML, rendered from the answer format by `connectors.rich_text` with all text escaped. It uses a
plain `telegram.Bot` that is never `initialize()`d, so no `getMe` round trip happens; its
`HTTPXRequest` carries the injected transport.

Callback data is limited to 64 bytes. A longer payload is sent as "h:<sha256 prefix>" and remembered
in a bounded in-process map; when the map does not know a token (restart, another replica), the
pressed button's own label is used as the text, which the dialogue understands like a typed message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import json
import re
import warnings
from collections import OrderedDict

import httpx
from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from connectors.base import Incoming, Outgoing, SendError, WebhookRejected, WebhookRequest
from connectors.capabilities import TELEGRAM
from connectors.rich_text import parse, telegram_visible, to_plain, to_telegram_html
from connectors.sms_text import fit_chars

MAX_BODY_BYTES = 1024 * 1024
MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64
REMEMBERED = 10_000  # long payloads and pending callback ids kept in memory, oldest dropped first
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts as secret_token


def _remember(store: OrderedDict[str, str], key: str, value: str) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > REMEMBERED:
        store.popitem(last=False)


def _seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class TelegramAdapter:
    """The "telegram" channel of one bot: chat id as address, update_id as provider message id."""

    name = "telegram"
    capabilities = TELEGRAM
    max_body_bytes = MAX_BODY_BYTES

    def __init__(
        self,
        bot_token: str,
        secret_token: str,
        api_base: str = "https://api.telegram.org",
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        if not bot_token:
            raise ValueError("Telegram needs a bot token")
        if not _SECRET.match(secret_token or ""):
            raise ValueError(
                "the Telegram secret token must be 1-256 characters of A-Z a-z 0-9 _ -"
            )
        self._secret = secret_token.encode()
        api_base = api_base.rstrip("/")
        self._request = HTTPXRequest(
            connect_timeout=timeout_s,
            read_timeout=timeout_s,
            write_timeout=timeout_s,
            httpx_kwargs={"transport": transport} if transport else None,
        )
        self.bot = Bot(
            bot_token,
            base_url=f"{api_base}/bot",
            base_file_url=f"{api_base}/file/bot",
            request=self._request,
            get_updates_request=self._request,
        )
        self._payloads: OrderedDict[str, str] = OrderedDict()  # "h:..." token -> long payload
        self._callbacks: OrderedDict[str, str] = OrderedDict()  # update_id -> callback_query id

    async def parse(self, request: WebhookRequest) -> list[Incoming]:
        """Check the secret token, then read a text message or a pressed button; [] for
        anything else."""
        given = request.headers.get("x-telegram-bot-api-secret-token", "").encode()
        if not given or not hmac.compare_digest(given, self._secret):
            raise WebhookRejected(403, "bad secret token")
        raw = request.body
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or type(data.get("update_id")) is not int:
                raise ValueError("not an update")
            update = Update.de_json(data, self.bot)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise WebhookRejected(400, "not a Telegram update") from exc
        update_id = str(update.update_id)
        message = update.message
        if message is not None and message.text:
            chat = str(message.chat.id)
            return [Incoming("telegram", chat, update_id, message.text, None, message.date)]
        if update.callback_query is not None and update.callback_query.data:
            return self._pressed(update_id, update.callback_query)
        return []  # edited messages, stickers, photos, member updates: nothing to answer

    def _pressed(self, update_id: str, query: CallbackQuery) -> list[Incoming]:
        data = query.data or ""
        message = query.message
        title = None
        markup = getattr(message, "reply_markup", None)  # absent on inaccessible (old) messages
        if isinstance(markup, InlineKeyboardMarkup):
            title = next(
                (b.text for row in markup.inline_keyboard for b in row if b.callback_data == data),
                None,
            )
        text = self._payloads.get(data, data)
        # A long payload this process did not send: the button's label is the next best thing.
        if data.startswith("h:") and data not in self._payloads and title:
            text = title
        chat = message.chat.id if message is not None else query.from_user.id
        _remember(self._callbacks, update_id, query.id)
        # A callback query carries no time of its own (the message's date is when the bot sent it).
        return [Incoming("telegram", str(chat), update_id, text, title)]

    async def acknowledge(self, messages: list[Incoming]) -> None:
        """Answer the callback queries behind `messages` (call after storing them); errors
        are ignored."""
        for incoming in messages:
            query_id = self._callbacks.pop(incoming.provider_message_id, None)
            if query_id:
                await self.acknowledge_callback(query_id)

    async def acknowledge_callback(self, callback_query_id: str) -> None:
        """Stop the button's spinner. Best effort: a stale query (>~15 min, or a replay) is
        not an error."""
        try:
            await self.bot.answer_callback_query(callback_query_id)
        except TelegramError:
            pass

    def _callback_data(self, payload: str) -> str:
        if len(payload.encode()) <= MAX_CALLBACK_BYTES:
            return payload
        token = "h:" + hashlib.sha256(payload.encode()).hexdigest()[:32]
        _remember(self._payloads, token, payload)
        return token

    def markup(self, buttons: list[dict[str, str]]) -> InlineKeyboardMarkup | None:
        """One inline button per row, its callback data the payload (or a token for a long one)."""
        if not buttons:
            return None
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(b["title"], callback_data=self._callback_data(b["payload"]))]
                for b in buttons
            ]
        )

    @staticmethod
    def render(text: str) -> str:
        """Every text, the bot's and an agent's alike, as escaped HTML (parse_mode HTML) in the
        answer format (`connectors.rich_text`); past Telegram's limit, shortened plain text."""
        doc = parse(text)
        if len(telegram_visible(doc)) <= MAX_TEXT:
            return to_telegram_html(doc)
        return html.escape(fit_chars(to_plain(doc), MAX_TEXT), quote=False)

    async def send(self, address: str, message: Outgoing) -> str:
        """Send one message; return "<chat id>:<message id>"."""
        chat_id: int | str = int(address) if address.lstrip("-").isdigit() else address
        try:
            sent = await self.bot.send_message(
                chat_id,
                self.render(message.text),
                parse_mode="HTML",
                reply_markup=self.markup(message.buttons),
            )
        except RetryAfter as exc:
            with warnings.catch_warnings():  # PTB 22 warns that retry_after becomes a timedelta
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                wait = _seconds(exc.retry_after)
            raise SendError(f"Telegram flood control: {exc.message}", True, wait) from exc
        # BadRequest is a subclass of NetworkError, so refusals are caught before network trouble.
        except (BadRequest, Forbidden, ChatMigrated) as exc:
            raise SendError(f"Telegram refused: {exc.message}", False) from exc
        except (TimedOut, NetworkError) as exc:
            raise SendError(f"Telegram unreachable: {exc.message}", True) from exc
        # InvalidToken, Conflict, EndPointNotFound: configuration, not bad luck.
        except TelegramError as exc:
            raise SendError(f"Telegram error: {exc.message}", False) from exc
        return f"{sent.chat.id}:{sent.message_id}"

    async def set_webhook(self, url: str) -> bool:
        """Point Telegram at `url` with our secret token, for messages and button presses only."""
        return await self.bot.set_webhook(
            url, secret_token=self._secret.decode(), allowed_updates=["message", "callback_query"]
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._request.shutdown()
