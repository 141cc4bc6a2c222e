/**
 * The one definition of gatehouse's database (failure catalog F1, F11).
 *
 * `migrations/` is generated from this file by `npm run db:generate`, and
 * `npm run db:check` fails CI when the two disagree (F4). Every surrogate
 * primary key has a database-side default so a row inserted by hand, by
 * another tool or by raw SQL always gets an id (F3).
 */
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { byteaLiteral, fromHex } from "../lib/hex";

/** `bytea` as `Uint8Array`, sent as Postgres hex text (`\x…`) over the HTTP driver. */
export const bytea = customType<{ data: Uint8Array; driverData: string }>({
  dataType: () => "bytea",
  toDriver: (value) => byteaLiteral(value),
  fromDriver: (value) => (typeof value === "string" ? fromHex(value) : new Uint8Array(value as ArrayLike<number>)),
});

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();
const id = () => uuid("id").primaryKey().default(sql`gen_random_uuid()`);
/** Lowercase hex SHA-256: 64 characters, checked in the database too. */
const sha256Hex = (name: string) => text(name);

export const membershipRole = pgEnum("membership_role", ["owner", "admin", "member"]);
/**
 * Discriminator of provider tokens. Deliberately without a default on the
 * column: every insert must say which kind it writes (F12).
 */
export const providerTokenType = pgEnum("provider_token_type", ["user", "page"]);

export const users = pgTable(
  "users",
  {
    id: id(),
    /** As the provider gave it; Kakao and Naver often give none. */
    email: text("email"),
    /** Lowercased (ASCII only, nothing folded) form used for matching; null when unmatchable (any non-ASCII character). */
    emailNormalized: text("email_normalized"),
    emailVerifiedAt: timestamp("email_verified_at", { withTimezone: true }),
    name: text("name"),
    image: text("image"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    lastSignInAt: timestamp("last_sign_in_at", { withTimezone: true }),
    disabledAt: timestamp("disabled_at", { withTimezone: true }),
  },
  (t) => [
    // Two users can share an unverified address, never a verified one.
    uniqueIndex("users_verified_email_key")
      .on(t.emailNormalized)
      .where(sql`${t.emailVerifiedAt} IS NOT NULL AND ${t.emailNormalized} IS NOT NULL`),
  ],
);

export const accounts = pgTable(
  "accounts",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** Provider id as configured: `github`, `google`, or an `oidc` instance id. */
    provider: text("provider").notNull(),
    providerSubject: text("provider_subject").notNull(),
    /** Issuer URL for OpenID Connect providers. */
    issuer: text("issuer"),
    email: text("email"),
    emailVerified: boolean("email_verified").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("accounts_provider_subject_key").on(t.provider, t.providerSubject),
    index("accounts_user_id_idx").on(t.userId),
    // Operators search users by provider subject alone (/api/admin/users?q=).
    index("accounts_provider_subject_idx").on(t.providerSubject),
  ],
);

