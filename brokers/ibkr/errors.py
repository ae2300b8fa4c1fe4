"""IB error codes -> one line each (what happened, what to do) and the venue's error kind.

IB sends everything (failures, warnings, status notices) as ``error(reqId, code, text)``.
``classify`` says what a code means for us: ignore it (the 2104/2106/2158 "farm connection
is OK" notices), report a connectivity change (1100/1101/1102), or turn it into a
``VenueError`` line. Codes: https://ibkrcampus.com/campus/ibkr-api-page/twsapi-doc/#api-error-codes
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from brokers.live.venue import VenueError, VenueErrorKind

INFORMATIONAL = frozenset({2103, 2104, 2105, 2106, 2107, 2108, 2119, 2157, 2158, 2100, 2150})
DELAYED_CODES = frozenset({10167, 10168})
PACING_CODES = frozenset({162, 420})


class Connectivity(StrEnum):
    LOST = "lost"  # 1100: TWS lost its connection to IB
    RESTORED_DATA_LOST = "restored_data_lost"  # 1101: back, market data must be requested again
    RESTORED = "restored"  # 1102: back, subscriptions kept


_CONNECTIVITY = {
    1100: Connectivity.LOST,
    1101: Connectivity.RESTORED_DATA_LOST,
    1102: Connectivity.RESTORED,
    2110: Connectivity.LOST,
}


@dataclass(frozen=True)
class IBError:
    code: int
    text: str
    kind: VenueErrorKind | None  # None: not a failure (informational, connectivity, delayed notice)
    line: str
    connectivity: Connectivity | None = None

    @property
    def ignored(self) -> bool:
        return self.kind is None and self.connectivity is None and self.code not in DELAYED_CODES

    @property
    def delayed(self) -> bool:
        return self.code in DELAYED_CODES

    def venue_error(self) -> VenueError:
        return VenueError(self.kind or VenueErrorKind.SERVER, self.line)


def is_pacing(code: int, text: str) -> bool:
    """162 is also "query returned no data" and "cancelled"; only its pacing text means back off."""
    return code == 420 or (code == 162 and "pacing" in text.lower())


def classify(
    code: int, text: str, *, what: str = "", host: str = "", port: int = 0, client_id: int = 0
) -> IBError:
    """What IB's ``code`` means, as one line naming ``what`` (a contract, an order) when given."""
    text = " ".join(str(text).split())
    about = f" for {what}" if what else ""
    if code in INFORMATIONAL or (2100 <= code < 2200 and code != 2110):
        return IBError(code, text, None, f"IB notice {code}: {text}")
    if code in _CONNECTIVITY:
        return IBError(code, text, None, f"IB connectivity {code}: {text}", _CONNECTIVITY[code])
    if code == 326:
        return IBError(
            code,
            text,
            VenueErrorKind.AUTH,
            f"IB client id {client_id} is already in use at {host}:{port} (IB 326): pass another --client-id "
            "(or IB_CLIENT_ID), or stop the other session using it",
        )
    if code in (354, 10089, 10090, 10091):
        return IBError(
            code,
            text,
            VenueErrorKind.PERMISSION,
            f"no IB market-data subscription{about} (IB {code}: {text}): subscribe to OPRA/US options data "
            "in Client Portal, or run with --allow-delayed to trade on delayed quotes",
        )
    if code in DELAYED_CODES:
        return IBError(
            code,
            text,
            None,
            f"IB sends DELAYED market data{about} (IB {code}): quotes are 15-20 minutes old; "
            "trading on them needs --allow-delayed",
        )
    if code == 200:
        return IBError(
            code,
            text,
            VenueErrorKind.BAD_SYMBOL,
            f"IB knows no such contract{about} (IB 200: {text}): check the symbol, expiry, strike and tradingClass",
        )
    if code == 201 or (code == 202 and "reject" in text.lower()):
        return IBError(code, text, VenueErrorKind.REJECTED, f"IB rejected the order{about}: {text}")
    if is_pacing(code, text):
        return IBError(
            code,
            text,
            VenueErrorKind.RATE_LIMIT,
            f"IB pacing violation{about} (IB {code}: {text}): backing off before the next historical request",
        )
    if (code == 321 and "read-only" in text.lower()) or code == 10015:
        return IBError(
            code,
            text,
            VenueErrorKind.PERMISSION,
            f"the IB API session is read-only (IB {code}): untick 'Read-Only API' in TWS/Gateway "
            "(Configure > API > Settings) to send orders",
        )
    if code in (502, 504, 1300):
        return IBError(
            code,
            text,
            VenueErrorKind.NETWORK,
            f"nothing is listening at {host}:{port} (IB {code}): start TWS or IB Gateway with the API enabled "
            "(Configure > API > Settings) or pass --host/--port (IB_HOST/IB_PORT)",
        )
    if code in (10147, 10148, 135, 161):  # order to cancel not found / cannot cancel
        return IBError(code, text, VenueErrorKind.REJECTED, f"IB could not cancel{about} (IB {code}: {text})")
    return IBError(code, text, VenueErrorKind.SERVER, f"IB error {code}{about}: {text}")


def not_listening(host: str, port: int) -> VenueError:
    return classify(502, "Couldn't connect to TWS.", host=host, port=port).venue_error()


__all__ = [
    "DELAYED_CODES",
    "INFORMATIONAL",
    "Connectivity",
    "IBError",
    "classify",
    "is_pacing",
    "not_listening",
]
