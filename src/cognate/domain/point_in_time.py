"""Point-in-time recovery of a pool's user data (Initiate/Describe/List/Start/Cancel).

History: every change to a user (profile, attributes, sign-in identifiers, group
memberships, password, MFA settings, passkeys) or a group first writes the entity's
before-image to an append-only log in the same transaction (`storage/repos/pitr.py`); the
state of an entity at time T is the image of its earliest log entry after T. Rows older
than 14 days (the longest window) are purged.

Rules, as botocore's model documents InitiatePointInTimeRecovery:
* The pool must be on the Essentials (recovery window 1 day) or Plus (14 days) feature
  plan; Lite pools get FeatureUnavailableInTierException.
* The recovery point must be at least 15 minutes in the past, within the window and not
  before the pool's creation (InvalidParameterException).
* One active recovery per pool, one completed recovery per pool in 24 hours, three
  previews per pool in 24 hours (LimitExceededException).
* While a recovery is active (PREVIEW_GENERATING/GENERATED, RESTORING) writes to the
  pool's user data are refused with OperationNotEnabledException (the model documents the
  pause, not the error; this is the one error every user-data write operation declares
  besides NotAuthorized/InvalidParameter/InternalError). Sign-in bookkeeping (lockout
  counters, global sign-out) still works.
  A preview not started or cancelled within 24 hours becomes PREVIEW_EXPIRED (evaluated
  when read) and writes resume.
* The preview counts, per entity type (Users, Groups, User MFAs, Passkeys), what the
  recovery creates (existed at the point, deleted since), updates (changed since) and
  deletes (created since), by comparing each changed entity's state at the recovery point
  with its current state.
* Preview generation and the restore run synchronously, so Initiate returns
  PREVIEW_GENERATED and Start returns RESTORE_COMPLETED; PREVIEW_GENERATING and RESTORING
  are never observed. Start needs PREVIEW_GENERATED; Cancel needs PREVIEW_GENERATING or
  PREVIEW_GENERATED and sets PREVIEW_CANCELLED. A wrong status is
  InvalidParameterException (undocumented).
* Restored: users (with attributes, identifiers, memberships, password, MFA, passkeys) and
  groups. Not restored, as the model says: pool configuration (settings, app clients, the
  attribute schema). Users who changed their password after the point keep the new one.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    FeatureUnavailableInTierException,
    InvalidParameterException,
    LimitExceededException,
    OperationNotEnabledException,
    ResourceNotFoundException,
)
from cognate.domain.clock import Clock, ms_to_seconds
from cognate.domain.pagination import PageTokens
from cognate.domain.pools import Page, require_pool
from cognate.storage.db import Database
from cognate.storage.jsoncol import dumps, loads
from cognate.storage.repos import pitr as pitr_repo

MINUTE_MS = 60_000
DAY_MS = 24 * 60 * MINUTE_MS
WINDOW_MS = {"ESSENTIALS": DAY_MS, "PLUS": 14 * DAY_MS}
MIN_AGE_MS = 15 * MINUTE_MS
ENTITIES = ("Users", "Groups", "User MFAs", "Passkeys")


def _paused() -> Exception:
    return OperationNotEnabledException(
        "The user pool is being recovered to a point in time; writes are paused until the "
        "recovery ends."
    )


pitr_repo.paused_error = _paused


def refuse_while_recovering(conn: Connection, pool_pk: int, now: int) -> None:
    """For writes that do not go through the capturing repos (user import jobs)."""
    if pitr_repo.active_pk(conn, pool_pk, now) is not None:
        raise _paused()


def _status(r: Any, now: int) -> str:
    status = str(r.status)
    expired = r.created_at + pitr_repo.PREVIEW_TTL_MS <= now
    if status in ("PREVIEW_GENERATING", "PREVIEW_GENERATED") and expired:
        return "PREVIEW_EXPIRED"
    return status


def _view(r: Any, now: int, *, preview: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "RestoreId": r.restore_id,
        "RestoreStatus": _status(r, now),
        "RestoreTimestamp": ms_to_seconds(r.restore_at),
    }
    if preview:
        view["TriggerTimestamp"] = ms_to_seconds(r.trigger_at)
        if r.preview is not None:
            view["RestorePreview"] = loads(r.preview)
    return view


def _profile(image: dict[str, Any]) -> Any:
    row = {k: v for k, v in image["row"].items() if k not in ("pk", "mfa")}
    return [row, image["attributes"], image["identifiers"], image["groups"]]


def _mfa(image: dict[str, Any] | None) -> Any:
    """A user's MFA settings, None when there are none."""
    if image is None or (image["row"].get("mfa") is None and image["token"] is None):
        return None
    return [image["row"].get("mfa"), image["token"]]


