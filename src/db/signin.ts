/**
 * The sign-in callback's only database work: ONE `db.batch` (one round
 * trip, one transaction) whose statements make every decision in SQL.
 *
 *   1. finish the state: mark the callback's claim (`db/signin-claim.ts`)
 *      `signed_in`, or insert it so; a state that is already finished (a
 *      replay, a concurrent duplicate) refuses `state_replayed` and the whole
 *      batch rolls back;
 *   2. decide who signs in (data-modifying CTEs): the account's user, the
 *      linking user, or the owner of the same verified email; create the
 *      user and/or the account; refuse (see below) otherwise. A verified
 *      email whose only owners are unverified gets a new user: an
 *      unverified claim never blocks, nor joins, the address's real owner.
 *      Its audit rows too: `user.create`, `signin.success` with the
 *      `new_device`/`new_country` flags computed from the user's earlier
 *      sign-in events, `account.link` (see `signInAuditSql`);
 *   3. the personal organization, when the user has none;
 *   4. the owner membership of it;
 *   5. the provider's tokens, encrypted, as the user's `token_type='user'` row;
 *   6. the session (`insertSessionStatement`);
 *   7. with `connect` (a Facebook Pages connect started from a link): the org
 *      role guard, pages and page/user tokens of `db/facebook-connect.ts`.
 *
 * Statements 3–6 find the user through `accounts(provider, provider_subject)`,
 * which statement 2 has just written in the same transaction.
 *
 * A refused sign-in (email owned by someone else, identity linked to another
 * user, disabled user) makes statement 2 call `gatehouse_refuse(reason)`
 * (migration 0001), which raises SQLSTATE GH001 with the reason: the batch
 * rolls back, nothing is written, and {@link runSignInBatch} turns it back
 * into a typed result.
 */
import { sql, type SQL } from "drizzle-orm";
import { GatehouseError } from "../error";
import type { StoredProfile } from "../lib/profile";
import type { Database } from "./client";
import { pagesConnectStatements, type PagesConnectInput } from "./facebook-connect";
import { postgresCode } from "./migrations";
import { isOrgRoleRefusal } from "./orgs";
import { TOKEN_AAD_VERSION } from "./provider-tokens";
import { insertSessionStatement, type NewSession } from "./sessions";
import { finishStateStatement } from "./signin-claim";
import { byteaLiteral } from "../lib/hex";
import type { RequestContext } from "../lib/request-context";
import { signInAuditSql } from "./signin-audit";

/** Why the database refused a sign-in. */
export type SignInRefusal =
  /** The state was consumed already: replay, or a concurrent duplicate callback. */
  | "state_replayed"
  /** The email belongs to another user and may not be linked automatically. */
  | "not_linked"
  /** Explicit linking, but the identity already belongs to another user. */
  | "link_conflict"
  /** Explicit linking, but the linking user no longer exists. */
  | "link_user_missing"
  /** Explicit linking, but the session that started it was signed out (or expired) meanwhile. */
  | "link_session_ended"
  /** The identity is known, but under another issuer: the provider instance was repointed (another tenant's subjects). */
  | "issuer_mismatch"
  | "disabled"
  /** A connect, but the linking user is no longer owner or admin of the organization. */
  | "org_forbidden"
  /** An email code entered after its attempts were used up (`db/email-signin.ts`). */
  | "code_attempts";

/** How the user was found, when the sign-in succeeded. */
export type SignInPath = "new" | "existing" | "link" | "email_match";

export type SignInResult =
  | {
      ok: true;
      path: SignInPath;
      userId: string;
      sessionId: string;
      profile: SignedInProfile;
      /** The flags of the `signin.success` event (`new_device`, `new_country`); empty for a link or a new user. */
      flags: string[];
    }
  | { ok: false; refusal: SignInRefusal };

/** The signed-in user's profile as stored, for the session JWT. */
export interface SignedInProfile {
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  image: string | null;
}

export interface SignInBatchInput {
  /** sha256 hex of the state. */
  stateHash: string;
  profile: StoredProfile;
  linkUserId: string | null;
  /** The session that started the link, required to be live (null: not checked). */
  linkSessionId?: string | null;
  /**
   * Sealed with `userTokenAad({ kind: "personal" }, profile.provider, profile.subject)` (orgs/provider-token-secret.ts);
   * `null` for a sign-in without provider tokens (email codes): statement 5 is left out.
   */
  token: { ciphertext: Uint8Array; keyVersion: number; scopes: readonly string[]; expiresAt: Date | null } | null;
  session: Omit<NewSession, "userId">;
  /** Connect the identity's Pages to an organization in the same batch; needs `linkUserId`. */
  connect?: PagesConnectInput | null;
  /**
   * An email code's attempt, counted in the same batch (`db/email-signin.ts`):
   * past the limit the batch refuses `code_attempts` and rolls back.
   */
  codeAttempt?: SQL | null;
  /** The request (`c.var.request`): the audit rows carry it, and the sign-in flags compare with it. */
  context?: RequestContext | null;
}

