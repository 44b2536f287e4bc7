"""All runtime settings in one place, read from the environment (and `.env`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


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
    engine_timeout_s: float = 15.0
    faq_dir: Path = ROOT / "data" / "faqs"
    index_dir: Path = ROOT / "var" / "index"
    max_message_chars: int = Field(default=2000, ge=1)
    # Agency sites allowed to embed the widget (CORS and WebSocket Origin); "*" allows any site.
    webchat_allowed_origins: list[str] = ["*"]
    # How often pending messages are retried while the engine is down.
    retry_interval_s: float = 2.0
    # The answer decision (bot/knowledge/decision.py); defaults calibrated in docs/retrieval.md.
    answer_margin: float = 0.52
    answer_cosine: float = 0.88
    clarify_cosine: float = 0.85


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
