/**
 * Passkeys in Postgres (docs/passkeys.md). Every ceremony that writes is ONE
 * `db.batch` (one round trip, one transaction) whose first statement makes
 * the challenge single use (`finishStateStatement`: the challenge's hash in
 * `oauth_consumed_states`; a replay refuses `state_replayed` and the batch
 * rolls back), and whose other statements decide in SQL: a refusal calls
 * `gatehouse_refuse(reason)` (SQLSTATE GH001), so nothing is half-written.
 * Signature checks happen in the worker before (`passkeys/webauthn.ts`);
 * signing in first reads the credential's public key (`findPasskey`).
 */
import { sql, type SQL } from "drizzle-orm";
import { byteaLiteral, fromHex } from "../lib/hex";
import type { RequestContext } from "../lib/request-context";
import { auditInsert } from "./audit";
import type { Database } from "./client";
import { textArray } from "./oauth-authorize";
import { insertSessionStatement, ownerOf, type NewSession, type SessionProof } from "./sessions";
import { personalSlug, type SignedInProfile } from "./signin";
import { signInFlagsSql } from "./signin-audit";
import { finishStateStatement } from "./signin-claim";

/** A verified new credential, as `verifyRegistration` returns it. */
export interface NewPasskey {
  /** Chosen by the worker, so the session of a sign-up can name it in the same batch. */
  id: string;
  credentialId: string;
  publicKey: Uint8Array;
  counter: number;
  transports: readonly string[];
  deviceType: "singleDevice" | "multiDevice";
  backedUp: boolean;
  aaguid: string | null;
  name: string;
}

/** What the database refused; see each function. */
export type PasskeyRefusal = "state_replayed" | "unauthorized" | "passkey_exists" | "passkey_unknown" | "counter" | "disabled";
const REFUSALS: readonly PasskeyRefusal[] = ["state_replayed", "unauthorized", "passkey_exists", "passkey_unknown", "counter", "disabled"];

/** A stored credential as signing in needs it. */
export interface StoredPasskey {
  id: string;
  userId: string;
  credentialId: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
}

/**
 * The signed-in user a registration is for, and their credential ids (the
 * `excludeCredentials` of the options). `null`: the proof does not hold or
 * the user is disabled. One SELECT.
 *
 * @example const me = await passkeyOwner(db, proof);
 */
export async function passkeyOwner(db: Database, proof: SessionProof): Promise<{ id: string; email: string | null; name: string | null; credentialIds: string[] } | null> {
  const result = await db.execute(sql`
    SELECT u.id, u.email, u.name,
           coalesce((SELECT json_agg(p.credential_id) FROM passkeys p WHERE p.user_id = u.id), '[]'::json) AS credential_ids
    FROM users u WHERE u.id = ${ownerOf(proof)} AND u.disabled_at IS NULL`);
  const row = result.rows[0] as { id?: unknown; email?: unknown; name?: unknown; credential_ids?: unknown } | undefined;
  if (!row || typeof row.id !== "string") return null;
  return {
    id: row.id,
    email: typeof row.email === "string" ? row.email : null,
    name: typeof row.name === "string" ? row.name : null,
    credentialIds: Array.isArray(row.credential_ids) ? row.credential_ids.map(String) : [],
  };
}

/**
 * Adds a verified credential to the proven user, who must be the user the
 * challenge was made for, with its audit row: one round trip.
 *
 * @example
 * const result = await addPasskey(db, proof, { challengeHash, userId: stored.userId, passkey });
 */
export async function addPasskey(
  db: Database,
  proof: SessionProof,
  input: { challengeHash: string; userId: string; passkey: NewPasskey; context?: RequestContext },
): Promise<{ ok: true } | { ok: false; refusal: PasskeyRefusal }> {
  const p = input.passkey;
  return refusing(async () => {
    await db.batch([
      db.execute(finishStateStatement(input.challengeHash)),
      db.execute(sql`
        WITH me AS (
          SELECT u.id FROM users u WHERE u.id = ${ownerOf(proof)} AND u.id = ${input.userId}::uuid AND u.disabled_at IS NULL
        ),
        added AS (${insertPasskeySql(p, sql`(SELECT id FROM me)`, sql`me`)}),
        audit AS (${addAudit(sql`added`, input.context)})
        SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM me) THEN gatehouse_refuse('unauthorized')
                    WHEN NOT EXISTS (SELECT 1 FROM added) THEN gatehouse_refuse('passkey_exists') END AS refused`),
    ]);
    return { ok: true as const };
  });
}