/** SQLSTATE raised by `gatehouse_refuse()`; its message is the refusal. */
const REFUSAL_SQLSTATE = "GH001";
const REFUSALS: readonly SignInRefusal[] = ["state_replayed", "not_linked", "link_conflict", "link_user_missing", "link_session_ended", "issuer_mismatch", "disabled", "code_attempts"];

/**
 * Runs the sign-in batch. A unique violation other than the state's
 * (two first sign-ins of one identity or one verified email racing, or a
 * slug collision) is retried once with a new slug: the retry sees the
 * winner's committed rows and joins that user, so at most one user results.
 *
 * A second unique violation is a 503 `DatabaseUnavailable` (nothing was
 * written; retrying works). Driver failures are thrown for
 * `classifyDatabaseError` (DatabaseUnavailable).
 *
 * @example
 * const result = await runSignInBatch(db, { stateHash, profile, linkUserId: null, token, session });
 * if (!result.ok && result.refusal === "state_replayed") throw new GatehouseError("StateInvalid", "…");
 */
export async function runSignInBatch(db: Database, input: SignInBatchInput): Promise<SignInResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await executeBatch(db, input);
    } catch (error) {
      const refusal = refusalOf(error);
      if (refusal) return { ok: false, refusal };
      if (postgresCode(error) === "23505") {
        if (attempt === 0) continue;
        // Lost a race twice in a row: nothing was written; the user can simply retry.
        throw new GatehouseError("DatabaseUnavailable", "The sign-in collided with another one. Try again.", { cause: error });
      }
      throw error;
    }
  }
}

async function executeBatch(db: Database, input: SignInBatchInput): Promise<SignInResult> {
  const { profile: p, stateHash } = input;
  const accountUser = sql`(SELECT a.user_id FROM accounts a WHERE a.provider = ${p.provider} AND a.provider_subject = ${p.subject})`;

  const results = await db.batch([
    db.execute(finishStateStatement(stateHash)),
    db.execute(decideStatement(input)),
    db.execute(sql`
      INSERT INTO organizations (slug, name, personal, personal_user_id)
      SELECT ${personalSlug()}, ${p.name ?? "Personal"}, true, u.id
      FROM users u
      WHERE u.id = ${accountUser}
        AND NOT EXISTS (SELECT 1 FROM organizations o WHERE o.personal_user_id = u.id)
      ON CONFLICT (personal_user_id) DO NOTHING`),
    db.execute(sql`
      INSERT INTO memberships (org_id, user_id, role)
      SELECT o.id, o.personal_user_id, 'owner'
      FROM organizations o
      WHERE o.personal_user_id = ${accountUser}
      ON CONFLICT (org_id, user_id) DO NOTHING`),
    ...tokenStatements(db, input),
    insertSessionStatement(db, {
      ...input.session,
      userId: accountUser,
      // The identity this session came through: unlinking it ends the session (db/account.ts). A
      // link's session continues the session that started it, so it inherits that one's identity.
      accountId: input.linkSessionId
        ? sql`(SELECT s.account_id FROM sessions s WHERE s.id = ${input.linkSessionId}::uuid)`
        : sql`(SELECT a.id FROM accounts a WHERE a.provider = ${p.provider} AND a.provider_subject = ${p.subject})`,
    }),
    ...connectStatements(db, input),
    ...(input.codeAttempt ? [db.execute(input.codeAttempt)] : []),
  ]);

  const row = results[1].rows[0] as Record<string, unknown> | undefined;
  if (!row || typeof row.user_id !== "string" || !isPath(row.path)) {
    // Statement 2 always returns one row; anything else is a bug, not a user error.
    throw new Error("sign-in batch returned no decision");
  }
  const profile = { email: textOrNull(row.email), emailVerified: row.email_verified === true, name: textOrNull(row.name), image: textOrNull(row.image) };
  const flags = Array.isArray(row.flags) ? row.flags.map(String) : [];
  return { ok: true, path: row.path, userId: row.user_id, sessionId: input.session.sessionId, profile, flags };
}

