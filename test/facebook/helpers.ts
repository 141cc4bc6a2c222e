/**
 * Drives Facebook Pages connects through the real worker: an org with an
 * owner signed in (session cookies), `POST /auth/link/facebook?org=…`, the
 * browser at the Facebook fake, and the callback. Plus the row counts that
 * prove a refused connect wrote nothing.
 */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { sha256Hex } from "../../src/lib/crypto";
import { fakeScenario, visitAuthorize, type FakeScenario } from "../fakes/control";
import { rawSql } from "../helpers/neon-local";
import { accessTokenFor, addMembership, createOrgAs, createVerifiedUser } from "../helpers/orgs";
import { signInAs } from "../helpers/sessions";
import { request, TX_COOKIE } from "../signin/helpers";

export const ORIGIN = "https://auth.example.com";
export const AFTER = "https://app.example.com/after";

/** A Facebook user id no other test uses. */
export const newFacebookId = () => String(10_000_000_000 + Math.floor(Math.random() * 9e11));

/** A user signed in with session cookies and an access token, owner of a new shared org. */
export async function orgWithOwner(label = "owner") {
  const owner = await createVerifiedUser(label);
  const accessToken = await accessTokenFor(owner.id);
  const org = await createOrgAs(accessToken, "Pages Inc");
  const { cookieHeader } = await signInAs(owner.id);
  return { owner, accessToken, org, cookieHeader };
}

/** Another signed-in user with `role` in `orgId`. */
export async function memberOf(orgId: string, role: "owner" | "admin" | "member") {
  const user = await createVerifiedUser(role);
  await addMembership(orgId, user.id, role);
  const { cookieHeader } = await signInAs(user.id);
  return { user, cookieHeader, accessToken: await accessTokenFor(user.id) };
}

/** `POST /auth/link/facebook?org=<org>` as the browser holding `cookieHeader`. */
export function startConnect(targetEnv: Env, cookieHeader: string, org: string, query = `&redirect_to=${encodeURIComponent(AFTER)}`): Promise<Response> {
  return request(`/auth/link/facebook?org=${encodeURIComponent(org)}${query}`, { method: "POST", headers: { origin: ORIGIN, cookie: cookieHeader } }, targetEnv);
}

export interface ConnectFlow {
  start: Response;
  scenario: string;
  /** Where Facebook sends the browser back. */
  callbackUrl: URL;
  stateHash: string;
  /** Session cookies and the transaction cookie, for the callback. */
  cookie: string;
}

/** Starts a connect (expects the 303) and plays the browser at the fake, stopping before the callback. */
export async function beginConnect(targetEnv: Env, cookieHeader: string, org: string, scenario: FakeScenario): Promise<ConnectFlow> {
  const start = await startConnect(targetEnv, cookieHeader, org);
  expect(start.status, await start.clone().text()).toBe(303);
  const txCookie = start.headers.getSetCookie().find((c) => c.startsWith(`${TX_COOKIE}=`))?.split(";")[0] ?? "";
  const id = await fakeScenario("facebook", scenario);
  const callbackUrl = await visitAuthorize(start.headers.get("location") ?? "", id);
  return { start, scenario: id, callbackUrl, stateHash: await sha256Hex(callbackUrl.searchParams.get("state") ?? ""), cookie: `${cookieHeader}; ${txCookie}` };
}

/** The callback request of a flow. */
export function finishConnect(targetEnv: Env, flow: ConnectFlow): Promise<Response> {
  return request(flow.callbackUrl.pathname + flow.callbackUrl.search, { headers: { accept: "text/html", cookie: flow.cookie } }, targetEnv);
}

/** Everything a connect could write for this org, user, Facebook identity and state. */
export async function connectRows(where: { orgId: string; userId: string; subject: string; stateHash?: string }): Promise<Record<string, number>> {
  const [row] = await rawSql<Record<string, number>>(
    `SELECT
       (SELECT count(*)::int FROM provider_pages WHERE org_id = $1) AS pages,
       (SELECT count(*)::int FROM provider_tokens WHERE org_id = $1) AS org_tokens,
       (SELECT count(*)::int FROM provider_tokens WHERE user_id = $2) AS user_tokens,
       (SELECT count(*)::int FROM accounts WHERE provider = 'facebook' AND provider_subject = $3) AS accounts,
       (SELECT count(*)::int FROM oauth_consumed_states WHERE state_hash = $4) AS consumed,
       (SELECT count(*)::int FROM sessions WHERE user_id = $2) AS sessions,
       (SELECT count(*)::int FROM audit_events WHERE org_id = $1 AND action LIKE 'provider.%') AS audit`,
    [where.orgId, where.userId, where.subject, where.stateHash ?? ""],
  );
  return row ?? {};
}

/** Token rows of an org as stored: type, page (external id), whether active. */
export function tokenRows(orgId: string) {
  return rawSql<{ token_type: string; external_page_id: string | null; page_id: string | null; active: boolean; user_id: string; account_id: string }>(
    `SELECT t.token_type::text, p.external_page_id, t.page_id, t.deleted_at IS NULL AS active, t.user_id, t.account_id
     FROM provider_tokens t LEFT JOIN provider_pages p ON p.id = t.page_id
     WHERE t.org_id = $1 ORDER BY t.created_at, p.external_page_id`,
    [orgId],
  );
}

/** The KV transaction a start stored, by its state hash. */
export function storedTransaction(stateHash: string) {
  return env.AUTH_KV.get<{ orgId: string | null; linkUserId: string | null; scopes: string[] }>(`tx:${stateHash}`, "json");
}
