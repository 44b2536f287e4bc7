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

router = APIRouter(prefix="/actions", tags=["actions"])
_executor = ActionExecutor()
_executor.register_package(actions)


@router.post("/webhook")
async def run_action(request: Request, settings: SettingsDep) -> JSONResponse:
    """Rasa's action-server protocol: run one custom action, return its events and responses."""
    expected = settings.actions_token
    if expected and not hmac.compare_digest(request.query_params.get("token", ""), expected):
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