/**
 * The credential a sign-in presents, or `null` when no user has it. One SELECT.
 *
 * @example const stored = await findPasskey(db, response.id);
 */
export async function findPasskey(db: Database, credentialId: string): Promise<StoredPasskey | null> {
  const result = await db.execute(sql`
    SELECT p.id, p.user_id, p.credential_id, p.public_key, p.counter, p.transports FROM passkeys p WHERE p.credential_id = ${credentialId}`);
  const row = result.rows[0] as Record<string, unknown> | undefined;
  if (!row || typeof row.id !== "string" || row.public_key == null) return null;
  return {
    id: row.id,
    userId: String(row.user_id),
    credentialId: String(row.credential_id),
    // The driver hands bytea over as `\x…` text or as bytes, depending on its type parsers.
    publicKey: typeof row.public_key === "string" ? fromHex(row.public_key) : new Uint8Array(row.public_key as ArrayLike<number>),
    counter: Number(row.counter),
    transports: Array.isArray(row.transports) ? row.transports.map(String) : [],
  };
}

/**
 * Signs in with a verified assertion: consumes the challenge, moves the
 * counter forward (refusing `counter` unless it grew, or both are 0), marks
 * the credential and the user used, and creates the session, in one round trip.
 *
 * @example
 * const result = await passkeySignIn(db, { challengeHash, passkeyId, userId, newCounter, backedUp, session });
 */
export async function passkeySignIn(
  db: Database,
  input: { challengeHash: string; passkeyId: string; userId: string; newCounter: number; backedUp: boolean; session: Omit<NewSession, "userId">; context?: RequestContext },
): Promise<{ ok: true; profile: SignedInProfile; flags: string[] } | { ok: false; refusal: PasskeyRefusal }> {
  const ctx = input.context;
  return refusing(async () => {
    const [, used] = await db.batch([
      db.execute(finishStateStatement(input.challengeHash)),
      db.execute(sql`
        WITH pk AS (
          SELECT p.id, p.user_id, p.counter FROM passkeys p WHERE p.id = ${input.passkeyId}::uuid AND p.user_id = ${input.userId}::uuid FOR UPDATE
        ),
        used AS (
          UPDATE passkeys p SET counter = ${input.newCounter}::bigint, backed_up = ${input.backedUp}::boolean, last_used_at = now()
          FROM pk WHERE p.id = pk.id AND (${input.newCounter}::bigint > pk.counter OR (${input.newCounter}::bigint = 0 AND pk.counter = 0))
          RETURNING p.user_id
        ),
        signed AS (
          UPDATE users u SET last_sign_in_at = now(), updated_at = now()
          FROM used WHERE u.id = used.user_id AND u.disabled_at IS NULL
          RETURNING u.id, u.email, u.email_verified_at IS NOT NULL AS email_verified, u.name, u.image
        ),
        -- The sign-in's audit row, flagged like a provider sign-in (db/signin-audit.ts).
        flagged AS (SELECT signed.id AS user_id, ${signInFlagsSql(sql`signed.id`, ctx)} AS flags FROM signed),
        audit AS (${auditInsert(
          {
            actor: { type: "user", id: sql`flagged.user_id` },
            action: "signin.success",
            orgId: sql`NULL::uuid`,
            targetType: "session",
            targetId: sql`${input.session.sessionId}::text`,
            metadata: sql`jsonb_build_object('method', 'passkey', 'new_user', false)`,
            subjectUserId: sql`flagged.user_id`,
            context: ctx,
            flags: sql`flagged.flags`,
          },
          sql`flagged`,
        )})
        SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM pk) THEN gatehouse_refuse('passkey_unknown')
                    WHEN NOT EXISTS (SELECT 1 FROM used) THEN gatehouse_refuse('counter')
                    WHEN NOT EXISTS (SELECT 1 FROM signed) THEN gatehouse_refuse('disabled') END AS refused,
               s.email, s.email_verified, s.name, s.image, (SELECT flags FROM flagged) AS flags
        FROM (SELECT 1) AS one LEFT JOIN signed s ON true`),
      insertSessionStatement(db, { ...input.session, userId: input.userId, passkeyId: input.passkeyId }),
    ]);
    const row = used.rows[0] as Record<string, unknown> | undefined;
    const flags = Array.isArray(row?.flags) ? row.flags.filter((f): f is string => typeof f === "string") : [];
    return { ok: true as const, profile: profileOf(row), flags };
  });
}

