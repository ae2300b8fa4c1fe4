"""alpaca-py / requests failures -> one-line ``VenueError``s (what happened, what to check)."""

from __future__ import annotations

import json
from typing import Any

import requests
from alpaca.common.exceptions import APIError

from brokers.alpaca.config import KEY_VAR, SECRET_VAR
from brokers.live.venue import VenueError, VenueErrorKind

_NOT_APPROVED = ("not approved", "not eligible", "options trading", "options level", "not enabled")


def api_message(err: APIError) -> str:
    """Alpaca's ``message`` from an error body ``{"code", "message"}`` (the raw text otherwise)."""
    text = str(err)
    try:
        body = json.loads(text)
    except ValueError:
        return " ".join(text.split())[:200] or "no message"
    if isinstance(body, dict):
        return str(body.get("message") or body.get("msg") or text)[:200]
    return text[:200]


def auth_error(what: str, status: int | str) -> VenueError:
    return VenueError(
        VenueErrorKind.AUTH,
        f"alpaca: the API keys were refused ({status} on {what}); check {KEY_VAR} and {SECRET_VAR} "
        "(paper keys work only with the paper endpoint, live keys only with --live)",
    )


def refused(exc: BaseException) -> bool:
    """True when nothing was listening (the request never left), as opposed to a reply lost on the way."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        name = type(e).__name__
        if name in (
            "NewConnectionError",
            "ConnectionRefusedError",
            "NameResolutionError",
            "ConnectTimeoutError",
        ):
            return True
        stack.extend([getattr(e, "reason", None), e.__cause__, e.__context__])
        stack.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
    return False


def venue_error(exc: Exception, what: str, *, order: bool = False) -> VenueError:
    """Map one failure of ``what`` (e.g. ``POST /v2/orders``); ``order``: an order was being sent."""
    if isinstance(exc, VenueError):
        return exc
    if isinstance(exc, APIError):
        status = exc.status_code or 0
        message = api_message(exc)
        if status == 401 or (status == 403 and not order):
            if any(k in message.lower() for k in _NOT_APPROVED):
                return permission_error(message)
            return auth_error(what, status)
        if status == 429:
            return VenueError(
                VenueErrorKind.RATE_LIMIT, f"alpaca: rate limit hit on {what} (429: {message}); slow down"
            )
        if status >= 500:
            return VenueError(VenueErrorKind.SERVER, f"alpaca: server error {status} on {what}: {message}")
        if order and any(k in message.lower() for k in _NOT_APPROVED):
            return permission_error(message)
        return VenueError(VenueErrorKind.REJECTED, f"alpaca: {what} refused ({status}): {message}")
    if isinstance(exc, requests.RequestException):
        if refused(exc):
            return VenueError(
                VenueErrorKind.NETWORK,
                f"alpaca: cannot reach {_host(exc) or 'Alpaca'} for {what} (connection refused or no route); "
                "check the network and the APCA_*_URL variables",
            )
        if order:
            return VenueError(
                VenueErrorKind.LOST_REPLY,
                f"alpaca: the reply to {what} was lost ({type(exc).__name__}); the order may exist, "
                "look it up by client_order_id before resending",
            )
        return VenueError(VenueErrorKind.NETWORK, f"alpaca: {what} failed: {type(exc).__name__}")
    raise exc


def permission_error(message: str) -> VenueError:
    return VenueError(
        VenueErrorKind.PERMISSION,
        f"alpaca: the account may not trade these options ({message}); "
        "ask Alpaca for options level 2 (buy calls/puts) in the dashboard",
    )


def _host(exc: requests.RequestException) -> str:
    request = getattr(exc, "request", None)
    url = getattr(request, "url", "") or ""
    return url.split("/")[2] if url.count("/") >= 2 else ""


__all__ = ["api_message", "auth_error", "permission_error", "refused", "venue_error"]