def _group(image: dict[str, Any] | None) -> Any:
    return None if image is None else {k: v for k, v in image["row"].items() if k != "pk"}


def preview(conn: Connection, pool_pk: int, restore_at: int) -> list[dict[str, Any]]:
    counts = {name: [0, 0, 0] for name in ENTITIES}  # create, update, delete

    def count(entity: str, then: Any, now: Any) -> None:
        if then == now:
            return
        index = 0 if now is None else 2 if then is None else 1
        counts[entity][index] += 1

    for (kind, key), then in pitr_repo.states_at(conn, pool_pk, restore_at).items():
        if kind == "group":
            current = pitr_repo.current_group(conn, pool_pk, key)
            count("Groups", _group(then), _group(current))
            continue
        current = pitr_repo.current_user(conn, pool_pk, key)
        count("Users", then and _profile(then), current and _profile(current))
        count("User MFAs", _mfa(then), _mfa(current))
        keys_then = {k["credential_id"]: k for k in (then or {}).get("passkeys", [])}
        keys_now = {k["credential_id"]: k for k in (current or {}).get("passkeys", [])}
        for cid in keys_then.keys() | keys_now.keys():
            count("Passkeys", keys_then.get(cid), keys_now.get(cid))
    return [
        {"Entity": name, "CreateCount": c, "UpdateCount": u, "DeleteCount": d}
        for name, (c, u, d) in counts.items()
    ]


