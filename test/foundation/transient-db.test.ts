/**
 * Transient database failures: a deadlock (40P01) or a serialization failure
 * (40001) means Postgres rolled the whole transaction back, so the same
 * request (one statement or one batch, each its own transaction over Neon's
 * HTTP API) is retried once. If it fails again the answer is 503
 * `DatabaseUnavailable` with `Retry-After`, never a 500, and nothing is
 * half-written. Faults come from neon-local (scripts/neon-local/faults.ts).
 */
import { afterEach, describe, expect, it } from "vitest";
import { call, scopedEnv } from "../helpers/app";
import { clearFaults, rawSql, resetStats, setFaults, stats } from "../helpers/neon-local";
import { cookieHeader, createTestUser, setCookies, signInAs } from "../helpers/sessions";

const SCOPE = "transient_db";
const targetEnv = scopedEnv(SCOPE);

/** A refresh-token check: one statement that rotates the session's secret. */
function refresh(token: string, accept = "application/json"): Promise<Response> {
  return call("/auth/session", { headers: { cookie: cookieHeader({ refresh: token }), accept } }, { env: targetEnv });
}

async function secretHashOf(sessionId: string): Promise<string | undefined> {
  return (await rawSql<{ secret_hash: string }>("SELECT secret_hash FROM sessions WHERE id = $1", [sessionId]))[0]?.secret_hash;
}

afterEach(async () => {
  await clearFaults(SCOPE);
});

describe("a transient database failure", () => {
  it.each(["40001", "40P01"])("SQLSTATE %s once: the statement is retried and the request succeeds", async (code) => {
    const s = await signInAs(await createTestUser());
    await resetStats(SCOPE);
    await setFaults({ failNth: 1, mode: "postgres", code, scope: SCOPE });
    const res = await refresh(s.refreshToken);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(setCookies(res).get("__Host-gh_refresh")?.value).toMatch(new RegExp(`^${s.sessionId}\\.`));
    // The failed attempt and the retry.
    expect((await stats(SCOPE)).requests).toBe(2);
  });

  it.each(["40001", "40P01"])("SQLSTATE %s twice: 503 DatabaseUnavailable with Retry-After, no cookie, nothing written", async (code) => {
    const s = await signInAs(await createTestUser());
    const before = await secretHashOf(s.sessionId);
    await resetStats(SCOPE);
    await setFaults({ failMatching: "sessions", mode: "postgres", code, scope: SCOPE });
    const res = await refresh(s.refreshToken);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: "DatabaseUnavailable" });
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(res.headers.getSetCookie()).toEqual([]);
    // Tried once more, not in a loop.
    expect((await stats(SCOPE)).requests).toBe(2);
    await clearFaults(SCOPE);
    expect(await secretHashOf(s.sessionId)).toBe(before);
  });

  it("shows browsers the error page with Retry-After", async () => {
    const s = await signInAs(await createTestUser());
    await setFaults({ failMatching: "sessions", mode: "postgres", code: "40P01", scope: SCOPE });
    const res = await call("/account", { headers: { cookie: cookieHeader({ refresh: s.refreshToken }), accept: "text/html" } }, { env: targetEnv });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("<code>DatabaseUnavailable</code>");
    expect(res.headers.get("retry-after")).not.toBeNull();
  });

  it("other Postgres errors are not retried", async () => {
    const s = await signInAs(await createTestUser());
    await resetStats(SCOPE);
    await setFaults({ failMatching: "sessions", mode: "postgres", code: "22P02", scope: SCOPE });
    const res = await refresh(s.refreshToken);
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ code: "Internal" });
    expect((await stats(SCOPE)).requests).toBe(1);
  });
});
