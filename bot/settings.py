"""All runtime settings in one place, read from the environment (and `.env`), and the check that
refuses to serve beyond loopback without real secrets."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path

from limits import parse_many
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "var" / "models"


class Settings(BaseSettings):
    """Settings of the app process; every field can be set by an environment variable."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    # Runtime files of the embedded default: app database, Rasa tracker store, endpoints, index.
    var_dir: Path = ROOT / "var"
    database_url: str = f"sqlite:///{ROOT / 'var' / 'govbot.db'}"
    engine_url: str = "http://127.0.0.1:5005"
    engine_port: int = 5005
    redis_url: str | None = None
    # Connections per app replica to a server database (and as many again on bursts).
    database_pool_size: int = Field(default=10, ge=1)
    engine_timeout_s: float = 15.0
    engine_concurrency: int = 8  # turns in flight to the engine at once, per app replica
    # Shared secret the engine sends when it calls the custom actions (`govbot run` makes one per
    # run); required, with every enabled channel's secrets, when HOST is not loopback.
    actions_token: str | None = None
    # Shared secret the app sends the engine with every turn (a bearer token checked by the engine's
    # only input channel, connectors/rasa_channel.py); made per run by `govbot run`, and required,
    # like ACTIONS_TOKEN, when HOST is not loopback.
    engine_token: str | None = None
    faq_dir: Path = ROOT / "data" / "faqs"
    index_dir: Path = ROOT / "var" / "index"
    # The sentence encoders, exported to ONNX from the packaged weights on first use; shared by
    # every index. ENCODER_INT8 runs the int8-quantised copies (faster; see bench/RESULTS.md).
    model_dir: Path = MODEL_DIR
    encoder_int8: bool = False
    max_message_chars: int = Field(default=2000, ge=1)
    # Agency sites allowed to embed the widget (CORS and WebSocket Origin); "*" allows any site.
    webchat_allowed_origins: list[str] = ["*"]
    # Signs the web-chat session tokens the app issues; every replica needs the same one. Unset on
    # loopback: each app process makes its own (sessions then last as long as the process).
    webchat_session_secret: str | None = None
    # How often pending messages are retried while the engine is down.
    retry_interval_s: float = 2.0
    # Provider channels: a channel is on when its secrets are set. PUBLIC_BASE_URL is the URL
    # providers call (Twilio signs it).
    service_name: str = "Northbridge Services"
    public_base_url: str = "http://127.0.0.1:8000"
    # Reverse proxies (IPs or CIDRs) whose X-Forwarded-For/-Proto/-Host are believed; from any
    # other peer they are ignored, by the app and by uvicorn. The old TRUST_FORWARDED_HEADERS=true
    # means a proxy on this host (127.0.0.1, ::1).
    trusted_proxies: list[str] = []
    trust_forwarded_headers: bool = False
    # Abuse limits, in the `limits` notation ("60/minute", several joined by ";"), counted in memory
    # or in Redis when REDIS_URL is set (shared by the replicas). See bot/web/ratelimit.py.
    rate_limit_per_address: str = "600/minute"  # every request and socket, per client address
    rate_limit_chat_per_address: str = "60/minute"  # web-chat messages, per client address
    rate_limit_chat_per_session: str = "20/minute"  # web-chat messages, per session
    rate_limit_per_sender: str = "20/minute"  # provider messages, per sender (stored all the same)
    rate_limit_per_account: str = "600/minute"  # console API calls, per agent account
    # "How would the bot answer?" rebuilds a copy of the index (seconds at 5,000 FAQs), per account
    rate_limit_preview: str = "20/minute"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_whatsapp_from: str | None = None
    twilio_api_base: str = "https://api.twilio.com"
    sms_max_segments: int = 3
    telegram_bot_token: str | None = None
    telegram_secret_token: str | None = None
    telegram_api_base: str = "https://api.telegram.org"
    messenger_page_access_token: str | None = None
    messenger_app_secret: str | None = None
    messenger_verify_token: str | None = None
    graph_api_base: str = "https://graph.facebook.com"
    graph_api_version: str = "v19.0"
    # Delivery: failed sends are retried with backoff, then dead-lettered (`govbot inbox dead`).
    outbox_max_attempts: int = 8
    inbox_max_attempts: int = 100
    # A replica's hold on a conversation (turns) or on a reply being sent; expires if the replica
    # dies.
    lease_s: float = 60.0
    claim_s: float = 30.0

    # The contact centre: queues, hours, urgent topics, canned replies (data/contact_centre.yml),
    # and the console's sessions and login throttling.
    contact_centre_file: Path = ROOT / "data" / "contact_centre.yml"
    console_session_ttl_s: float = Field(default=8 * 3600, gt=0)
    # Login attempts per (username, address) and per address before a wait of LOGIN_BACKOFF_S,
    # which doubles with each further failure up to LOGIN_WINDOW_S (bot/handoff/login_throttle.py);
    # a run quiet for LOGIN_WINDOW_S starts again.
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=50, ge=1)
    login_backoff_s: float = Field(default=30, gt=0)
    login_window_s: float = Field(default=900, gt=0)
    sweep_interval_s: float = Field(default=2.0, gt=0)
    # "Did this help?" on SMS: only after every Nth answer of a conversation (0: never).
    sms_feedback_every: int = Field(default=5, ge=0)

    # Insight: the dashboard's stale-FAQ flag, knowledge-gap grouping, and emerging-issue alerts
    # (sent to a webhook and/or by e-mail through SMTP when configured).
    stale_after_days: int = Field(default=365, ge=1)
    gap_similarity: float = Field(
        default=0.88, gt=0, le=1
    )  # e5 cosine to join a knowledge-gap group
    insight_interval_s: float = Field(
        default=30.0, gt=0
    )  # grouping new questions, checking for surges
    alert_min_count: int = Field(
        default=8, ge=1
    )  # questions in the window before a surge can be called
    alert_ratio: float = Field(default=4.0, gt=1)  # times the usual rate
    alert_webhook_url: str | None = None
    alert_email_to: list[str] = []
    alert_email_from: str = "govbot@localhost"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    # Privacy: conversations and their analytics rows older than this are deleted
    # (`govbot privacy purge`, and daily by the running app); counts per day survive.
    retention_days: int = Field(default=90, ge=1)
    purge_interval_s: float = Field(default=24 * 3600, gt=0)

    # Knowledge studio: how often each replica checks for a new published revision (a publish is
    # live within about this long plus the rebuild), and FAQs seed the database from FAQ_DIR on
    # the first start only (then `govbot kb import FILE --publish`).
    kb_refresh_s: float = Field(default=2.0, gt=0)

    # Outreach (bot/outreach/, docs/outreach.md): topics seeded from this file at start;
    # subscribers' time zone (until a channel tells us theirs); non-urgent broadcasts wait out
    # quiet hours [start, end) in it; broadcast copies per second per channel from each replica
    # (JSON, e.g. {"sms": 30}); the price of one SMS segment, for the cost estimate.
    outreach_topics_file: Path = ROOT / "data" / "outreach" / "topics.yml"
    outreach_timezone: str = "America/Toronto"
    quiet_start_hour: int = Field(default=21, ge=0, le=23)
    quiet_end_hour: int = Field(default=8, ge=0, le=23)
    outreach_rates: dict[str, float] = Field(
        default_factory=lambda: {"sms": 30.0, "whatsapp": 30.0, "telegram": 25.0, "messenger": 40.0}
    )
    outreach_batch: int = Field(default=500, ge=1, le=5000)
    sms_segment_price: float = Field(default=0.0083, ge=0)
    # The citizen panel (bot/panel/, docs/panel.md): the optional profile's areas and age bands.
    panel_profile_file: Path = ROOT / "data" / "panel" / "profile.yml"

    # The answer decision (bot/knowledge/decision.py). Unset: calibrated on the bank at index
    # build (bot/knowledge/calibration.py, docs/retrieval.md); set, it replaces the calibrated one.
    answer_margin: float | None = None
    answer_cosine: float | None = None
    clarify_cosine: float | None = None

    @field_validator("outreach_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry.strip(), strict=False)  # ValueError: refused at start
        return [entry.strip() for entry in value]

    @field_validator(
        "rate_limit_per_address",
        "rate_limit_chat_per_address",
        "rate_limit_chat_per_session",
        "rate_limit_per_sender",
        "rate_limit_per_account",
        "rate_limit_preview",
    )
    @classmethod
    def _rates(cls, value: str) -> str:
        parse_many(value)  # ValueError on anything `limits` cannot read
        return value

    @property
    def proxies(self) -> list[str]:
        """The trusted proxies, the old TRUST_FORWARDED_HEADERS switch included."""
        loopback = ["127.0.0.1/32", "::1/128"] if self.trust_forwarded_headers else []
        return list(dict.fromkeys(self.trusted_proxies + loopback))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


# Each provider channel: settings that show it is wanted, then the secrets it cannot run without.
CHANNELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Twilio": (
        ("twilio_from_number", "twilio_whatsapp_from"),
        ("twilio_account_sid", "twilio_auth_token"),
    ),
    "Telegram": ((), ("telegram_bot_token", "telegram_secret_token")),
    "Messenger": (
        (),
        ("messenger_page_access_token", "messenger_app_secret", "messenger_verify_token"),
    ),
}
# Stand-ins that examples and habits put where a secret belongs, compared lower-case with only
# letters and digits kept: whole values, then fragments (env.example once shipped
# "change-me-openssl-rand-hex-32").
PLACEHOLDERS = frozenset(
    {"secret", "token", "password", "test", "dummy", "todo", "tbd", "fixme", "none", "null"}
    | {"default", "setme", "mysecret", "yourtoken", "actionstoken"}
)
PLACEHOLDER_FRAGMENTS = ("changeme", "replaceme", "placeholder", "example", "yoursecret")