class PointInTimeRecoveryService:
    def __init__(self, db: Database, clock: Clock, tokens: PageTokens) -> None:
        self._db = db
        self._clock = clock
        self._tokens = tokens

    def initiate(self, region: str, pool_id: str, restore_seconds: float) -> dict[str, Any]:
        restore_at = round(restore_seconds * 1000)

        def initiate_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id, for_update=True)
            tier = str(pool.settings.get("UserPoolTier", "ESSENTIALS"))
            if tier not in WINDOW_MS:
                raise FeatureUnavailableInTierException(
                    "Point-in-time recovery requires the Essentials or Plus feature plan."
                )
            now = self._clock.now_ms()
            if restore_at > now - MIN_AGE_MS:
                raise InvalidParameterException(
                    "RestoreTimestamp must be at least 15 minutes in the past."
                )
            if restore_at < now - WINDOW_MS[tier]:
                days = WINDOW_MS[tier] // DAY_MS
                raise InvalidParameterException(
                    f"RestoreTimestamp must be within {days} day(s) in the past with the "
                    f"{tier.capitalize()} feature plan."
                )
            if restore_at < pool.created_at:
                raise InvalidParameterException(
                    "RestoreTimestamp can't be earlier than the creation time of the user pool."
                )
            if pitr_repo.active_pk(conn, pool.pk, now) is not None:
                raise LimitExceededException("A user pool can have only one active recovery.")
            if pitr_repo.import_in_progress(conn, pool.pk):
                raise InvalidParameterException(
                    "You can't initiate a recovery while a user import job is in progress."
                )
            recent = pitr_repo.recent(conn, pool.pk, now - DAY_MS)
            if any(r.status == "RESTORE_COMPLETED" for r in recent):
                raise LimitExceededException(
                    "You can complete one recovery of a user pool in a 24-hour period."
                )
            if len(recent) >= 3:
                raise LimitExceededException(
                    "You can create up to three recovery previews of a user pool in a 24-hour "
                    "period."
                )
            pitr_repo.purge(conn, now - pitr_repo.RETENTION_MS)
            restore_id = str(uuid.uuid4())
            pitr_repo.insert_restoration(
                conn,
                pool_pk=pool.pk,
                restore_id=restore_id,
                status="PREVIEW_GENERATED",
                restore_at=restore_at,
                trigger_at=now,
                preview=dumps(preview(conn, pool.pk, restore_at)),
                created_at=now,
                updated_at=now,
            )
            return _view(pitr_repo.restoration(conn, pool.pk, restore_id), now, preview=True)

        return self._db.write("initiate_point_in_time_recovery", initiate_txn)

    def describe(self, region: str, pool_id: str, restore_id: str) -> dict[str, Any]:
        def describe_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id)
            r = _require(conn, pool.pk, restore_id)
            return _view(r, self._clock.now_ms(), preview=True)

        return self._db.read("describe_point_in_time_recovery", describe_txn)

    def list(
        self, region: str, pool_id: str, limit: int, token: str | None, request_id: str
    ) -> Page:
        scope = f"pitr/{pool_id}"
        before = self._tokens.decode(scope, token, request_id)

        def list_txn(conn: Connection) -> Page:
            pool = require_pool(conn, region, pool_id)
            rows = pitr_repo.restorations(conn, pool.pk, before, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            next_token = self._tokens.encode(scope, rows[-1].pk) if more else None
            now = self._clock.now_ms()
            return Page([_view(r, now, preview=False) for r in rows], next_token)

        return self._db.read("list_point_in_time_recoveries", list_txn)

    def start(self, region: str, pool_id: str, restore_id: str) -> dict[str, Any]:
        def start_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id, for_update=True)
            r = _require(conn, pool.pk, restore_id, for_update=True)
            now = self._clock.now_ms()
            status = _status(r, now)
            if status != "PREVIEW_GENERATED":
                raise InvalidParameterException(
                    f"You can start a recovery only when its status is PREVIEW_GENERATED; "
                    f"the status of {restore_id} is {status}."
                )
            pitr_repo.set_status(conn, r.pk, "RESTORING", now)
            pitr_repo.apply(conn, pool.pk, pitr_repo.states_at(conn, pool.pk, r.restore_at))
            pitr_repo.set_status(conn, r.pk, "RESTORE_COMPLETED", self._clock.now_ms())
            return _view(_require(conn, pool.pk, restore_id), now, preview=True)

        return self._db.write("start_point_in_time_recovery", start_txn)

    def cancel(self, region: str, pool_id: str, restore_id: str) -> dict[str, Any]:
        def cancel_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id, for_update=True)
            r = _require(conn, pool.pk, restore_id, for_update=True)
            now = self._clock.now_ms()
            status = _status(r, now)
            if status not in ("PREVIEW_GENERATING", "PREVIEW_GENERATED"):
                raise InvalidParameterException(
                    f"You can cancel a recovery only before you start it; the status of "
                    f"{restore_id} is {status}."
                )
            pitr_repo.set_status(conn, r.pk, "PREVIEW_CANCELLED", now)
            return _view(_require(conn, pool.pk, restore_id), now, preview=True)

        return self._db.write("cancel_point_in_time_recovery", cancel_txn)


def _require(conn: Connection, pool_pk: int, restore_id: str, *, for_update: bool = False) -> Any:
    r = pitr_repo.restoration(conn, pool_pk, restore_id, for_update=for_update)
    if r is None:
        raise ResourceNotFoundException(f"Recovery {restore_id} does not exist.")
    return r
