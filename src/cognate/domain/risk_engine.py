"""Threat protection's judgements: compromised passwords, IP exception lists, the
account-takeover risk level, and the notification email. Pure functions and a password
list; auth_events.py applies them to sign-ins and records the outcome.

Compromised credentials: a password is compromised when it is in the breached-password
list (setting `breached_passwords_file`; see config.py): lines of a SHA-1 hex digest
(optionally `:count`, as the Have I Been Pwned downloads have them) or of a plain
password. Only SHA-1 digests are kept in memory; the file is read again when it changes.

Account-takeover risk (Cognito's model is not public; these are the signals implemented):
- a sign-in from an IP address the user has never signed in successfully from ("new IP"),
- from a device the sign-in does not name by a known DEVICE_KEY ("new device"),
- after repeated failed sign-ins: 3 or more in the last 15 minutes.
A user's first successful sign-in sets the baseline (no risk). Then: a known IP is no
risk; a new IP from a known device is Low; a new IP and a new device is Medium; both
after repeated failures is High.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import re
import threading
from dataclasses import dataclass
from typing import Any

from cognate.domain.risk_configuration import networks

log = logging.getLogger(__name__)

LOW, MEDIUM, HIGH = "Low", "Medium", "High"
FAILURE_WINDOW_MS = 15 * 60 * 1000
FAILURES_FOR_HIGH = 3
_SHA1_LINE = re.compile(r"([0-9A-Fa-f]{40})(:\d+)?")

DEFAULT_SUBJECT = "Suspicious sign-in activity"
DEFAULT_BODIES = {
    "BLOCK": "We blocked an unrecognized sign-in to your account {username} from {ip-address}"
    " at {login-time}.",
    "MFA": "We asked for additional verification of a sign-in to your account {username} from"
    " {ip-address} at {login-time}.",
    "NO_ACTION": "We noticed a sign-in to your account {username} from {ip-address} at"
    " {login-time}.",
}
DEFAULT_LINKS = (
    "\nWas this you? Yes: {one-click-link-valid}\nNo (secure your account):"
    " {one-click-link-invalid}\n"
)


class BreachedPasswords:
    """The breached-password list, as SHA-1 digests (empty when no file is configured)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._stamp: tuple[float, int] | None = None
        self._digests: frozenset[bytes] = frozenset()

    @property
    def configured(self) -> bool:
        return bool(self._path)

    def contains(self, password: str) -> bool:
        if not self._path:
            return False
        digest = hashlib.sha1(password.encode(), usedforsecurity=False).digest()
        return digest in self._current()

    def _current(self) -> frozenset[bytes]:
        try:
            stat = os.stat(self._path)
        except OSError:
            log.warning("breached password file %s cannot be read", self._path)
            return self._digests
        stamp = (stat.st_mtime, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._digests = _load(self._path)
                self._stamp = stamp
            return self._digests


def _load(path: str) -> frozenset[bytes]:
    digests: set[bytes] = set()
    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            text = line.rstrip("\r\n")
            if not text:
                continue
            match = _SHA1_LINE.fullmatch(text)
            if match:
                digests.add(bytes.fromhex(match.group(1)))
            else:
                digests.add(hashlib.sha1(text.encode(), usedforsecurity=False).digest())
    return frozenset(digests)


def in_ranges(ip: str | None, ranges: list[str] | None) -> bool:
    if not ip or not ranges:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in networks(ranges))


def compromised_action(config: dict[str, Any], event_filter: str) -> str:
    """BLOCK or NO_ACTION for a compromised password in this kind of event."""
    cc = config.get("CompromisedCredentialsRiskConfiguration")
    if not cc:
        return "NO_ACTION"
    filters = cc.get("EventFilter") or ["SIGN_IN", "PASSWORD_CHANGE", "SIGN_UP"]
    if event_filter not in filters:
        return "NO_ACTION"
    return str(cc["Actions"]["EventAction"])


@dataclass(frozen=True, slots=True)
class Signals:
    has_history: bool
    new_ip: bool
    new_device: bool
    recent_failures: int


def risk_level(signals: Signals) -> str | None:
    """None: no risk (see the module docstring)."""
    if not signals.has_history or not signals.new_ip:
        return None
    if not signals.new_device:
        return LOW
    if signals.recent_failures >= FAILURES_FOR_HIGH:
        return HIGH
    return MEDIUM


def takeover_action(config: dict[str, Any], level: str) -> dict[str, Any]:
    """{"EventAction": ..., "Notify": ...} configured for the level (NO_ACTION by default)."""
    actions = (config.get("AccountTakeoverRiskConfiguration") or {}).get("Actions") or {}
    action = actions.get(f"{level}Action")
    return dict(action) if action else {"EventAction": "NO_ACTION", "Notify": False}


def render_notice(
    config: dict[str, Any], action: str, values: dict[str, str]
) -> tuple[str, str, str | None]:
    """(subject, body, from address) of the notification for an action, from the
    NotifyConfiguration's template (BlockEmail, MfaEmail, NoActionEmail) or the default."""
    notify = (config.get("AccountTakeoverRiskConfiguration") or {}).get("NotifyConfiguration")
    notify = notify or {}
    key = {"BLOCK": "BlockEmail", "NO_ACTION": "NoActionEmail"}.get(action, "MfaEmail")
    template = notify.get(key) or {}
    subject = template.get("Subject") or DEFAULT_SUBJECT
    body = template.get("TextBody") or template.get("HtmlBody")
    if not body:
        kind = action if action in DEFAULT_BODIES else "MFA"
        body = DEFAULT_BODIES[kind] + DEFAULT_LINKS
    for name, value in values.items():
        body = body.replace("{" + name + "}", value)
        subject = subject.replace("{" + name + "}", value)
    return subject, body, notify.get("From")
