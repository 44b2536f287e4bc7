"""The rasa-sdk action server mounted inside the app, so one process holds the embedding models."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import (
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
)

import actions
from bot.web.deps import SettingsDep

router = APIRouter(prefix="/actions", tags=["actions"], include_in_schema=False)
_executor = ActionExecutor()
_executor.register_package(actions)


@router.post("/webhook")
async def run_action(request: Request, settings: SettingsDep) -> JSONResponse:
    """Rasa's action-server protocol: run one custom action, return its events and responses
    (403 without the engine's ACTIONS_TOKEN, and always 403 when none is configured)."""
    expected = settings.actions_token or ""
    given = request.query_params.get("token", "")
    # Fails closed: without a configured token nobody may run an action (`govbot run` always makes
    # one and gives it to the engine).
    if not expected.strip() or not hmac.compare_digest(given.encode(), expected.encode()):
        return JSONResponse({"error": "bad or missing action token"}, status_code=403)
    try:
        call: Any = await request.json()
    except ValueError:
        return JSONResponse({"error": "invalid JSON body"}, status_code=400)
    if not isinstance(call, dict) or "next_action" not in call:
        return JSONResponse({"error": "not an action call"}, status_code=400)
    try:
        result = await _executor.run(call)
    except ActionExecutionRejection as exc:
        return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=400)
    except ActionNotFoundException as exc:
        return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=404)
    except ActionMissingDomainException as exc:
        return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=449)
    return JSONResponse(result.model_dump() if result else None)