/** Statement 5: the provider's tokens as the user's personal `token_type='user'` row; none without tokens. */
function tokenStatements(db: Database, input: SignInBatchInput) {
  const { profile: p, token } = input;
  if (!token) return [];
  return [
    db.execute(sql`
      INSERT INTO provider_tokens (org_id, user_id, account_id, provider, token_type, ciphertext, key_version, aad_version, scopes, expires_at)
      SELECT o.id, a.user_id, a.id, a.provider, 'user', ${byteaLiteral(token.ciphertext)}::bytea, ${token.keyVersion}::integer,
             ${TOKEN_AAD_VERSION}::integer, ${textArray(token.scopes)}::text[], ${token.expiresAt?.toISOString() ?? null}::timestamptz
      FROM accounts a
      JOIN organizations o ON o.personal_user_id = a.user_id
      WHERE a.provider = ${p.provider} AND a.provider_subject = ${p.subject}
      ON CONFLICT (org_id, user_id, provider) WHERE deleted_at IS NULL AND token_type = 'user'
      DO UPDATE SET account_id = EXCLUDED.account_id, ciphertext = EXCLUDED.ciphertext, key_version = EXCLUDED.key_version,
                    aad_version = EXCLUDED.aad_version,
                    scopes = EXCLUDED.scopes, expires_at = EXCLUDED.expires_at, updated_at = now()`),
  ];
}

/** Statements 7…: a connect's writes, on behalf of the linking user (statement 2 refused any other owner). */
function connectStatements(db: Database, input: SignInBatchInput) {
  if (!input.connect) return [];
  if (input.linkUserId === null) throw new Error("a connect needs the linking user");
  const { provider, subject } = input.profile;
  return pagesConnectStatements(db, { ...input.connect, userId: input.linkUserId, provider, subject, context: input.context ?? null });
}