/**
 * A new account with a passkey alone: consumes the challenge, creates the
 * user (no email; the id the challenge carried as its user handle), their
 * personal organization and owner membership, the credential with its
 * audit row, and the session: one round trip.
 *
 * @example
 * const result = await passkeySignUp(db, { challengeHash, userId, name, passkey, session });
 */
export async function passkeySignUp(
  db: Database,
  input: { challengeHash: string; userId: string; name: string | null; passkey: NewPasskey; session: Omit<NewSession, "userId">; context?: RequestContext },
): Promise<{ ok: true } | { ok: false; refusal: PasskeyRefusal }> {
  const user = sql`${input.userId}::uuid`;
  const signUpAudit = (action: "user.create" | "signin.success", targetType: "user" | "session", targetId: SQL, metadata: SQL) =>
    auditInsert({ actor: { type: "user", id: user }, action, orgId: sql`NULL::uuid`, targetType, targetId, metadata, subjectUserId: user, context: input.context }, sql`(SELECT 1) AS one`);
  return refusing(async () => {
    await db.batch([
      db.execute(finishStateStatement(input.challengeHash)),
      db.execute(sql`INSERT INTO users (id, name, last_sign_in_at) VALUES (${input.userId}::uuid, ${input.name}, now())`),
      db.execute(sql`
        INSERT INTO organizations (slug, name, personal, personal_user_id)
        VALUES (${personalSlug()}, ${input.name ?? "Personal"}, true, ${input.userId}::uuid)`),
      db.execute(sql`
        INSERT INTO memberships (org_id, user_id, role)
        SELECT o.id, o.personal_user_id, 'owner' FROM organizations o WHERE o.personal_user_id = ${input.userId}::uuid`),
      db.execute(sql`
        WITH added AS (${insertPasskeySql(input.passkey, sql`${input.userId}::uuid`, sql`(SELECT 1) AS one`)}),
        audit AS (${addAudit(sql`added`, input.context)})
        SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM added) THEN gatehouse_refuse('passkey_exists') END AS refused`),
      insertSessionStatement(db, { ...input.session, userId: input.userId, passkeyId: input.passkey.id }),
      db.execute(sql`
        WITH created AS (${signUpAudit("user.create", "user", sql`${input.userId}::text`, sql`jsonb_build_object('method', 'passkey')`)}),
        signed_in AS (${signUpAudit("signin.success", "session", sql`${input.session.sessionId}::text`, sql`jsonb_build_object('method', 'passkey', 'new_user', true)`)})
        SELECT 1`),
    ]);
    return { ok: true as const };
  });
}

/** What one removal did. */
export type RemovePasskeyResult =
  | { outcome: "removed"; revokedSessions: string[] }
  /** It is the user's only way to sign in (passkeys and linked accounts together): nothing changed. */
  | { outcome: "last_method" }
  | { outcome: "not_found" }
  | { outcome: "unauthorized" };

/**
 * Removes one of the proven user's passkeys in ONE statement, never their
 * last sign-in method: the user's accounts and passkeys are locked
 * (`FOR UPDATE`) and counted together, so racing removals (or a removal and
 * an unlink, which locks the same rows) cannot both pass. Sessions created
 * with the passkey end in the same statement (the caller denylists them);
 * the audit row too.
 *
 * @example
 * const result = await removePasskey(db, proof, passkeyId);
 */