/** A refresh-token family: one row per browser sign-in, rotated in place. */
export const sessions = pgTable(
  "sessions",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** The identity the session was created through; unlinking it revokes the session. */
    accountId: uuid("account_id").references(() => accounts.id, { onDelete: "set null" }),
    secretHash: sha256Hex("secret_hash").notNull(),
    /** The hash before the latest rotation, accepted within the grace window. */
    previousSecretHash: sha256Hex("previous_secret_hash"),
    /**
     * Hash of the family secret every token of this session carries, fixed
     * for its life: a past token of the family is recognisable as reuse.
     * Null only for rows created before family secrets (upgraded on rotation).
     */
    familySecretHash: sha256Hex("family_secret_hash"),
    rotatedAt: timestamp("rotated_at", { withTimezone: true }),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }).notNull().defaultNow(),
    /** Sliding expiry, pushed forward on each rotation but never past `absoluteExpiresAt`. */
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    absoluteExpiresAt: timestamp("absolute_expires_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    ip: text("ip"),
    userAgent: text("user_agent"),
    /**
     * Set when the family belongs to an OAuth client (docs/oauth-server.md): its
     * refresh token is that client's, never a browser cookie. NULL for browser sessions.
     */
    clientId: uuid("client_id").references((): AnyPgColumn => oauthClients.id, { onDelete: "cascade" }),
    /**
     * Set on a session an operator started as this user (impersonation,
     * docs/operators.md "Admin"): its tokens carry `act: {sub: <operator>}`.
     * Erasing the operator ends the session with them.
     */
    impersonatorId: uuid("impersonator_id").references((): AnyPgColumn => users.id, { onDelete: "cascade" }),
    /** The passkey the session was created with; removing it revokes the session (like `accountId`). */
    passkeyId: uuid("passkey_id").references((): AnyPgColumn => passkeys.id, { onDelete: "set null" }),
    /**
     * RFC 8176 authentication methods of the sign-in that created the session:
     * `{fed}` (a provider), `{otp}` (an email code or link), `{hwk,user}` /
     * `{swk,user}` (a device-bound / synced passkey). NULL for rows created
     * before it was recorded: they read as `{fed}`.
     */
    amr: text("amr").array(),
  },
  (t) => [
    index("sessions_user_id_idx").on(t.userId),
    index("sessions_impersonator_id_idx").on(t.impersonatorId).where(sql`${t.impersonatorId} IS NOT NULL`),
    index("sessions_passkey_id_idx").on(t.passkeyId),
    index("sessions_client_id_idx").on(t.clientId).where(sql`${t.clientId} IS NOT NULL`),
    index("sessions_account_id_idx").on(t.accountId),
    index("sessions_expires_at_idx").on(t.expiresAt),
    check("sessions_secret_hash_hex", sql`${t.secretHash} ~ '^[0-9a-f]{64}$'`),
    check("sessions_family_secret_hash_hex", sql`${t.familySecretHash} IS NULL OR ${t.familySecretHash} ~ '^[0-9a-f]{64}$'`),
  ],
);

/**
 * Strict single use of sign-in transactions: KV is eventually consistent, so
 * the callback claims the state's hash here (INSERT … ON CONFLICT DO NOTHING)
 * BEFORE it exchanges the code: only the claimant calls the provider. The
 * natural key is the hash itself.
 *
 * `outcome` is NULL while the claimant works, `signed_in` once its batch
 * committed, or the error code it ended with: duplicate callbacks of the same
 * browser wait for it and follow it (src/routes/callback-follow.ts).
 */
export const oauthConsumedStates = pgTable(
  "oauth_consumed_states",
  {
    stateHash: sha256Hex("state_hash").primaryKey(),
    consumedAt: timestamp("consumed_at", { withTimezone: true }).notNull().defaultNow(),
    outcome: text("outcome"),
  },
  (t) => [
    index("oauth_consumed_states_consumed_at_idx").on(t.consumedAt),
    check("oauth_consumed_states_hash_hex", sql`${t.stateHash} ~ '^[0-9a-f]{64}$'`),
    check("oauth_consumed_states_outcome", sql`${t.outcome} ~ '^[A-Za-z_]{1,40}$'`),
  ],
);

/**
 * WebAuthn credentials (passkeys, docs/passkeys.md): a sign-in method of
 * their own, counted with `accounts` when the last method is protected.
 * `credential_id` is the credential's raw id in base64url; `public_key` the
 * COSE key; `counter` the signature counter (0 for authenticators without
 * one); `device_type` `singleDevice` or `multiDevice` (backup eligible).
 */
export const passkeys = pgTable(
  "passkeys",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    credentialId: text("credential_id").notNull(),
    publicKey: bytea("public_key").notNull(),
    counter: bigint("counter", { mode: "number" }).notNull().default(0),
    transports: text("transports").array().notNull().default(sql`'{}'::text[]`),
    deviceType: text("device_type").notNull(),
    backedUp: boolean("backed_up").notNull(),
    aaguid: text("aaguid"),
    name: text("name").notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("passkeys_credential_id_key").on(t.credentialId),
    index("passkeys_user_id_idx").on(t.userId),
    check("passkeys_credential_id_b64url", sql`${t.credentialId} ~ '^[A-Za-z0-9_-]+$' AND char_length(${t.credentialId}) BETWEEN 16 AND 1366`),
    check("passkeys_device_type", sql`${t.deviceType} IN ('singleDevice', 'multiDevice')`),
    check("passkeys_counter_range", sql`${t.counter} >= 0 AND ${t.counter} <= 4294967295`),
    check("passkeys_name_length", sql`char_length(${t.name}) BETWEEN 1 AND 64`),
  ],
);

