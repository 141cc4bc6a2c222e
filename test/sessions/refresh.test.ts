/**
 * Refresh-token rotation, the grace window for parallel tabs, reuse
 * detection, and what N concurrent refreshes with one token produce.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { hashSecret } from "../../src/sessions/refresh-token";
import { neonSql, rawSql } from "../helpers/neon-local";
import { callWorker, cookieHeader, createTestUser, resetRoundTrips, roundTrips, setCookies, signInAs, type TestSession } from "../helpers/sessions";

interface SessionRow {
  secret_hash: string;
  previous_secret_hash: string | null;
  revoked_at: string | null;
  expires_at: string;
  absolute_expires_at: string;
}

async function row(sessionId: string): Promise<SessionRow> {
  const [r] = await rawSql<SessionRow>(
    `SELECT secret_hash, previous_secret_hash, revoked_at, to_json(expires_at)#>>'{}' AS expires_at,
            to_json(absolute_expires_at)#>>'{}' AS absolute_expires_at FROM sessions WHERE id = $1`,
    [sessionId],
  );
  if (!r) throw new Error("no such session row");
  return r;
}

function refreshWith(token: string): Promise<Response> {
  return callWorker("/auth/session", { headers: { cookie: cookieHeader({ refresh: token }) } });
}

/** The hash of a token's rotating secret (its last part). */
async function hashOf(token: string): Promise<string> {
  return hashSecret(token.split(".").at(-1)!);
}

function expectCleared(res: Response): void {
  const cookies = setCookies(res);
  expect(cookies.get("__Host-gh_session")?.maxAge).toBe(0);
  expect(cookies.get("__Host-gh_refresh")?.maxAge).toBe(0);
}

let s: TestSession;

beforeEach(async () => {
  s = await signInAs(await createTestUser());
  await resetRoundTrips();
});

