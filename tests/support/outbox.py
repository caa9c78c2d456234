"""Read what a running Cognate queued for delivery, straight from its database.

Until the developer outbox API exists, tests open the server's database with the same
master key (the test server's key file) and unseal the queued messages.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from cognate.domain.secretbox import SecretBox, load_or_create_key_file
from cognate.storage.db import Database
from cognate.storage.jsoncol import loads
from cognate.storage.schema import outbox, user_pools
from tests.support.server import CognateServer


@dataclass(frozen=True)
class Message:
    kind: str
    channel: str
    destination: str
    username: str
    subject: str | None
    body: str


def read_outbox(server: CognateServer, pool_id: str) -> list[Message]:
    box = SecretBox(load_or_create_key_file(server.workdir / "master.key"))
    db = Database(server.db, pool_size=1)
    try:
        rows = db.read(
            "test_outbox",
            lambda conn: conn.execute(
                sa.select(outbox)
                .join(user_pools, user_pools.c.pk == outbox.c.pool_pk)
                .where(user_pools.c.id == pool_id)
                .order_by(outbox.c.pk)
            ).all(),
        )
    finally:
        db.dispose()
    messages = []
    for row in rows:
        content = loads(box.open(row.message_enc, f"outbox/{row.destination}"))
        messages.append(
            Message(
                row.kind,
                row.channel,
                row.destination,
                row.username,
                content["subject"],
                content["body"],
            )
        )
    return messages
