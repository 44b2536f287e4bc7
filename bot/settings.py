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
    database_url: str = f"sqlite:///{ROOT / 'var' / 'govbot.db'}"
    engine_url: str = "http://127.0.0.1:5005"
    engine_port: int = 5005
    redis_url: str | None = None
    engine_timeout_s: float = 15.0
    faq_dir: Path = ROOT / "data" / "faqs"
    index_dir: Path = ROOT / "var" / "index"
    max_message_chars: int = Field(default=2000, ge=1)
    # How often pending messages are retried while the engine is down.
    retry_interval_s: float = 2.0
    # Answer when the calibrated confidence is at least this; offer choices above clarify_threshold.
    answer_threshold: float | None = None
    clarify_threshold: float | None = None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
