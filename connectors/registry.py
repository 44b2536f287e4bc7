"""The channels that are on: an adapter for each provider whose secrets are configured."""

from __future__ import annotations

from bot.settings import Settings
from connectors.base import ChannelAdapter


def build_adapters(settings: Settings) -> dict[str, ChannelAdapter]:
    """The adapters of every channel whose secrets are configured, by channel name."""
    adapters: dict[str, ChannelAdapter] = {}
    if settings.twilio_auth_token and settings.twilio_account_sid:
        from connectors.twilio import TwilioAdapter

        twilio = TwilioAdapter(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_from_number or "",
            settings.twilio_whatsapp_from or "",
            settings.public_base_url,
            api_base=settings.twilio_api_base,
            trust_forwarded=bool(settings.proxies),  # the web layer drops them from others
            max_segments=settings.sms_max_segments,
        )
        adapters["sms"] = adapters["whatsapp"] = twilio
    if settings.telegram_bot_token and settings.telegram_secret_token:
        from connectors.telegram import TelegramAdapter

        adapters["telegram"] = TelegramAdapter(
            settings.telegram_bot_token,
            settings.telegram_secret_token,
            api_base=settings.telegram_api_base,
        )
    if (
        settings.messenger_app_secret
        and settings.messenger_page_access_token
        and settings.messenger_verify_token
    ):
        from connectors.messenger import MessengerAdapter

        adapters["messenger"] = MessengerAdapter(
            settings.messenger_page_access_token,
            settings.messenger_app_secret,
            settings.messenger_verify_token,
            graph_base=settings.graph_api_base,
            api_version=settings.graph_api_version,
        )
    return adapters
