"""initial schema

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cognate_meta",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cognate_meta")),
    )
    op.create_table(
        "user_pools",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=55), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_user_pools")),
        sa.UniqueConstraint("id", name=op.f("uq_user_pools_id")),
    )
    with op.batch_alter_table("user_pools", schema=None) as batch_op:
        batch_op.create_index("ix_user_pools_region_pk", ["region", "pk"], unique=False)

    op.create_table(
        "groups",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("pool_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("name_key", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("role_arn", sa.String(length=2048), nullable=True),
        sa.Column("precedence", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pool_pk"],
            ["user_pools.pk"],
            name=op.f("fk_groups_pool_pk_user_pools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_groups")),
        sa.UniqueConstraint("pool_pk", "name_key", name=op.f("uq_groups_pool_pk_name_key")),
    )
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.create_index("ix_groups_pool_pk_pk", ["pool_pk", "pk"], unique=False)

    op.create_table(
        "outbox",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("pool_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("destination", sa.String(length=2048), nullable=False),
        sa.Column("message_enc", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pool_pk"],
            ["user_pools.pk"],
            name=op.f("fk_outbox_pool_pk_user_pools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_pool_pk_pk", ["pool_pk", "pk"], unique=False)
        batch_op.create_index("ix_outbox_status_pk", ["status", "pk"], unique=False)

    op.create_table(
        "signing_keys",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("pool_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("private_key_enc", sa.Text(), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("certificate", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("retired_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pool_pk"],
            ["user_pools.pk"],
            name=op.f("fk_signing_keys_pool_pk_user_pools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_signing_keys")),
        sa.UniqueConstraint("kid", name=op.f("uq_signing_keys_kid")),
    )
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.create_index(
            "uq_signing_keys_active_purpose",
            ["pool_pk", "purpose"],
            unique=True,
            sqlite_where=sa.text("retired_at IS NULL"),
            postgresql_where=sa.text("retired_at IS NULL"),
        )

    op.create_table(
        "user_pool_clients",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("pool_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pool_pk"],
            ["user_pools.pk"],
            name=op.f("fk_user_pool_clients_pool_pk_user_pools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_user_pool_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_user_pool_clients_client_id")),
    )
    with op.batch_alter_table("user_pool_clients", schema=None) as batch_op:
        batch_op.create_index("ix_user_pool_clients_pool_pk_pk", ["pool_pk", "pk"], unique=False)

    op.create_table(
        "user_pool_domains",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("pool_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pool_pk"],
            ["user_pools.pk"],
            name=op.f("fk_user_pool_domains_pool_pk_user_pools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_user_pool_domains")),
        sa.UniqueConstraint("pool_pk", "kind", name=op.f("uq_user_pool_domains_pool_pk_kind")),
        sa.UniqueConstraint("scope", "domain", name=op.f("uq_user_pool_domains_scope_domain")),
    )
    op.create_table(
        "users",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("pool_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column(
            "username_key",
            sa.String(length=128).with_variant(sa.String(length=128, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("sub", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("password_enc", sa.Text(), nullable=True),
        sa.Column("password_history_enc", sa.Text(), nullable=True),
        sa.Column("password_expires_at", sa.BigInteger(), nullable=True),
        sa.Column("pending", sa.Text(), nullable=True),
        sa.Column("tokens_valid_after", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pool_pk"],
            ["user_pools.pk"],
            name=op.f("fk_users_pool_pk_user_pools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_users")),
        sa.UniqueConstraint("pool_pk", "username_key", name=op.f("uq_users_pool_pk_username_key")),
        sa.UniqueConstraint("sub", name=op.f("uq_users_sub")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(
            "ix_users_pool_pk_enabled_pk", ["pool_pk", "enabled", "pk"], unique=False
        )
        batch_op.create_index("ix_users_pool_pk_pk", ["pool_pk", "pk"], unique=False)
        batch_op.create_index(
            "ix_users_pool_pk_status_pk", ["pool_pk", "status", "pk"], unique=False
        )

    op.create_table(
        "client_secrets",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "client_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("secret_id", sa.String(length=160), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("generated", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["user_pool_clients.pk"],
            name=op.f("fk_client_secrets_client_pk_user_pool_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_client_secrets")),
        sa.UniqueConstraint("secret_id", name=op.f("uq_client_secrets_secret_id")),
    )
    with op.batch_alter_table("client_secrets", schema=None) as batch_op:
        batch_op.create_index("ix_client_secrets_client_pk_pk", ["client_pk", "pk"], unique=False)

    op.create_table(
        "codes",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_pk"], ["users.pk"], name=op.f("fk_codes_user_pk_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_codes")),
        sa.UniqueConstraint("user_pk", "purpose", name=op.f("uq_codes_user_pk_purpose")),
    )
    op.create_table(
        "group_members",
        sa.Column("group_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_pk"],
            ["groups.pk"],
            name=op.f("fk_group_members_group_pk_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_pk"],
            ["users.pk"],
            name=op.f("fk_group_members_user_pk_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_pk", "user_pk", name=op.f("pk_group_members")),
    )
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_group_members_user_pk_group_pk", ["user_pk", "group_pk"], unique=False
        )

    op.create_table(
        "user_attributes",
        sa.Column("user_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("pool_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column(
            "value_key",
            sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_pk"],
            ["users.pk"],
            name=op.f("fk_user_attributes_user_pk_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_pk", "name", name=op.f("pk_user_attributes")),
    )
    with op.batch_alter_table("user_attributes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_user_attributes_search", ["pool_pk", "name", "value_key", "user_pk"], unique=False
        )

    op.create_table(
        "user_identifiers",
        sa.Column("pool_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("value_hash", sa.String(length=64), nullable=False),
        sa.Column("user_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_pk"],
            ["users.pk"],
            name=op.f("fk_user_identifiers_user_pk_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pool_pk", "kind", "value_hash", name=op.f("pk_user_identifiers")),
    )
    with op.batch_alter_table("user_identifiers", schema=None) as batch_op:
        batch_op.create_index("ix_user_identifiers_user_pk", ["user_pk"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_identifiers", schema=None) as batch_op:
        batch_op.drop_index("ix_user_identifiers_user_pk")

    op.drop_table("user_identifiers")
    with op.batch_alter_table("user_attributes", schema=None) as batch_op:
        batch_op.drop_index("ix_user_attributes_search")

    op.drop_table("user_attributes")
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.drop_index("ix_group_members_user_pk_group_pk")

    op.drop_table("group_members")
    op.drop_table("codes")
    with op.batch_alter_table("client_secrets", schema=None) as batch_op:
        batch_op.drop_index("ix_client_secrets_client_pk_pk")

    op.drop_table("client_secrets")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_pool_pk_status_pk")
        batch_op.drop_index("ix_users_pool_pk_pk")
        batch_op.drop_index("ix_users_pool_pk_enabled_pk")

    op.drop_table("users")
    op.drop_table("user_pool_domains")
    with op.batch_alter_table("user_pool_clients", schema=None) as batch_op:
        batch_op.drop_index("ix_user_pool_clients_pool_pk_pk")

    op.drop_table("user_pool_clients")
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_signing_keys_active_purpose",
            sqlite_where=sa.text("retired_at IS NULL"),
            postgresql_where=sa.text("retired_at IS NULL"),
        )

    op.drop_table("signing_keys")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_pk")
        batch_op.drop_index("ix_outbox_pool_pk_pk")

    op.drop_table("outbox")
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_index("ix_groups_pool_pk_pk")

    op.drop_table("groups")
    with op.batch_alter_table("user_pools", schema=None) as batch_op:
        batch_op.drop_index("ix_user_pools_region_pk")

    op.drop_table("user_pools")
    op.drop_table("cognate_meta")
