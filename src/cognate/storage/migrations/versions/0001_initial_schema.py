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


def downgrade() -> None:
    with op.batch_alter_table("client_secrets", schema=None) as batch_op:
        batch_op.drop_index("ix_client_secrets_client_pk_pk")

    op.drop_table("client_secrets")
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
    with op.batch_alter_table("user_pools", schema=None) as batch_op:
        batch_op.drop_index("ix_user_pools_region_pk")

    op.drop_table("user_pools")
    op.drop_table("cognate_meta")