/**
 * Wrong guesses per email sign-in challenge (`routes/email.ts`): the code is
 * compared in the worker (constant time), each wrong guess adds one here,
 * and the sign-in batch adds the right one and refuses past five, so the
 * sixth attempt fails even with the right code. Kept a day, like states.
 */
export const emailCodeAttempts = pgTable(
  "email_code_attempts",
  {
    challengeHash: sha256Hex("challenge_hash").primaryKey(),
    attempts: integer("attempts").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("email_code_attempts_created_at_idx").on(t.createdAt),
    check("email_code_attempts_hash_hex", sql`${t.challengeHash} ~ '^[0-9a-f]{64}$'`),
    check("email_code_attempts_positive", sql`${t.attempts} > 0`),
  ],
);

export const organizations = pgTable(
  "organizations",
  {
    id: id(),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    personal: boolean("personal").notNull().default(false),
    /** Set only on personal organizations: at most one per user. */
    personalUserId: uuid("personal_user_id").references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("organizations_slug_key").on(t.slug),
    uniqueIndex("organizations_personal_user_key").on(t.personalUserId),
    check("organizations_personal_owner", sql`${t.personal} = (${t.personalUserId} IS NOT NULL)`),
  ],
);

export const memberships = pgTable(
  "memberships",
  {
    id: id(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: membershipRole("role").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("memberships_org_user_key").on(t.orgId, t.userId),
    index("memberships_user_id_idx").on(t.userId),
  ],
);

/**
 * Invitations to join an organization, addressed to an email address. The
 * invitee accepts while signed in as a user holding that address verified;
 * nothing about the invitee is looked up or shown before that. One pending
 * invitation per (org, address); a new one for the same address replaces it.
 */
export const orgInvitations = pgTable(
  "org_invitations",
  {
    id: id(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    /** The normalized address (lib/email.ts) the invitation is for. */
    emailNormalized: text("email_normalized").notNull(),
    role: membershipRole("role").notNull(),
    invitedBy: uuid("invited_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    acceptedAt: timestamp("accepted_at", { withTimezone: true }),
    acceptedBy: uuid("accepted_by").references(() => users.id, { onDelete: "set null" }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("org_invitations_pending_key")
      .on(t.orgId, t.emailNormalized)
      .where(sql`${t.acceptedAt} IS NULL AND ${t.revokedAt} IS NULL`),
    index("org_invitations_email_idx").on(t.emailNormalized),
  ],
);

export const providerPages = pgTable(
  "provider_pages",
  {
    id: id(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    provider: text("provider").notNull(),
    externalPageId: text("external_page_id").notNull(),
    name: text("name").notNull(),
    category: text("category"),
    tasks: text("tasks").array().notNull().default(sql`'{}'::text[]`),
    /** Set when the provider stopped returning the page; the row is kept. */
    goneAt: timestamp("gone_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("provider_pages_org_provider_page_key").on(t.orgId, t.provider, t.externalPageId)],
);

export const providerTokens = pgTable(
  "provider_tokens",
  {
    id: id(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    accountId: uuid("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    pageId: uuid("page_id").references(() => providerPages.id, { onDelete: "cascade" }),
    provider: text("provider").notNull(),
    tokenType: providerTokenType("token_type").notNull(),
    /** AES-256-GCM: 12-byte IV followed by ciphertext and tag. */
    ciphertext: bytea("ciphertext").notNull(),
    keyVersion: integer("key_version").notNull(),
    /**
     * Which AAD the ciphertext is bound to (orgs/provider-token-secret.ts): 2
     * binds token type, organization, user and identity or page; NULL marks
     * rows sealed before (identity or page only), opened still and replaced
     * by the next write of that token.
     */
    aadVersion: integer("aad_version"),
    scopes: text("scopes").array().notNull().default(sql`'{}'::text[]`),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (t) => [
    // F13: one active user token per (org, user, provider) and one active token per (org, page).
    uniqueIndex("provider_tokens_active_user_key")
      .on(t.orgId, t.userId, t.provider)
      .where(sql`${t.deletedAt} IS NULL AND ${t.tokenType} = 'user'`),
    uniqueIndex("provider_tokens_active_page_key")
      .on(t.orgId, t.pageId)
      .where(sql`${t.deletedAt} IS NULL AND ${t.pageId} IS NOT NULL`),
    index("provider_tokens_user_id_idx").on(t.userId),
    check("provider_tokens_page_iff_page_type", sql`(${t.tokenType} = 'page') = (${t.pageId} IS NOT NULL)`),
  ],
);

export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigint("id", { mode: "bigint" }).primaryKey().generatedAlwaysAsIdentity(),
    /** `user`, `service_client`, `system` or `anonymous` (nobody proven: a failed sign-in, a replayed refresh token). */
    actorType: text("actor_type").notNull(),
    actorId: text("actor_id"),
    action: text("action").notNull(),
    orgId: uuid("org_id").references(() => organizations.id, { onDelete: "set null" }),
    targetType: text("target_type"),
    targetId: text("target_id"),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    /**
     * The user the event is about (whose history it belongs to). Erasing the
     * user erases their history with them; the erasure's own event keeps no
     * personal data (docs/operators.md).
     */
    subjectUserId: uuid("subject_user_id").references(() => users.id, { onDelete: "cascade" }),
    /** The request that caused it: client address, User-Agent, `request.cf` country and ASN, request id. */
    ip: text("ip"),
    userAgent: text("user_agent"),
    country: text("country"),
    asn: integer("asn"),
    requestId: text("request_id"),
    /** e.g. `new_device`, `new_country` on a sign-in. */
    flags: text("flags").array().notNull().default(sql`'{}'::text[]`),
  },
  (t) => [
    index("audit_events_org_at_idx").on(t.orgId, t.at),
    index("audit_events_org_id_idx").on(t.orgId, t.id),
    index("audit_events_subject_id_idx").on(t.subjectUserId, t.id),
    index("audit_events_action_id_idx").on(t.action, t.id),
    index("audit_events_at_idx").on(t.at),
  ],
);

export const oauthClientType = pgEnum("oauth_client_type", ["public", "confidential"]);
/** `native`: loopback redirect URIs match on any port (RFC 8252 §7.3). */
export const oauthApplicationType = pgEnum("oauth_application_type", ["web", "native"]);

/** Applications that use gatehouse as their authorization server (docs/oauth-server.md). */
export const oauthClients = pgTable(
  "oauth_clients",
  {
    /** The `client_id`. */
    id: id(),
    name: text("name").notNull(),
    type: oauthClientType("type").notNull(),
    applicationType: oauthApplicationType("application_type").notNull(),
    /** SHA-256 of the client secret; only confidential clients have one. */
    secretHash: sha256Hex("secret_hash"),
    redirectUris: text("redirect_uris").array().notNull(),
    /** Scopes the client may ask for. */
    scopes: text("scopes").array().notNull(),
    /** RFC 8707 resources (access-token audiences) the client may ask for. */
    resources: text("resources").array().notNull().default(sql`'{}'::text[]`),
    orgId: uuid("org_id").references(() => organizations.id, { onDelete: "cascade" }),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    /** First-party clients are pre-approved: no consent page. */
    firstParty: boolean("first_party").notNull().default(false),
    disabledAt: timestamp("disabled_at", { withTimezone: true }),
    /** Registered by anyone at `POST /oauth/register` (RFC 7591): public, no org; deleted by the cron while unused. */
    dynamic: boolean("dynamic").notNull().default(false),
    /** For a Client ID Metadata Document client: its `client_id`, the document's https URL (the row mirrors the document). */
    metadataUrl: text("metadata_url").unique("oauth_clients_metadata_url_key"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("oauth_clients_org_id_idx").on(t.orgId),
    index("oauth_clients_dynamic_created_at_idx").on(t.createdAt).where(sql`${t.dynamic}`),
    check("oauth_clients_metadata_public", sql`${t.metadataUrl} IS NULL OR (${t.type} = 'public' AND ${t.orgId} IS NULL AND NOT ${t.firstParty} AND NOT ${t.dynamic})`),
    check("oauth_clients_dynamic_public", sql`NOT ${t.dynamic} OR (${t.type} = 'public' AND ${t.orgId} IS NULL AND NOT ${t.firstParty})`),
    check("oauth_clients_secret_iff_confidential", sql`(${t.type} = 'confidential') = (${t.secretHash} IS NOT NULL)`),
    check("oauth_clients_secret_hash_hex", sql`${t.secretHash} IS NULL OR ${t.secretHash} ~ '^[0-9a-f]{64}$'`),
    check("oauth_clients_has_redirect", sql`cardinality(${t.redirectUris}) > 0`),
  ],
);

/** Remembered consent: one live grant per user, client and resource; its scopes only grow. */
export const oauthGrants = pgTable(
  "oauth_grants",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    clientId: uuid("client_id")
      .notNull()
      .references(() => oauthClients.id, { onDelete: "cascade" }),
    scopes: text("scopes").array().notNull(),
    resource: text("resource").notNull(),
    /** The organization the user granted access for (org-scoped consent); its tokens carry `org` and `roles`. */
    orgId: uuid("org_id").references(() => organizations.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("oauth_grants_live_key").on(t.userId, t.clientId, t.resource).where(sql`${t.revokedAt} IS NULL`),
    index("oauth_grants_client_id_idx").on(t.clientId),
  ],
);

/**
 * Authorization codes, strictly single use: the exchange consumes the row in
 * the same statement that issues the tokens, and a second presentation revokes
 * the refresh family recorded in `family_id` (RFC 6749 §4.1.2).
 */
export const oauthCodes = pgTable(
  "oauth_codes",
  {
    /** SHA-256 of the code: the code itself is never stored. */
    codeHash: sha256Hex("code_hash").primaryKey(),
    clientId: uuid("client_id")
      .notNull()
      .references(() => oauthClients.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    redirectUri: text("redirect_uri").notNull(),
    /** PKCE S256 challenge (base64url, 43 characters). */
    codeChallenge: text("code_challenge").notNull(),
    scopes: text("scopes").array().notNull(),
    resource: text("resource").notNull(),
    nonce: text("nonce"),
    /** The organization of the consent (org-scoped consent), or null. */
    orgId: uuid("org_id").references(() => organizations.id, { onDelete: "cascade" }),
    /** When the user signed in (the browser session's start): `auth_time`. */
    authTime: timestamp("auth_time", { withTimezone: true }).notNull(),
    /** The browser session's RFC 8176 methods (`sessions.amr`), for the id_token. */
    amr: text("amr").array(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    consumedAt: timestamp("consumed_at", { withTimezone: true }),
    /**
     * Set when the code came back after its exchange. The refresh grant revokes a family
     * whose code is marked (a replay racing the exchange cannot see the new family row).
     */
    replayedAt: timestamp("replayed_at", { withTimezone: true }),
    /** The id every token issued from this code carries as `sid` (and the refresh family's id). */
    familyId: uuid("family_id"),
    createdAt: createdAt(),
  },
  (t) => [
    index("oauth_codes_expires_at_idx").on(t.expiresAt),
    index("oauth_codes_family_id_idx").on(t.familyId).where(sql`${t.familyId} IS NOT NULL`),
    check("oauth_codes_hash_hex", sql`${t.codeHash} ~ '^[0-9a-f]{64}$'`),
  ],
);

/** What an OAuth refresh family carries besides the session row: the grant it was issued for. */
export const oauthFamilies = pgTable("oauth_families", {
  sessionId: uuid("session_id")
    .primaryKey()
    .references(() => sessions.id, { onDelete: "cascade" }),
  clientId: uuid("client_id")
    .notNull()
    .references(() => oauthClients.id, { onDelete: "cascade" }),
  scopes: text("scopes").array().notNull(),
  resource: text("resource").notNull(),
  /** The organization of the consent, or null; each token reads the user's current role there. */
  orgId: uuid("org_id").references(() => organizations.id, { onDelete: "cascade" }),
  authTime: timestamp("auth_time", { withTimezone: true }).notNull(),
  /** The sign-in's RFC 8176 methods, for id_tokens of refreshes. */
  amr: text("amr").array(),
});

/**
 * Webhook endpoints (docs/operators.md "Webhooks"): an organization's (its
 * owners and admins manage them) or, with `org_id` NULL, a global one that
 * operators manage and that receives every subscribed event. Signing secrets
 * are sealed like provider tokens (AES-256-GCM with TOKEN_ENCRYPTION_KEY, AAD
 * naming the endpoint: webhooks/secrets.ts); during a rotation the previous
 * secret signs too until `previous_secret_expires_at`.
 */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: id(),
    orgId: uuid("org_id").references(() => organizations.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    /** Event types (`user.created`) or a family (`membership.*`), `*` for all. */
    eventTypes: text("event_types").array().notNull(),
    secretCiphertext: bytea("secret_ciphertext").notNull(),
    secretKeyVersion: integer("secret_key_version").notNull(),
    previousSecretCiphertext: bytea("previous_secret_ciphertext"),
    previousSecretKeyVersion: integer("previous_secret_key_version"),
    previousSecretExpiresAt: timestamp("previous_secret_expires_at", { withTimezone: true }),
    enabled: boolean("enabled").notNull().default(true),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
  },
  (t) => [
    index("webhook_endpoints_org_id_idx").on(t.orgId),
    check("webhook_endpoints_has_events", sql`cardinality(${t.eventTypes}) > 0`),
    check(
      "webhook_endpoints_previous_secret_whole",
      sql`(${t.previousSecretCiphertext} IS NULL) = (${t.previousSecretKeyVersion} IS NULL) AND (${t.previousSecretCiphertext} IS NULL) = (${t.previousSecretExpiresAt} IS NULL)`,
    ),
  ],
);

/**
 * The transactional outbox: one row per (audit event, endpoint) that wants
 * it, written by the AFTER INSERT trigger on `audit_events` (custom
 * migration), so a change and its webhooks commit or roll back together.
 * `id` is the `webhook-id` (`msg_<id>`). While `queued`, `next_attempt_at` is
 * the lease after which the dispatcher claims the row again.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: id(),
    endpointId: uuid("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    eventType: text("event_type").notNull(),
    /** The audit row it was made from (no FK: audit retention must not erase undelivered events). */
    auditEventId: bigint("audit_event_id", { mode: "bigint" }),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    /** `pending` → `queued` → `delivered`, or back to `pending` with a later `next_attempt_at`, or `dead`. */
    state: text("state").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    /** HTTP status of the last attempt (NULL: no answer). */
    lastStatus: integer("last_status"),
    /** `timeout`, `network`, `http_<status>`, `redirect`, `endpoint_secret`: never a body or a secret. */
    lastErrorCode: text("last_error_code"),
    createdAt: createdAt(),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
  },
  (t) => [
    index("webhook_deliveries_due_idx").on(t.nextAttemptAt).where(sql`${t.state} IN ('pending', 'queued')`),
    index("webhook_deliveries_endpoint_id_idx").on(t.endpointId, t.createdAt, t.id),
    // The dispatcher deletes finished rows after DELIVERY_RETENTION_DAYS (db/webhook-deliveries.ts).
    index("webhook_deliveries_finished_idx").on(t.createdAt).where(sql`${t.state} IN ('delivered', 'dead')`),
    check("webhook_deliveries_state", sql`${t.state} IN ('pending', 'queued', 'delivered', 'dead')`),
  ],
);
