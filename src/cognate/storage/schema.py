"""The database schema: every table Cognate keeps, as SQLAlchemy Core metadata.

This module is the single source of the schema. Alembic migrations under
`storage/migrations/versions/` are written from it, and `tests/unit/test_migrations.py`
checks that applying every migration yields exactly these tables.

Conventions:
* Integer surrogate keys (`pk`) join tables and order listings; public identifiers
  (`id`, `client_id`, ...) are unique text columns.
* Timestamps are epoch milliseconds in BIGINT columns: exact, and the same on SQLite
  and PostgreSQL.
* Settings read and written whole (a pool's or client's configuration) are the API's
  own JSON structure in a TEXT column; anything searched or constrained has a column.
* Secrets are stored only encrypted (`*_enc`, see `domain/secretbox.py`) or hashed.
* Uniqueness rules are unique indexes, so the database enforces them under concurrency.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

# BIGINT that is still SQLite's rowid alias when used as an integer primary key.
PrimaryKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def SearchKey(length: int) -> sa.types.TypeEngine[str]:
    """Text compared and range-scanned by code point: SQLite's BINARY collation, "C" on
    PostgreSQL (whose default collation would make prefix ranges linguistic)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


meta = sa.Table(
    "cognate_meta",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
"""Installation facts: the master-key check value, the schema compatibility version."""

user_pools = sa.Table(
    "user_pools",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(55), nullable=False, unique=True),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("tags", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Index("ix_user_pools_region_pk", "region", "pk"),
)
"""One row per user pool. `settings` holds the UserPoolType members that are stored as set;
`tags` the pool's tags as a JSON object (changed only with the row locked)."""

user_pool_clients = sa.Table(
    "user_pool_clients",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("client_id", sa.String(128), nullable=False, unique=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Index("ix_user_pool_clients_pool_pk_pk", "pool_pk", "pk"),
)

client_secrets = sa.Table(
    "client_secrets",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "client_pk",
        PrimaryKey,
        sa.ForeignKey("user_pool_clients.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("secret_id", sa.String(160), nullable=False, unique=True),
    sa.Column("secret_enc", sa.Text, nullable=False),
    sa.Column("generated", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index("ix_client_secrets_client_pk_pk", "client_pk", "pk"),
)
"""A client's secrets (at most two). The value is needed to check SECRET_HASH, so it is
encrypted, not hashed."""

user_pool_domains = sa.Table(
    "user_pool_domains",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("domain", sa.String(253), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("scope", sa.String(32), nullable=False),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("version", sa.String(20), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("scope", "domain"),
    sa.UniqueConstraint("pool_pk", "kind"),
)
"""Prefix domains are unique within a region (`scope` = region) and custom domains
everywhere (`scope` = "*"); a pool has at most one domain of each kind."""

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("kid", sa.String(64), nullable=False, unique=True),
    sa.Column("private_key_enc", sa.Text, nullable=False),
    sa.Column("public_jwk", sa.Text, nullable=False),
    sa.Column("certificate", sa.Text, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("retired_at", sa.BigInteger, nullable=True),
    sa.Index(
        "uq_signing_keys_active_purpose",
        "pool_pk",
        "purpose",
        unique=True,
        sqlite_where=sa.text("retired_at IS NULL"),
        postgresql_where=sa.text("retired_at IS NULL"),
    ),
)
"""Per-pool RSA keys, created on first use: one active key per purpose (`saml` for
GetSigningCertificate; token purposes arrive with authentication). Private keys are
encrypted with the master key."""

users = sa.Table(
    "users",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("username", sa.String(128), nullable=False),
    sa.Column("username_key", SearchKey(128), nullable=False),
    sa.Column("sub", sa.String(36), nullable=False, unique=True),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("password_enc", sa.Text, nullable=True),
    sa.Column("password_history_enc", sa.Text, nullable=True),
    sa.Column("password_expires_at", sa.BigInteger, nullable=True),
    sa.Column("pending", sa.Text, nullable=True),
    sa.Column("tokens_valid_after", sa.BigInteger, nullable=False),
    sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("mfa", sa.Text, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("pool_pk", "username_key"),
    sa.Index("ix_users_pool_pk_pk", "pool_pk", "pk"),
    sa.Index("ix_users_pool_pk_status_pk", "pool_pk", "status", "pk"),
    sa.Index("ix_users_pool_pk_enabled_pk", "pool_pk", "enabled", "pk"),
)
"""One row per user. `username` is the user's permanent name as created (a UUID in pools
that sign in with email/phone); `username_key` is what uniqueness and look-ups use (case-
folded in case-insensitive pools). `password_enc` is the sealed SRP salt and verifier, the
only password material kept; `tokens_valid_after` moves forward when every token the user
holds must stop working (AdminDisableUser, global sign-out). `pending` holds changed
email/phone values that wait for verification before they replace the current ones.
`failed_sign_ins` and `locked_until` are the brute-force lockout's state. `mfa` holds the
user's MFA preferences (which factors are enabled, which is preferred, legacy MFAOptions)
as JSON."""

user_attributes = sa.Table(
    "user_attributes",
    metadata,
    sa.Column(
        "user_pk",
        PrimaryKey,
        sa.ForeignKey("users.pk", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("pool_pk", PrimaryKey, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("value_key", SearchKey(200), nullable=False),
    sa.Index("ix_user_attributes_search", "pool_pk", "name", "value_key", "user_pk"),
)
"""Attribute values. `value_key` is the value's first 200 characters (case-folded where
the pool compares case-insensitively): the indexed column ListUsers filters search on,
short enough for any index."""

user_identifiers = sa.Table(
    "user_identifiers",
    metadata,
    sa.Column("pool_pk", PrimaryKey, nullable=False),
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("value_hash", sa.String(64), nullable=False),
    sa.Column(
        "user_pk",
        PrimaryKey,
        sa.ForeignKey("users.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.PrimaryKeyConstraint("pool_pk", "kind", "value_hash"),
    sa.Index("ix_user_identifiers_user_pk", "user_pk"),
)
"""Sign-in names other than the username that must stay unique in a pool: verified email
and phone aliases and preferred_username (alias pools), or the email/phone used as the
username (pools with UsernameAttributes). Keyed by a SHA-256 of the normalized value, so
any value fits the index."""

groups = sa.Table(
    "groups",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("name_key", sa.String(128), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("role_arn", sa.String(2048), nullable=True),
    sa.Column("precedence", sa.Integer, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("pool_pk", "name_key"),
    sa.Index("ix_groups_pool_pk_pk", "pool_pk", "pk"),
)
"""Groups of a pool. Names are unique regardless of case (`name_key` is lower-cased):
Cognito refuses a group that differs from an existing one only in case."""

group_members = sa.Table(
    "group_members",
    metadata,
    sa.Column(
        "group_pk",
        PrimaryKey,
        sa.ForeignKey("groups.pk", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "user_pk",
        PrimaryKey,
        sa.ForeignKey("users.pk", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Index("ix_group_members_user_pk_group_pk", "user_pk", "group_pk"),
)

codes = sa.Table(
    "codes",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "user_pk",
        PrimaryKey,
        sa.ForeignKey("users.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("purpose", sa.String(32), nullable=False),
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("replaced_hashes", sa.Text, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("user_pk", "purpose"),
)
"""One-time codes a user was sent (password reset, attribute verification...): only a
keyed hash of the code is kept; issuing a new code for a purpose replaces the old one,
whose hash is remembered (`replaced_hashes`, the last few) so that presenting it is
answered as an expired code rather than a wrong one."""

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("user_pk", PrimaryKey, nullable=True),
    sa.Column("username", sa.String(128), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("channel", sa.String(8), nullable=False),
    sa.Column("destination", sa.String(2048), nullable=False),
    sa.Column("message_enc", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("next_attempt_at", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("lease_until", sa.BigInteger, nullable=True),
    sa.Column("last_error", sa.String(512), nullable=True),
    sa.Column("sent_at", sa.BigInteger, nullable=True),
    sa.Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    sa.Index("ix_outbox_pool_pk_pk", "pool_pk", "pk"),
)
"""Messages Cognito would send (invitations, codes), written in the same transaction as
the change that causes them; the subject, body and code are sealed (they carry temporary
passwords and codes). The sender (`delivery/`) takes `pending` rows whose
`next_attempt_at` has come, leasing them (`sending`, `lease_until`) so that one process
delivers each, and marks them `sent`, back to `pending` with a later attempt, or `failed`
after the last one. `held` rows have no transport configured (email without SMTP): they
wait in the developer outbox."""

auth_sessions = sa.Table(
    "auth_sessions",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "client_pk",
        PrimaryKey,
        sa.ForeignKey("user_pool_clients.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("user_pk", PrimaryKey, nullable=True),
    sa.Column("challenge", sa.String(32), nullable=False),
    sa.Column("state_enc", sa.Text, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("used_at", sa.BigInteger, nullable=True),
    sa.Index("ix_auth_sessions_expires_at", "expires_at"),
)
"""Sign-ins waiting for a challenge answer. The client holds an opaque random token (the
`Session`, and for SRP also the `SECRET_BLOCK`); only its SHA-256 is kept. The state (the
server's SRP secret, what the next step needs) is sealed. `user_pk` is empty
for the simulated challenges of unknown users. Answering marks the row used (a single
conditional UPDATE), so a session serves once, from any process; used and expired rows
are purged later."""

token_sessions = sa.Table(
    "token_sessions",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column("session_id", sa.String(28), nullable=False, unique=True),
    sa.Column("origin_jti", sa.String(36), nullable=False, unique=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "client_pk",
        PrimaryKey,
        sa.ForeignKey("user_pool_clients.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "user_pk",
        PrimaryKey,
        sa.ForeignKey("users.pk", ondelete="SET NULL"),
        nullable=True,
    ),
    sa.Column("device_key", sa.String(55), nullable=True),
    sa.Column("auth_time", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("last_active_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("revoked_at", sa.BigInteger, nullable=True),
    sa.Column("last_ip", sa.String(128), nullable=True),
    sa.Column("device_type", sa.String(1024), nullable=True),
    sa.Index("ix_token_sessions_user_pk_pk", "user_pk", "pk"),
    sa.Index("ix_token_sessions_expires_at", "expires_at"),
)
"""One per sign-in: the refresh token family and every access token issued from it (they
carry its `origin_jti`). Revoking (RevokeToken, sign-out, session revocation) marks the
row revoked, which stops them all at once on every process: an access token is honoured
only while its session is live. Rows are purged a day after their refresh tokens expire
(an access token issued by the last refresh may live that long). Live rows are the
"token sessions" of ListUserSessions. Deleting a user empties `user_pk` rather than the
row, so that their tokens are answered "User does not exist." as Cognito answers them."""

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "session_pk",
        PrimaryKey,
        sa.ForeignKey("token_sessions.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("superseded_at", sa.BigInteger, nullable=True),
    sa.Index("ix_refresh_tokens_session_pk", "session_pk"),
)
"""Refresh tokens by SHA-256 (they are 512-bit random strings; the token itself is never
stored). Rotation supersedes a token, which stays usable for the client's grace period."""

resource_servers = sa.Table(
    "resource_servers",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("identifier", sa.String(256), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("pool_pk", "identifier"),
    sa.Index("ix_resource_servers_pool_pk_pk", "pool_pk", "pk"),
)
"""OAuth 2.0 resource servers of a pool: an identifier and the custom scopes
(`<identifier>/<scope name>`) app clients may be granted. `scopes` is the API's list of
{ScopeName, ScopeDescription} as JSON."""

software_tokens = sa.Table(
    "software_tokens",
    metadata,
    sa.Column(
        "user_pk",
        PrimaryKey,
        sa.ForeignKey("users.pk", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("secret_enc", sa.Text, nullable=True),
    sa.Column("pending_secret_enc", sa.Text, nullable=True),
    sa.Column("friendly_name", sa.String(131), nullable=True),
    sa.Column("last_step", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)
"""A user's TOTP authenticator: the verified secret (sealed) that sign-in checks, a newly
associated one waiting for VerifySoftwareToken, and the last time step accepted (a code is
accepted once)."""

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "user_pk",
        PrimaryKey,
        sa.ForeignKey("users.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("device_key", sa.String(55), nullable=False, unique=True),
    sa.Column("group_key", sa.String(64), nullable=False),
    sa.Column("verifier_enc", sa.Text, nullable=True),
    sa.Column("name", sa.String(1024), nullable=True),
    sa.Column("remembered", sa.String(16), nullable=True),
    sa.Column("confirmed", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Column("last_authenticated_at", sa.BigInteger, nullable=True),
    sa.Column("last_ip", sa.String(128), nullable=True),
    sa.Index("ix_devices_user_pk_pk", "user_pk", "pk"),
)
"""Devices a user signed in from (device tracking): the key and group key Cognito hands
out in NewDeviceMetadata, the device's SRP salt and verifier from ConfirmDevice (sealed),
its remembered status and last authentication."""

webauthn_credentials = sa.Table(
    "webauthn_credentials",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "user_pk",
        PrimaryKey,
        sa.ForeignKey("users.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("credential_id", sa.String(1024), nullable=False, unique=True),
    sa.Column("public_key", sa.Text, nullable=False),
    sa.Column("sign_count", sa.BigInteger, nullable=False),
    sa.Column("relying_party_id", sa.String(255), nullable=False),
    sa.Column("friendly_name", sa.String(255), nullable=True),
    sa.Column("attachment", sa.String(32), nullable=True),
    sa.Column("transports", sa.Text, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index("ix_webauthn_credentials_user_pk_pk", "user_pk", "pk"),
)
"""Passkeys: a user's registered WebAuthn credentials (id, public key, signature counter,
the relying party they belong to)."""

webauthn_registrations = sa.Table(
    "webauthn_registrations",
    metadata,
    sa.Column(
        "user_pk",
        PrimaryKey,
        sa.ForeignKey("users.pk", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("client_id", sa.String(128), nullable=False),
    sa.Column("challenge", sa.String(128), nullable=False),
    sa.Column("relying_party_id", sa.String(255), nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
)
"""A passkey registration a user started (StartWebAuthnRegistration) and has not completed:
the challenge their authenticator must sign, the app client that asked, and the relying
party; one per user, replaced by a new start and removed by completion."""

ui_customizations = sa.Table(
    "ui_customizations",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "client_pk",
        PrimaryKey,
        sa.ForeignKey("user_pool_clients.pk", ondelete="CASCADE"),
        nullable=True,
    ),
    sa.Column("client_id", sa.String(128), nullable=False),
    sa.Column("css", sa.Text, nullable=True),
    sa.Column("image", sa.LargeBinary, nullable=True),
    sa.Column("image_extension", sa.String(8), nullable=True),
    sa.Column("version", sa.String(20), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("pool_pk", "client_id"),
)
"""Hosted UI (classic) branding (SetUICustomization): CSS and a logo image for one app
client, or for every client of the pool (`client_id` "ALL", no `client_pk`). `version` is
the CSSVersion, which also names the served logo."""

managed_login_brandings = sa.Table(
    "managed_login_brandings",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "client_pk",
        PrimaryKey,
        sa.ForeignKey("user_pool_clients.pk", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    sa.Column("branding_id", sa.String(36), nullable=False, unique=True),
    sa.Column("use_cognito_provided_values", sa.Boolean, nullable=False),
    sa.Column("settings", sa.Text, nullable=True),
    sa.Column("assets", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Index("ix_managed_login_brandings_pool_pk_pk", "pool_pk", "pk"),
)
"""Managed login styles: one per app client. `settings` is the API's Settings JSON
document as given (absent when Cognito's defaults are used); `assets` the Assets list as
JSON, each asset's bytes base64-encoded under a generated ResourceId."""

terms = sa.Table(
    "terms",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "client_pk",
        PrimaryKey,
        sa.ForeignKey("user_pool_clients.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("terms_id", sa.String(36), nullable=False, unique=True),
    sa.Column("name", sa.String(32), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("enforcement", sa.String(16), nullable=False),
    sa.Column("links", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("client_pk", "name"),
    sa.Index("ix_terms_pool_pk_pk", "pool_pk", "pk"),
)
"""Terms documents of app clients (terms-of-use, privacy-policy): one of each name per
client, with the language -> URL map managed login links to."""

identity_providers = sa.Table(
    "identity_providers",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", SearchKey(32), nullable=False),
    sa.Column("provider_type", sa.String(32), nullable=False),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("secrets_enc", sa.Text, nullable=True),
    sa.Column("attribute_mapping", sa.Text, nullable=False),
    sa.Column("idp_identifiers", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("pool_pk", "name"),
)
"""A pool's identity providers (ProviderName unique per pool). `details` is the
ProviderDetails JSON without its secrets (client_secret, private_key), which are sealed
together in `secrets_enc`; `attribute_mapping` and `idp_identifiers` are the API's JSON."""

idp_identifiers = sa.Table(
    "idp_identifiers",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "provider_pk",
        PrimaryKey,
        sa.ForeignKey("identity_providers.pk", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("identifier", SearchKey(40), nullable=False),
    sa.UniqueConstraint("pool_pk", "identifier"),
)
"""IdpIdentifiers, one row each, so the database keeps them unique within a pool and
GetIdentityProviderByIdentifier / idp_identifier find their provider by index."""

provider_links = sa.Table(
    "provider_links",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("provider_name", SearchKey(32), nullable=False),
    sa.Column("attribute_name", sa.String(64), nullable=False),
    sa.Column("attribute_value", SearchKey(2048), nullable=False),
    sa.Column(
        "user_pk",
        PrimaryKey,
        sa.ForeignKey("users.pk", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("pool_pk", "provider_name", "attribute_value"),
)
"""AdminLinkProviderForUser: a federated identity (provider, subject value) that signs in
as an existing user of the pool (`user_pk`) instead of as its own federated user."""

cimd_policies = sa.Table(
    "cimd_policies",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "client_pk",
        PrimaryKey,
        sa.ForeignKey("user_pool_clients.pk", ondelete="SET NULL"),
        nullable=True,
    ),
    sa.Column("policy_id", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(32), nullable=False),
    sa.Column("cache_seconds", sa.Integer, nullable=True),
    sa.Column("url_patterns", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Index("ix_cimd_policies_pool_pk_pk", "pool_pk", "pk"),
)
"""Client ID Metadata Document policies: which HTTPS URLs may act as OAuth client IDs
(`url_patterns`, JSON list) for an app client, and how long fetched documents are kept.
A policy outlives its app client (`client_pk` NULL): Describe then omits ClientId."""

client_metadata_urls = sa.Table(
    "client_metadata_urls",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "policy_pk",
        PrimaryKey,
        sa.ForeignKey("cimd_policies.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("url", SearchKey(256), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("cached_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("policy_pk", "url"),
)
"""Client metadata documents fetched for a CIMD policy: the document as fetched (JSON)
and its cache window (ListClientMetadataURLs, UpdateClientMetadataURLState)."""

# --------------------------------------------------------------------------- CSV user import

user_import_jobs = sa.Table(
    "user_import_jobs",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("job_id", sa.String(55), nullable=False, unique=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("role_arn", sa.Text, nullable=False),
    sa.Column("hashing_algorithm", sa.String(16), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("upload", sa.String(16), nullable=False),
    sa.Column("upload_started_at", sa.BigInteger, nullable=True),
    sa.Column("upload_bytes", sa.BigInteger, nullable=False),
    sa.Column("upload_chunks", sa.Integer, nullable=False),
    sa.Column("rows_done", sa.BigInteger, nullable=False),
    sa.Column("imported", sa.BigInteger, nullable=False),
    sa.Column("skipped", sa.BigInteger, nullable=False),
    sa.Column("failed", sa.BigInteger, nullable=False),
    sa.Column("completion_message", sa.String(128), nullable=True),
    sa.Column("lease_owner", sa.String(40), nullable=True),
    sa.Column("lease_until", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("started_at", sa.BigInteger, nullable=True),
    sa.Column("completed_at", sa.BigInteger, nullable=True),
    sa.Index("ix_user_import_jobs_pool_pk_pk", "pool_pk", "pk"),
    sa.Index("ix_user_import_jobs_status_lease_until", "status", "lease_until"),
)
"""CreateUserImportJob's jobs. `upload` is the CSV's state at its pre-signed URL (`none`,
`uploading` since `upload_started_at`, `done` with `upload_bytes` in `upload_chunks`
chunks); `rows_done` counts the data rows already handled (committed with the users they
created and the counters), so a job whose process died resumes after them. A process runs
a job while it holds the lease (`lease_owner` until `lease_until`)."""

user_import_chunks = sa.Table(
    "user_import_chunks",
    metadata,
    sa.Column(
        "job_pk",
        PrimaryKey,
        sa.ForeignKey("user_import_jobs.pk", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)
"""The uploaded CSV of an import job, in order (`seq` from 0), at most 1 MiB a chunk: in
the database so that every process behind a load balancer can run the job; streamed in
at upload and out while importing; deleted when the job ends."""

# ------------------------------------------------------------------ threat protection

risk_configurations = sa.Table(
    "risk_configurations",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "client_pk",
        PrimaryKey,
        sa.ForeignKey("user_pool_clients.pk", ondelete="CASCADE"),
        nullable=True,
    ),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Index("ix_risk_configurations_pool_client", "pool_pk", "client_pk"),
)
"""SetRiskConfiguration: the threat-protection settings of a pool (`client_pk` NULL) or of
one app client, which then override the pool's (`config`: JSON of the three risk
configuration members as given)."""

auth_events = sa.Table(
    "auth_events",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "user_pk",
        PrimaryKey,
        sa.ForeignKey("users.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("event_type", sa.String(16), nullable=False),
    sa.Column("response", sa.String(16), nullable=False),
    sa.Column("ip", sa.String(64), nullable=True),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("feedback", sa.Text, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index("ix_auth_events_user_pk_pk", "user_pk", "pk"),
    sa.Index("ix_auth_events_user_pk_ip", "user_pk", "ip"),
)
"""Threat protection's user event history (AdminListUserAuthEvents): one row per sign-in,
sign-up, password change, forgot-password and resent code of a pool with
AdvancedSecurityMode AUDIT or ENFORCED. `response` Pass/Fail/InProgress; `ip` the address
risk evaluation compares; `details` JSON (EventRisk, ChallengeResponses,
EventContextData); `feedback` JSON (EventFeedback) once given. No feedback token is
stored: it is an HMAC of the event id, checked by recomputing it."""

# ------------------------------------------------- provisioned limits and log delivery

provisioned_limits = sa.Table(
    "provisioned_limits",
    metadata,
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("category", sa.String(64), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)
"""UpdateProvisionedLimit's values: the request rate (RPS) of one API category. Cognito's
limits belong to the account in a region, not to a pool (LimitDefinition names no pool), so
the key is the region; a category without a row has its default (free) value."""

rate_counters = sa.Table(
    "rate_counters",
    metadata,
    sa.Column("scope", sa.String(160), primary_key=True),
    sa.Column("window", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("count", sa.Integer, nullable=False),
)
"""Request-rate counters shared by every process: requests counted in one one-second
window (`window`, epoch seconds) of one scope (`<region>|<category>`, or
`<region>|<pool id>|<operation>` for Cognito's per-pool limits). Processes add to `count`
with an UPSERT in batches; rows of past windows are deleted now and then."""

log_delivery_configs = sa.Table(
    "log_delivery_configs",
    metadata,
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("configurations", sa.Text, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)
"""SetLogDeliveryConfiguration's LogConfigurations of a pool (the API's JSON list): which
logs (userNotification, userAuthEvents) go to which log group, bucket or stream ARN."""

# --------------------------------------------------------------------------- point-in-time recovery

pitr_changes = sa.Table(
    "pitr_changes",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("entity_key", SearchKey(128), nullable=False),
    sa.Column("changed_at", sa.BigInteger, nullable=False),
    sa.Column("image", sa.Text, nullable=True),
    sa.Index("ix_pitr_changes_pool_pk_changed_at_pk", "pool_pk", "changed_at", "pk"),
)
"""Point-in-time recovery's history: an append-only log of before-images. Before the first
change of a transaction to a user (`kind` "user", keyed by `username_key`) or a group
("group", keyed by `name_key`), the entity's whole state is written here as JSON (`image`;
NULL when it did not exist yet). The image of the earliest row after a time is the entity's
state at that time. Password material in images is as sealed as in `users`. Rows older than
the longest recovery window are purged."""

pitr_restorations = sa.Table(
    "pitr_restorations",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("restore_id", sa.String(36), nullable=False, unique=True),
    sa.Column("status", sa.String(48), nullable=False),
    sa.Column("restore_at", sa.BigInteger, nullable=False),
    sa.Column("trigger_at", sa.BigInteger, nullable=False),
    sa.Column("preview", sa.Text, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Index("ix_pitr_restorations_pool_pk_pk", "pool_pk", "pk"),
)
"""Point-in-time recoveries of a pool (InitiatePointInTimeRecovery): the recovery point
(`restore_at`), the end of the reverted period (`trigger_at`), the model's RestoreStatus
and the preview (the API's RestorePreview list as JSON). While a recovery is active the
pool's user data writes are refused."""

# ------------------------------------------------------------- user pool replicas

user_pool_replicas = sa.Table(
    "user_pool_replicas",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column(
        "pool_pk",
        PrimaryKey,
        sa.ForeignKey("user_pools.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("tags", sa.Text, nullable=False),
    sa.Column("ready_at", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("pool_pk", "region"),
)
"""CreateUserPoolReplica's secondary replicas: the pool served under another region name
(Role SECONDARY; the primary is the pool's own region and has no row). `status` is the
stored ACTIVE/INACTIVE; until `ready_at` (epoch ms) the replica reads as CREATING. `tags`
JSON: the replica's own UserPoolTags. The pool's data is not copied: a request in the
replica's region resolves to the same pool rows."""

# ------------------------------------------------------------- test controls

test_clock = sa.Table(
    "test_clock",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("offset_ms", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)
"""The test controls' clock (the `test_controls` setting): one row (`id` 1) holding how far
the servers' clock runs ahead of real time, in milliseconds. `updated_at` is real time.
Absent = no offset. Read by every process (domain/controls.py)."""

test_faults = sa.Table(
    "test_faults",
    metadata,
    sa.Column("pk", PrimaryKey, primary_key=True, autoincrement=True),
    sa.Column("operation", sa.String(64), nullable=False, unique=True),
    sa.Column("error", sa.String(128), nullable=True),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("remaining", sa.Integer, nullable=True),
    sa.Column("latency_ms", sa.Integer, nullable=False),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)
"""Faults injected into API operations by the test controls: the next `remaining` calls of
`operation` (NULL = every call until cleared) wait `latency_ms`, then answer `error` (NULL =
answer normally) with `message`. `hits` counts the calls struck; a fault with `remaining`
0 is spent and stays listed until cleared."""
