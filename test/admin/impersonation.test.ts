/**
 * Impersonation: an operator gets a browser session as the user, for at
 * most an hour, recorded at start and end; its session JWT and access
 * tokens carry `act: {sub: <operator>}` (RFC 8693), every page shows the
 * banner, and the session can do nothing an operator can.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers/app";
import { rawSql } from "../helpers/neon-local";
import { createVerifiedUser } from "../helpers/orgs";
import { cookieHeader, craftJwt, resetRoundTrips, roundTrips, sessionClaims, setCookies } from "../helpers/sessions";
import { createClient } from "../oauth/helpers";
import { adminEnv, auditOf, expectRefused, page, postForm, signedInOperator } from "./helpers";

beforeEach(async () => {
  await resetRoundTrips();
});

function payload(jwt: string): Record<string, unknown> {
  const part = jwt.split(".")[1] ?? "";
  return JSON.parse(atob(part.replaceAll("-", "+").replaceAll("_", "/"))) as Record<string, unknown>;
}

async function impersonate(opCookie: string, userId: string, e: Env) {
  const res = await postForm(`/admin/users/${userId}/impersonate`, opCookie, { confirm: "yes" }, e);
  const cookies = setCookies(res);
  const session = cookies.get("__Host-gh_session")?.value ?? "";
  const refresh = cookies.get("__Host-gh_refresh")?.value ?? "";
  return { res, session, refresh, cookie: cookieHeader({ session, refresh }) };
}

function token(cookie: string, e: Env, scope = "gatehouse:orgs"): Promise<Response> {
  return call(
    "/auth/token",
    {
      method: "POST",
      headers: { cookie, origin: "https://auth.example.com", "content-type": "application/json" },
      body: JSON.stringify({ resource: "https://auth.example.com/api", scope }),
    },
    { env: e },
  );
}

describe("impersonation", () => {
  it("starts in one round trip: a session of the user marked with the operator, ending within an hour, audited", async () => {
    const op = await signedInOperator();
    const ada = await createVerifiedUser("ada");
    const e = adminEnv([op.id]);
    await resetRoundTrips();
    const started = await impersonate(op.session.cookieHeader, ada.id, e);
    expect(started.res.status).toBe(303);
    expect(started.res.headers.get("location")).toBe("/account");
    expect(await roundTrips()).toBe(1);
    const claims = payload(started.session);
    expect(claims.sub).toBe(ada.id);
    expect(claims.act).toEqual({ sub: op.id });
    expect(claims.email).toBe(ada.email);
    const [row] = await rawSql<{ impersonator_id: string; span: number }>(
      "SELECT impersonator_id, extract(epoch FROM absolute_expires_at - created_at)::float8 AS span FROM sessions WHERE id = $1",
      [claims.sid],
    );
    expect(row!.impersonator_id).toBe(op.id);
    expect(row!.span).toBeLessThanOrEqual(3600);
    expect((claims.sess_exp as number) - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(3600);
    const rows = await auditOf(ada.id);
    expect(rows.map((r) => r.action)).toEqual(["impersonation.start"]);
    expect(rows[0]).toMatchObject({ actor_id: op.id, subject_user_id: ada.id, metadata: { session_id: claims.sid } });
  });

  it("every page shows the banner with an end button; other visitors see none", async () => {
    const op = await signedInOperator();
    const ada = await createVerifiedUser("ada");
    const e = adminEnv([op.id]);
    const { cookie } = await impersonate(op.session.cookieHeader, ada.id, e);
    for (const path of ["/account", "/", "/auth/signin", "/no-such-page"]) {
      const res = await page(path, cookie, e);
      // The banner's form must send a real Origin (not `null`, as under no-referrer).
      expect(res.headers.get("referrer-policy"), path).toBe("same-origin");
      const html = await res.text();
      expect(html, path).toContain('id="impersonation"');
      expect(html, path).toContain('action="/admin/impersonation/end"');
      expect(html, path).toContain(ada.email);
    }
    const ko = await (await page("/account?lang=ko", cookie, e)).text();
    expect(ko).toContain("대리 로그인 끝내기");
    expect(await (await page("/account", op.session.cookieHeader, e)).text()).not.toContain('id="impersonation"');
  });

  it("access tokens carry act and end with the impersonation; the admin scope and the admin page are refused", async () => {
    const op = await signedInOperator();
    const ada = await createVerifiedUser("ada");
    // Even an operator, impersonated, is not an operator.
    const e = adminEnv([op.id, ada.id]);
    const { cookie, session } = await impersonate(op.session.cookieHeader, ada.id, e);
    const res = await token(cookie, e);
    expect(res.status).toBe(200);
    const access = payload(((await res.json()) as { access_token: string }).access_token);
    expect(access).toMatchObject({ sub: ada.id, act: { sub: op.id } });
    expect(access.exp as number).toBeLessThanOrEqual(payload(session).sess_exp as number);
    expectRefused(await token(cookie, e, "gatehouse:admin"), 403);
    const other = await createVerifiedUser("other");
    await resetRoundTrips();
    expectRefused(await page("/admin", cookie, e), 403);
    expectRefused(await postForm(`/admin/users/${other.id}/disable`, cookie, { confirm: "yes" }, e), 403);
    expectRefused(await postForm(`/admin/users/${other.id}/impersonate`, cookie, { confirm: "yes" }, e), 403);
    expect(await roundTrips()).toBe(0);
    expect(await auditOf(other.id)).toEqual([]);
  });

  it("an impersonated session cannot authorize an OAuth application (no code, no consent page, no grant)", async () => {
    const op = await signedInOperator();
    const ada = await createVerifiedUser("ada");
    const e = adminEnv([op.id]);
    const { cookie } = await impersonate(op.session.cookieHeader, ada.id, e);
    const app = await createClient({ redirectUris: ["https://imp.example.org/cb"] });
    const query = new URLSearchParams({
      response_type: "code",
      client_id: app.clientId,
      redirect_uri: "https://imp.example.org/cb",
      scope: "openid",
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGKSIHMKqE",
      code_challenge_method: "S256",
      state: "s",
    });
    const grantsBefore = await rawSql("SELECT count(*)::int AS n FROM oauth_grants WHERE user_id = $1", [ada.id]);
    await resetRoundTrips();
    const res = await call(`/oauth/authorize?${query}`, { headers: { cookie, accept: "text/html" } }, { env: e });
    expect(res.status).toBe(403);
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.getSetCookie().filter((c) => !c.startsWith("__Host-gh_lang"))).toEqual([]);
    expect(await roundTrips()).toBe(0);
    expect(await rawSql("SELECT count(*)::int AS n FROM oauth_grants WHERE user_id = $1", [ada.id])).toEqual(grantsBefore);
    const posted = await postForm("/oauth/consent", cookie, { request: query.toString(), consent_token: "x", decision: "allow" }, e);
    expect(posted.status).toBe(403);
    expect(posted.headers.get("location")).toBeNull();
  });

  it("a refresh keeps act; past its end neither the JWT nor the refresh token works", async () => {
    const op = await signedInOperator();
    const ada = await createVerifiedUser("ada");
    const e = adminEnv([op.id]);
    const { refresh, session } = await impersonate(op.session.cookieHeader, ada.id, e);
    const refreshed = await page("/auth/session", cookieHeader({ refresh }), e);
    expect(refreshed.status).toBe(200);
    const next = setCookies(refreshed).get("__Host-gh_session")?.value ?? "";
    expect(payload(next).act).toEqual({ sub: op.id });
    // A JWT naming an ended impersonation (sess_exp past) is refused even within its own lifetime.
    const sid = payload(session).sid as string;
    const stale = await craftJwt({ ...sessionClaims(ada.id, sid), act: { sub: op.id }, sess_exp: Math.floor(Date.now() / 1000) - 1 }, { typ: "session+jwt" });
    expect((await page("/auth/session", cookieHeader({ session: stale }), e)).status).toBe(401);
    await rawSql("UPDATE sessions SET absolute_expires_at = now() - interval '1 second', expires_at = now() - interval '1 second' WHERE id = $1", [sid]);
    const latest = setCookies(refreshed).get("__Host-gh_refresh")?.value ?? "";
    expect((await page("/auth/session", cookieHeader({ refresh: latest }), e)).status).toBe(401);
  });

  it("the banner's button ends it in one round trip: revoked, denylisted, audited, cookies cleared", async () => {
    const op = await signedInOperator();
    const ada = await createVerifiedUser("ada");
    const e = adminEnv([op.id]);
    const { cookie, session } = await impersonate(op.session.cookieHeader, ada.id, e);
    await resetRoundTrips();
    const res = await postForm("/admin/impersonation/end", cookie, {}, e);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/auth/signin?redirect_to=%2Fadmin");
    expect(await roundTrips()).toBe(1);
    expect(setCookies(res).get("__Host-gh_session")?.maxAge).toBe(0);
    const sid = payload(session).sid as string;
    const [row] = await rawSql<{ revoked_at: unknown }>("SELECT revoked_at FROM sessions WHERE id = $1", [sid]);
    expect(row!.revoked_at).not.toBeNull();
    expect((await page("/auth/session", cookieHeader({ session }), e)).status).toBe(401);
    const rows = await auditOf(ada.id);
    expect(rows.map((r) => r.action)).toEqual(["impersonation.start", "impersonation.end"]);
    expect(rows[1]).toMatchObject({ actor_id: op.id, subject_user_id: ada.id });
  });

  it("refuses: ending a normal session, impersonating oneself, a disabled user, and a cross-origin form", async () => {
    const op = await signedInOperator();
    const ada = await createVerifiedUser("ada");
    const gone = await createVerifiedUser("gone", { disabled: true });
    const e = adminEnv([op.id]);
    expectRefused(await postForm("/admin/impersonation/end", op.session.cookieHeader, {}, e), 404);
    expectRefused(await postForm(`/admin/users/${op.id}/impersonate`, op.session.cookieHeader, { confirm: "yes" }, e), 400);
    expectRefused(await postForm(`/admin/users/${gone.id}/impersonate`, op.session.cookieHeader, { confirm: "yes" }, e), 404);
    expectRefused(await postForm(`/admin/users/${ada.id}/impersonate`, op.session.cookieHeader, { confirm: "yes" }, e, "https://evil.example"), 403);
    expectRefused(await postForm(`/admin/users/${ada.id}/impersonate`, op.session.cookieHeader, {}, e), 400);
    expect(await rawSql("SELECT id FROM sessions WHERE impersonator_id = $1", [op.id])).toEqual([]);
    expect(await auditOf(ada.id)).toEqual([]);
    expect(await auditOf(gone.id)).toEqual([]);
  });
});
