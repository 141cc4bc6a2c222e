/**
 * Helpers for the org tests: verified users, access tokens signed by the
 * real signer, calls to `/api/orgs…` counted under a neon-local scope, and
 * service-client environments for the orgs a test creates.
 */
import { env } from "cloudflare:workers";
import { seal } from "../../src/lib/crypto";
import { pageTokenAad, providerTokenPlaintext, userTokenAad } from "../../src/orgs/provider-token-secret";
import { signAccessToken } from "../../src/tokens/access-token";
import { call, scopedEnv } from "./app";
import { rawSql } from "./neon-local";
import { createTestUser, testConfig } from "./sessions";

/** A short random suffix for unique slugs and emails. */
export const unique = () => crypto.randomUUID().slice(0, 8);

/**
 * A user with a VERIFIED email (lowercase, so it is its own normalized form).
 *
 * @example
 * const ada = await createVerifiedUser("ada");
 */
export async function createVerifiedUser(label = "user", options: { verified?: boolean; disabled?: boolean } = {}): Promise<{ id: string; email: string }> {
  const email = `${label}-${unique()}@example.com`;
  const id = await createTestUser({ email, name: label, disabled: options.disabled ?? false });
  if (options.verified !== false) await rawSql("UPDATE users SET email_verified_at = now() WHERE id = $1", [id]);
  return { id, email };
}

/** The audience of gatehouse's own APIs in tests: `<AUTH_URL>/api`. */
export const API_AUDIENCE = "https://auth.example.com/api";

/**
 * An access token for `userId` for gatehouse's own API (audience
 * `<AUTH_URL>/api`, scope `gatehouse:orgs`), signed by the worker's own signer (`signAccessToken`).
 *
 * @example
 * const token = await accessTokenFor(userId);
 */
export async function accessTokenFor(userId: string, options: { audience?: string; scope?: string; now?: Date } = {}): Promise<string> {
  const config = testConfig();
  const { token } = await signAccessToken(config, {
    userId,
    sessionId: crypto.randomUUID(),
    audience: options.audience ?? API_AUDIENCE,
    scope: options.scope ?? "gatehouse:orgs",
    clientId: "https://app.example.com",
    now: options.now ?? new Date(),
  });
  return token;
}

/**
 * Calls the org API with a Bearer token (and a JSON body when given).
 *
 * @example
 * const res = await api(token, "POST", "/api/orgs", { name: "Acme" }, { scope: "orgs-create" });
 */
export function api(token: string | null, method: string, path: string, body?: unknown, options: { scope?: string; env?: Env } = {}): Promise<Response> {
  // A client address of its own per call: the suite's many API calls must not share one
  // per-address budget (test/foundation/rate-limit.test.ts tests the limit itself).
  const headers: Record<string, string> = { "cf-connecting-ip": `2001:db8:${randomHextet()}:${randomHextet()}::1` };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  return call(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }, options);
}

function randomHextet(): string {
  return crypto.getRandomValues(new Uint16Array(1))[0]!.toString(16);
}

/**
 * Creates an organization through the API; returns its id and slug.
 *
 * @example
 * const acme = await createOrgAs(ownerToken, "Acme");
 */
export async function createOrgAs(token: string, name = "Org", slug?: string): Promise<{ id: string; slug: string }> {
  const res = await api(token, "POST", "/api/orgs", { name, slug: slug ?? `org-${unique()}` });
  if (res.status !== 201) throw new Error(`createOrgAs: HTTP ${res.status} ${await res.text()}`);
  const { org } = (await res.json()) as { org: { id: string; slug: string } };
  return org;
}

/** Adds a membership directly (test setup, not under test). */
export async function addMembership(orgId: string, userId: string, role: "owner" | "admin" | "member"): Promise<void> {
  await rawSql("INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)", [orgId, userId, role]);
}

/** The personal organization the sign-in callback would create for `userId`. */
export async function createPersonalOrg(userId: string): Promise<{ id: string; slug: string }> {
  const slug = `u-${unique()}${unique()}`;
  const [org] = await rawSql<{ id: string }>(
    "INSERT INTO organizations (slug, name, personal, personal_user_id) VALUES ($1, 'Personal', true, $2) RETURNING id",
    [slug, userId],
  );
  await addMembership(org!.id, userId, "owner");
  return { id: org!.id, slug };
}

/** Row count of `table` matching `where` (a trusted SQL fragment with $1…). */
export async function countRows(table: string, where = "true", params: unknown[] = []): Promise<number> {
  const [row] = await rawSql<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params);
  return row!.n;
}

/** The audit rows of an org, oldest first. */
export function auditRows(orgId: string) {
  return rawSql<{ actor_type: string; actor_id: string; action: string; target_type: string; target_id: string; metadata: Record<string, unknown> }>(
    "SELECT actor_type, actor_id, action, target_type, target_id, metadata FROM audit_events WHERE org_id = $1 ORDER BY id",
    [orgId],
  );
}

export const SERVICE_SECRET = "svc-secret-0123456789-abcdefghij";

/** sha256 hex, as AUTH_SERVICE_CLIENTS stores it. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The test env with AUTH_SERVICE_CLIENTS set to `clients` (all with SERVICE_SECRET), under `scope`.
 *
 * @example
 * const e = await serviceEnv("svc", [{ id: "billing", orgs: [acme.slug] }]);
 */
export async function serviceEnv(scope: string, clients: { id: string; orgs: string[] }[]): Promise<Env> {
  const secretHash = await sha256Hex(SERVICE_SECRET);
  return scopedEnv(scope, { AUTH_SERVICE_CLIENTS: JSON.stringify(clients.map((c) => ({ ...c, secretHash }))) });
}

/** `Authorization: Basic` for a service client. */
export function basic(id: string, secret = SERVICE_SECRET): string {
  return `Basic ${btoa(`${id}:${secret}`)}`;
}

/** An `accounts` row for `userId` (the provider identity tokens are granted to). */
export async function createAccount(userId: string, provider = "facebook"): Promise<{ id: string; subject: string }> {
  const subject = `fb-${unique()}`;
  const [row] = await rawSql<{ id: string }>(
    "INSERT INTO accounts (user_id, provider, provider_subject) VALUES ($1, $2, $3) RETURNING id",
    [userId, provider, subject],
  );
  return { id: row!.id, subject };
}

/** A page token sealed the way the connect flow must seal it (for the connecting `userId`). */
export async function sealPageToken(orgId: string, userId: string, externalPageId: string, accessToken: string, provider = "facebook") {
  const sealed = await seal(testConfig().encryptionKeys, providerTokenPlaintext({ accessToken }), pageTokenAad(orgId, userId, provider, externalPageId));
  return { ...sealed, scopes: ["pages_show_list"], expiresAt: null };
}

/** A user token for (org, user) sealed the way the connect flow seals it. */
export async function sealUserToken(owner: { orgId: string; userId: string }, subject: string, accessToken: string, provider = "facebook", expiresAt: Date | null = null) {
  const aad = userTokenAad({ kind: "org", ...owner }, provider, subject);
  const sealed = await seal(testConfig().encryptionKeys, providerTokenPlaintext({ accessToken, expiresAt }), aad);
  return { ...sealed, scopes: ["public_profile"], expiresAt };
}

export { env };
