"""`cognate outbox`: the developer outbox on the command line.

Reads the database directly (with the deployment's master key), so it works whether or
not a server runs and whatever the outbox API setting. `--last-code` prints only the
newest code for the pool/user (nothing else: for scripts) and exits 1 when there is none;
`--follow` keeps printing new messages as they are queued.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from cognate.app import check_master_key, master_key
from cognate.config import Settings
from cognate.domain.dev_outbox import DevOutbox
from cognate.domain.notifications import Notifier
from cognate.domain.secretbox import SecretBox
from cognate.storage import migrate
from cognate.storage.db import Database, sqlite_path
from cognate.storage.migrate import SchemaError

FOLLOW_POLL_SECONDS = 1.0


def _line(message: dict[str, Any]) -> str:
    when = dt.datetime.fromtimestamp(message["created_at"], tz=dt.UTC).strftime("%H:%M:%S")
    code = f"  code {message['code']}" if message["code"] else ""
    subject = f"  [{message['subject']}]" if message["subject"] else ""
    return (
        f"{when} {message['pool_id']} {message['username']} {message['kind']} "
        f"{message['channel']} -> {message['destination']} ({message['status']}){code}"
        f"{subject}\n    {message['body']}"
    )


def run(
    settings: Settings,
    *,
    pool_id: str | None,
    username: str | None,
    last_code: bool,
    follow: bool,
    limit: int,
) -> int:
    path = sqlite_path(settings.db)
    if path is not None and not path.exists():
        raise SchemaError(f"there is no Cognate database at {path} (has a server run here?)")
    db = Database(settings.db, pool_size=1)
    try:
        migrate.require_current(db)
        box = SecretBox(master_key(settings))
        check_master_key(db, box)
        outbox = DevOutbox(db, Notifier(box))
        if last_code:
            code = outbox.last_code(pool_id=pool_id, username=username)
            if code is None:
                return 1
            print(code)
            return 0
        after = 0
        for message in outbox.messages(pool_id=pool_id, username=username, limit=limit):
            print(_line(message), flush=True)
            after = max(after, int(message["id"]))
        while follow:
            time.sleep(FOLLOW_POLL_SECONDS)
            while True:  # every message queued since, in pages
                page = outbox.messages(
                    pool_id=pool_id, username=username, after=after, oldest_first=True
                )
                for message in page:
                    print(_line(message), flush=True)
                    after = max(after, int(message["id"]))
                if len(page) < 50:
                    break
        return 0
    finally:
        db.dispose()