/** Statement 2: the decision and the user/account writes, in one statement. */
function decideStatement(input: SignInBatchInput): SQL {
  const p = input.profile;
  return sql`
    WITH input AS (
      SELECT ${p.provider}::text AS provider, ${p.subject}::text AS subject, ${p.issuer}::text AS issuer,
             ${p.email}::text AS email, ${p.emailNormalized}::text AS email_normalized,
             ${p.emailVerified}::boolean AS email_verified, ${p.name}::text AS name, ${p.image}::text AS image,
             ${input.linkUserId}::uuid AS link_user_id, ${input.linkSessionId ?? null}::uuid AS link_session_id
    ),
    account AS (
      SELECT a.id, a.user_id, a.issuer FROM accounts a, input i WHERE a.provider = i.provider AND a.provider_subject = i.subject
    ),
    link_user AS (
      SELECT u.id,
             i.link_session_id IS NULL OR EXISTS (
               SELECT 1 FROM sessions s WHERE s.id = i.link_session_id AND s.user_id = u.id
                 AND s.revoked_at IS NULL AND s.expires_at > now() AND s.absolute_expires_at > now()
             ) AS session_live
      FROM users u, input i WHERE u.id = i.link_user_id
    ),
    email_owner AS (
      SELECT u.id, u.email_verified_at IS NOT NULL AS verified FROM users u, input i
      WHERE i.email_normalized IS NOT NULL AND u.email_normalized = i.email_normalized
      ORDER BY u.email_verified_at IS NULL, u.created_at
      LIMIT 1
    ),
    choice AS (
      SELECT
        CASE
          -- A subject means something only under its issuer: another issuer's subject is another person.
          WHEN account.user_id IS NOT NULL AND account.issuer IS NOT NULL AND account.issuer IS DISTINCT FROM i.issuer THEN 'issuer_mismatch'
          WHEN account.user_id IS NOT NULL AND i.link_user_id IS NOT NULL AND account.user_id <> i.link_user_id THEN 'link_conflict'
          WHEN account.user_id IS NOT NULL THEN 'existing'
          WHEN i.link_user_id IS NOT NULL AND link_user.id IS NULL THEN 'link_user_missing'
          WHEN i.link_user_id IS NOT NULL AND NOT link_user.session_live THEN 'link_session_ended'
          WHEN i.link_user_id IS NOT NULL THEN 'link'
          WHEN email_owner.id IS NULL THEN 'new'
          WHEN i.email_verified AND email_owner.verified THEN 'email_match'
          -- Only unverified users claim the address (email_owner prefers a verified one): such a
          -- claim proves nothing, so it must neither lock out the verified owner nor another
          -- unverified sign-in with the same address. A user of their own.
          WHEN NOT email_owner.verified THEN 'new'
          -- An unverified sign-in meeting a verified owner: it may be the owner, it may not.
          ELSE 'not_linked'
        END AS path,
        COALESCE(account.user_id, link_user.id, CASE WHEN email_owner.verified THEN email_owner.id END) AS user_id
      FROM input i
      LEFT JOIN account ON true
      LEFT JOIN link_user ON true
      LEFT JOIN email_owner ON true
    ),
    decision AS (
      SELECT CASE WHEN u.disabled_at IS NOT NULL AND c.path IN ('existing', 'link', 'email_match') THEN 'disabled' ELSE c.path END AS path,
             c.user_id
      FROM choice c
      LEFT JOIN users u ON u.id = c.user_id
    ),
    new_user AS (
      INSERT INTO users (email, email_normalized, email_verified_at, name, image, last_sign_in_at)
      SELECT i.email, i.email_normalized, CASE WHEN i.email_verified THEN now() END, i.name, i.image, now()
      FROM input i, decision d
      WHERE d.path = 'new'
      RETURNING id
    ),
    known_user AS (
      UPDATE users u
      SET last_sign_in_at = now(), updated_at = now(), name = COALESCE(u.name, i.name), image = COALESCE(u.image, i.image)
      FROM input i, decision d
      WHERE u.id = d.user_id AND d.path IN ('existing', 'link', 'email_match')
      RETURNING u.id
    ),
    new_account AS (
      INSERT INTO accounts (user_id, provider, provider_subject, issuer, email, email_verified)
      SELECT COALESCE((SELECT id FROM new_user), d.user_id), i.provider, i.subject, i.issuer, i.email, i.email_verified
      FROM input i, decision d
      WHERE d.path IN ('new', 'link', 'email_match')
      RETURNING id, user_id
    ),
    known_account AS (
      UPDATE accounts a
      SET issuer = COALESCE(a.issuer, i.issuer), email = i.email, email_verified = i.email_verified, updated_at = now()
      FROM input i, decision d, account
      WHERE a.id = account.id AND d.path = 'existing'
      RETURNING a.user_id
    ),
    ${signInAuditSql(input)}
    SELECT d.path, (SELECT flags FROM signed_in) AS flags,
      CASE WHEN d.path IN ('new', 'existing', 'link', 'email_match')
        THEN COALESCE((SELECT user_id FROM new_account), (SELECT user_id FROM known_account))::text
        -- Refuse: fail the statement (and the batch) with SQLSTATE GH001 naming the outcome.
        ELSE gatehouse_refuse(d.path)::text
      END AS user_id,
      -- The user's profile as it stands after this statement (its updates are not visible here).
      CASE WHEN d.path = 'new' THEN i.email ELSE u.email END AS email,
      CASE WHEN d.path = 'new' THEN i.email_verified ELSE u.email_verified_at IS NOT NULL END AS email_verified,
      CASE WHEN d.path = 'new' THEN i.name ELSE COALESCE(u.name, i.name) END AS name,
      CASE WHEN d.path = 'new' THEN i.image ELSE COALESCE(u.image, i.image) END AS image
    FROM decision d
    CROSS JOIN input i
    LEFT JOIN users u ON u.id = d.user_id`;
}

/** The refusal raised by `gatehouse_refuse()` in statement 2, or the state's primary key. */
function refusalOf(error: unknown): SignInRefusal | null {
  if (isOrgRoleRefusal(error)) return "org_forbidden";
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const fields = e as { code?: unknown; constraint?: unknown; message?: unknown };
    if (fields.code === "23505" && fields.constraint === "oauth_consumed_states_pkey") return "state_replayed";
    if (fields.code === REFUSAL_SQLSTATE) {
      const refusal = REFUSALS.find((r) => r === fields.message);
      if (refusal) return refusal;
    }
  }
  return null;
}

function textOrNull(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function isPath(value: unknown): value is SignInPath {
  return value === "new" || value === "existing" || value === "link" || value === "email_match";
}

/**
 * `u-` + 16 lowercase base32 characters (80 random bits); unique index backs it.
 *
 * @example personalSlug() // "u-k3j…"
 */
export function personalSlug(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  return "u-" + Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => alphabet[b % 32]).join("");
}

/** A Postgres array literal of text values, quoted and escaped. */
function textArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`).join(",")}}`;
}