describe("rotation", () => {
  it("rotates a valid refresh token in one round trip and issues both cookies", async () => {
    const res = await refreshWith(s.refreshToken);
    expect(res.status).toBe(200);
    expect(await roundTrips()).toBe(1);
    const cookies = setCookies(res);
    const next = cookies.get("__Host-gh_refresh")!;
    expect(next.value.startsWith(`${s.sessionId}.`)).toBe(true);
    expect(next.value).not.toBe(s.refreshToken);
    expect(next.attributes).toEqual(expect.arrayContaining(["Path=/", "Secure", "HttpOnly", "SameSite=Lax"]));
    expect(next.attributes.some((a) => a.toLowerCase().startsWith("domain"))).toBe(false);
    expect(next.maxAge).toBeGreaterThan(29 * 86400);
    const r = await row(s.sessionId);
    expect(r.secret_hash).toBe(await hashOf(next.value));
    expect(r.previous_secret_hash).toBe(await hashOf(s.refreshToken));

    // The new session JWT is then enough on its own: no database.
    await resetRoundTrips();
    const again = await callWorker("/auth/session", { headers: { cookie: cookieHeader({ session: cookies.get("__Host-gh_session")!.value }) } });
    expect(again.status).toBe(200);
    expect(await roundTrips()).toBe(0);
  });

  it("never stores the secret itself", async () => {
    const [stored] = await rawSql<{ n: number }>(
      "SELECT count(*)::int AS n FROM sessions WHERE secret_hash = ANY($1) OR family_secret_hash = ANY($1)",
      [[...s.refreshToken.split(".").slice(1), s.refreshToken]],
    );
    expect(stored?.n).toBe(0);
  });

  it("answers the previous token within the grace window with a session JWT and no new refresh cookie", async () => {
    const first = await refreshWith(s.refreshToken);
    const winner = setCookies(first).get("__Host-gh_refresh")!.value;
    await resetRoundTrips();
    const second = await refreshWith(s.refreshToken);
    expect(second.status).toBe(200);
    expect(await roundTrips()).toBe(1);
    const cookies = setCookies(second);
    expect(cookies.has("__Host-gh_refresh")).toBe(false);
    expect(cookies.get("__Host-gh_session")!.maxAge).toBe(300);
    expect(await second.json()).toMatchObject({ session: { id: s.sessionId } });
    const r = await row(s.sessionId);
    expect(r.secret_hash).toBe(await hashOf(winner));
    expect(r.revoked_at).toBeNull();
  });

  it("treats the previous token after the grace window as reuse: revokes the family and signs the browser out", async () => {
    const first = await refreshWith(s.refreshToken);
    const child = setCookies(first);
    await rawSql("UPDATE sessions SET rotated_at = rotated_at - interval '11 seconds' WHERE id = $1", [s.sessionId]);
    await resetRoundTrips();
    const reuse = await refreshWith(s.refreshToken);
    expect(reuse.status).toBe(401);
    expect(await roundTrips()).toBe(1);
    expectCleared(reuse);
    expect((await row(s.sessionId)).revoked_at).not.toBeNull();

    // The newest child is dead too: its refresh token and its session JWT.
    const childRefresh = await refreshWith(child.get("__Host-gh_refresh")!.value);
    expect(childRefresh.status).toBe(401);
    const childJwt = await callWorker("/auth/session", { headers: { cookie: cookieHeader({ session: child.get("__Host-gh_session")!.value }) } });
    expect(childJwt.status).toBe(401);
  });

  it("treats any older secret of the family as reuse: a thief who rotated twice is signed out when the victim comes back", async () => {
    // The attacker copied T0 and rotated it twice (T0 → T1 → T2), well after the grace window.
    const t1 = setCookies(await refreshWith(s.refreshToken)).get("__Host-gh_refresh")!.value;
    await rawSql("UPDATE sessions SET rotated_at = rotated_at - interval '1 hour' WHERE id = $1", [s.sessionId]);
    const t2Response = await refreshWith(t1);
    const t2 = setCookies(t2Response).get("__Host-gh_refresh")!;
    const t2Jwt = setCookies(t2Response).get("__Host-gh_session")!.value;
    await rawSql("UPDATE sessions SET rotated_at = rotated_at - interval '1 hour' WHERE id = $1", [s.sessionId]);
    // The victim presents T0 (neither current nor previous): the whole family goes.
    await resetRoundTrips();
    const res = await refreshWith(s.refreshToken);
    expect(res.status).toBe(401);
    expect(await roundTrips()).toBe(1);
    expectCleared(res);
    expect((await row(s.sessionId)).revoked_at).not.toBeNull();
    expect((await refreshWith(t2.value)).status).toBe(401);
    const attackerJwt = await callWorker("/auth/session", { headers: { cookie: cookieHeader({ session: t2Jwt }) } });
    expect(attackerJwt.status).toBe(401);
  });

  it("treats a tampered rotating secret next to the family's own secret as reuse (only a token holder knows it)", async () => {
    const [id, family] = s.refreshToken.split(".");
    const res = await refreshWith(`${id}.${family}.${"B".repeat(43)}`);
    expect(res.status).toBe(401);
    expect((await row(s.sessionId)).revoked_at).not.toBeNull();
  });

  it("rejects a wrong secret for a real session id and changes nothing", async () => {
    const before = await row(s.sessionId);
    for (const value of [`${s.sessionId}.${"A".repeat(43)}`, `${s.sessionId}.${"A".repeat(43)}.${"A".repeat(43)}`, `${s.sessionId}.${"A".repeat(43)}.${s.refreshToken.split(".")[2]}`]) {
      const res = await refreshWith(value);
      expect(res.status).toBe(401);
      expect(await row(s.sessionId)).toEqual(before);
    }
  });

  it("still accepts a token minted before family secrets (two parts) once, and upgrades it to the three-part form", async () => {
    const legacySecret = "L".repeat(43);
    await rawSql("UPDATE sessions SET secret_hash = $2, family_secret_hash = NULL WHERE id = $1", [s.sessionId, await hashSecret(legacySecret)]);
    const legacy = `${s.sessionId}.${legacySecret}`;
    const res = await refreshWith(legacy);
    expect(res.status).toBe(200);
    const next = setCookies(res).get("__Host-gh_refresh")!.value;
    expect(next.split(".")).toHaveLength(3);
    const [r] = await rawSql<{ family_secret_hash: string | null }>("SELECT family_secret_hash FROM sessions WHERE id = $1", [s.sessionId]);
    expect(r?.family_secret_hash).toBe(await hashSecret(next.split(".")[1]!));
    // The upgraded token rotates; the legacy one, past the grace window, is reuse.
    const t2 = setCookies(await refreshWith(next)).get("__Host-gh_refresh")!.value;
    await rawSql("UPDATE sessions SET rotated_at = rotated_at - interval '1 hour' WHERE id = $1", [s.sessionId]);
    expect((await refreshWith(legacy)).status).toBe(401);
    expect((await row(s.sessionId)).revoked_at).toBeNull(); // an older legacy secret is indistinguishable from a guess
    expect((await refreshWith(next)).status).toBe(401);
    expect((await row(s.sessionId)).revoked_at).not.toBeNull();
    expect((await refreshWith(t2)).status).toBe(401);
  });

  it("rejects a malformed refresh cookie without a database round trip", async () => {
    for (const value of ["garbage", `${s.sessionId}.short`, `${s.sessionId.toUpperCase()}.${"A".repeat(43)}`, `${s.sessionId}.${"A".repeat(43)}.short`, s.sessionJwt]) {
      await resetRoundTrips();
      const res = await refreshWith(value);
      expect(res.status).toBe(401);
      expect(await roundTrips()).toBe(0);
      expectCleared(res);
    }
  });

  it("refuses a duplicated refresh cookie", async () => {
    const res = await callWorker("/auth/session", {
      headers: { cookie: `__Host-gh_refresh=${s.refreshToken}; __Host-gh_refresh=${s.refreshToken}` },
    });
    expect(res.status).toBe(401);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await roundTrips()).toBe(0);
  });
});