def is_loopback(host: str) -> bool:
    """Whether `host` only listens on this machine: 127.0.0.0/8, ::1 or "localhost"."""
    name = host.strip().removeprefix("[").removesuffix("]").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False  # any other name may resolve to a public interface: fail closed
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def is_placeholder(value: str | None) -> bool:
    """Whether `value` is missing, empty, or a stand-in such as "change-me" or "<your token>"."""
    text = (value or "").strip().lower()
    if text.startswith(("<", "${")) and text.endswith((">", "}")):
        return True
    folded = "".join(c for c in text if c.isalnum())
    # Also "", "...", "xxxxxxxx": nothing or one repeated character is no secret.
    return (
        len(set(folded)) <= 1
        or folded in PLACEHOLDERS
        or any(fragment in folded for fragment in PLACEHOLDER_FRAGMENTS)
    )


def _is_set(value: object) -> bool:
    return value is not None and str(value).strip() != ""


def insecure_settings(settings: Settings) -> list[str]:
    """Why these settings must not serve: empty when HOST is loopback, or ACTIONS_TOKEN,
    ENGINE_TOKEN, WEBCHAT_SESSION_SECRET and every enabled channel's secrets are real."""
    if is_loopback(settings.host):
        return []
    reason = "must be set to a secret when HOST is not a loopback address"
    problems = []
    if is_placeholder(settings.actions_token):
        problems.append(f"ACTIONS_TOKEN {reason}")
    if is_placeholder(settings.engine_token):
        problems.append(f"ENGINE_TOKEN {reason}")
    if is_placeholder(settings.webchat_session_secret):
        problems.append(f"WEBCHAT_SESSION_SECRET {reason}")
    for channel, (extras, secrets) in CHANNELS.items():
        wanted = [name for name in extras + secrets if _is_set(getattr(settings, name))]
        if not wanted:
            continue  # the channel is off
        for name in secrets:
            if is_placeholder(getattr(settings, name)):
                problems.append(
                    f"{name.upper()} {reason} ({channel} is on: {wanted[0].upper()} is set)"
                )
    return problems