export async function removePasskey(db: Database, proof: SessionProof, passkeyId: string, context?: RequestContext): Promise<RemovePasskeyResult> {
  const result = await db.execute(sql`
    WITH me AS (SELECT u.id FROM users u WHERE u.id = ${ownerOf(proof)} AND u.disabled_at IS NULL),
    my_accounts AS (SELECT a.id FROM accounts a WHERE a.user_id = (SELECT id FROM me) FOR UPDATE),
    my_passkeys AS (SELECT p.id FROM passkeys p WHERE p.user_id = (SELECT id FROM me) FOR UPDATE),
    target AS (SELECT id FROM my_passkeys WHERE id = ${passkeyId}::uuid),
    removed AS (
      DELETE FROM passkeys p
      WHERE p.id IN (SELECT id FROM target)
        AND (SELECT count(*) FROM my_accounts) + (SELECT count(*) FROM my_passkeys) > 1
      RETURNING p.id, p.name
    ),
    ended AS (
      UPDATE sessions s SET revoked_at = now()
      WHERE s.passkey_id IN (SELECT id FROM removed) AND s.revoked_at IS NULL
      RETURNING s.id
    ),
    audit AS (${auditInsert(
      {
        actor: { type: "user", id: sql`(SELECT id FROM me)` },
        action: "passkey.remove",
        orgId: sql`NULL::uuid`,
        targetType: "passkey",
        targetId: sql`removed.id::text`,
        metadata: sql`jsonb_build_object('name', removed.name)`,
        subjectUserId: sql`(SELECT id FROM me)`,
        context,
      },
      sql`removed`,
    )})
    SELECT (SELECT id FROM me) AS user_id,
           (SELECT count(*) FROM target)::int AS matched,
           (SELECT count(*) FROM removed)::int AS removed,
           (SELECT coalesce(json_agg(id), '[]'::json) FROM ended) AS ended`);
  const row = result.rows[0] as { user_id: unknown; matched: unknown; removed: unknown; ended: unknown } | undefined;
  if (!row || row.user_id === null) return { outcome: "unauthorized" };
  if (Number(row.matched) === 0) return { outcome: "not_found" };
  if (Number(row.removed) === 0) return { outcome: "last_method" };
  return { outcome: "removed", revokedSessions: Array.isArray(row.ended) ? row.ended.map(String) : [] };
}

/** `INSERT INTO passkeys … SELECT … FROM <from>` (no row on a known credential id), for a CTE. */
function insertPasskeySql(p: NewPasskey, userId: SQL, from: SQL): SQL {
  return sql`INSERT INTO passkeys (id, user_id, credential_id, public_key, counter, transports, device_type, backed_up, aaguid, name)
    SELECT ${p.id}::uuid, ${userId}, ${p.credentialId}, ${byteaLiteral(p.publicKey)}::bytea, ${p.counter}::bigint, ${textArray(p.transports)},
           ${p.deviceType}, ${p.backedUp}::boolean, ${p.aaguid}, ${p.name}
    FROM ${from}
    ON CONFLICT (credential_id) DO NOTHING
    RETURNING id, user_id, name, device_type`;
}

function addAudit(from: SQL, context: RequestContext | undefined): SQL {
  return auditInsert(
    {
      actor: { type: "user", id: sql`added.user_id` },
      action: "passkey.add",
      orgId: sql`NULL::uuid`,
      targetType: "passkey",
      targetId: sql`added.id::text`,
      metadata: sql`jsonb_build_object('name', added.name, 'deviceType', added.device_type)`,
      subjectUserId: sql`added.user_id`,
      context,
    },
    from,
  );
}

/** Runs a batch, turning `gatehouse_refuse()` (GH001) and the state's key into a typed refusal. */
async function refusing<T>(run: () => Promise<T>): Promise<T | { ok: false; refusal: PasskeyRefusal }> {
  try {
    return await run();
  } catch (error) {
    for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
      const fields = e as { code?: unknown; constraint?: unknown; message?: unknown };
      if (fields.code === "23505" && fields.constraint === "oauth_consumed_states_pkey") return { ok: false, refusal: "state_replayed" };
      if (fields.code === "23505" && fields.constraint === "passkeys_credential_id_key") return { ok: false, refusal: "passkey_exists" };
      if (fields.code === "GH001") {
        const refusal = REFUSALS.find((r) => r === fields.message);
        if (refusal) return { ok: false, refusal };
      }
    }
    throw error;
  }
}

function profileOf(row: Record<string, unknown> | undefined): SignedInProfile {
  const text = (v: unknown) => (typeof v === "string" ? v : null);
  return { email: text(row?.email), emailVerified: row?.email_verified === true, name: text(row?.name), image: text(row?.image) };
}