describe("expiry and disabled users", () => {
  it("slides the expiry but never past the absolute limit", async () => {
    await rawSql("UPDATE sessions SET absolute_expires_at = now() + interval '1 hour' WHERE id = $1", [s.sessionId]);
    const res = await refreshWith(s.refreshToken);
    expect(res.status).toBe(200);
    const r = await row(s.sessionId);
    expect(r.expires_at).toBe(r.absolute_expires_at);
    const maxAge = setCookies(res).get("__Host-gh_refresh")!.maxAge!;
    expect(maxAge).toBeGreaterThan(3500);
    expect(maxAge).toBeLessThanOrEqual(3600);
  });

  it("refuses a session past its absolute expiry, and one past its sliding expiry", async () => {
    await rawSql("UPDATE sessions SET absolute_expires_at = now() - interval '1 second' WHERE id = $1", [s.sessionId]);
    const absolute = await refreshWith(s.refreshToken);
    expect(absolute.status).toBe(401);
    expectCleared(absolute);

    const other = await signInAs(await createTestUser());
    await rawSql("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1", [other.sessionId]);
    const sliding = await refreshWith(other.refreshToken);
    expect(sliding.status).toBe(401);
    expect((await row(other.sessionId)).secret_hash).toBe(await hashOf(other.refreshToken));
  });

  it("gives a disabled user no session on refresh, and rotates nothing", async () => {
    await rawSql("UPDATE users SET disabled_at = now() WHERE id = (SELECT user_id FROM sessions WHERE id = $1)", [s.sessionId]);
    const res = await refreshWith(s.refreshToken);
    expect(res.status).toBe(401);
    expect((await row(s.sessionId)).secret_hash).toBe(await hashOf(s.refreshToken));
  });
});

describe("N refreshes with one token", () => {
  const N = 10;

  /** Every response is a session; exactly one carries a new refresh token; the row holds exactly that one. */
  async function expectOneLiveChild(responses: Response[]): Promise<void> {
    expect(responses.map((r) => r.status)).toEqual(Array(N).fill(200));
    const children = responses.map((r) => setCookies(r).get("__Host-gh_refresh")?.value).filter((v) => v !== undefined);
    expect(children).toHaveLength(1);
    const r = await row(s.sessionId);
    expect(r.secret_hash).toBe(await hashOf(children[0]!));
    expect(r.previous_secret_hash).toBe(await hashOf(s.refreshToken));
    expect(r.revoked_at).toBeNull();
    expect((await refreshWith(children[0]!)).status).toBe(200);
  }

  it("sequentially: the first rotates, the rest get the grace answer", async () => {
    const responses: Response[] = [];
    for (let i = 0; i < N; i++) responses.push(await refreshWith(s.refreshToken));
    await expectOneLiveChild(responses);
  });

  it.skipIf(env.DATABASE_BACKEND !== "pg")(
    "in parallel on real Postgres: one winner rotates, the others wait on the row lock and get the grace answer",
    async () => {
      // Force the race instead of hoping for it: a transaction holds the row lock
      // for a moment while the refreshes arrive and queue behind it, then commits,
      // releasing them together. Without `FOR UPDATE` in the refresh statement,
      // several of them rotate (10 live children when last checked).
      const db = neonSql();
      const holder = db.transaction([
        db.query("SELECT id FROM sessions WHERE id = $1 FOR UPDATE", [s.sessionId]),
        db.query("SELECT pg_sleep(1.5) AS gatehouse_lock_holder"),
      ]);
      await waitFor(async () => (await lockHolders()) === 1);
      const pending = Array.from({ length: N }, () => refreshWith(s.refreshToken));
      await holder;
      await expectOneLiveChild(await Promise.all(pending));
    },
    20_000,
  );
});

async function lockHolders(): Promise<number> {
  const [r] = await rawSql<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%AS gatehouse_lock_holder%' AND pid <> pg_backend_pid()",
  );
  return r?.n ?? 0;
}

/** Polls a condition (no fixed sleeps); fails the test after 200 tries. */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("waitFor: condition never became true");
}
