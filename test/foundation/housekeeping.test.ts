/** The cron handler deletes expired sessions and old consumed states, in one round trip, and logs counts. */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { runHousekeeping } from "../../src/housekeeping";
import { scopedEnv } from "../helpers/app";
import { rawSql, resetStats, stats } from "../helpers/neon-local";

const SCOPE = "housekeeping_test";

async function seedUser(): Promise<string> {
  const [u] = await rawSql<{ id: string }>(`INSERT INTO users (name) VALUES ('housekeeping') RETURNING id`);
  return u!.id;
}

async function insertSession(userId: string, expiresAgo: string, revoked = false): Promise<string> {
  const [s] = await rawSql<{ id: string }>(
    `INSERT INTO sessions (user_id, secret_hash, expires_at, absolute_expires_at, revoked_at)
     VALUES ($1, repeat('b', 64), now() - $2::interval, now() + interval '30 days', CASE WHEN $3 THEN now() - $2::interval END) RETURNING id`,
    [userId, expiresAgo, revoked],
  );
  return s!.id;
}

async function exists(table: string, column: string, value: string): Promise<boolean> {
  const rows = await rawSql(`SELECT 1 FROM ${table} WHERE ${column} = $1`, [value]);
  return rows.length === 1;
}

describe("scheduled housekeeping", () => {
  it("deletes long-expired and long-revoked sessions and old consumed states, keeps the rest", async () => {
    const userId = await seedUser();
    const oldExpired = await insertSession(userId, "8 days");
    const oldRevoked = await insertSession(userId, "9 days", true);
    const recentExpired = await insertSession(userId, "1 hour");
    const live = await insertSession(userId, "-1 day");
    const oldState = "c".repeat(56) + crypto.randomUUID().replaceAll("-", "").slice(0, 8);
    const freshState = "d".repeat(56) + crypto.randomUUID().replaceAll("-", "").slice(0, 8);
    await rawSql(`INSERT INTO oauth_consumed_states (state_hash, consumed_at) VALUES ($1, now() - interval '2 days'), ($2, now())`, [oldState, freshState]);
    const [org] = await rawSql<{ id: string }>(`INSERT INTO organizations (slug, name) VALUES ($1, 'hk') RETURNING id`, [`hk-${crypto.randomUUID().slice(0, 8)}`]);
    const invitations = await rawSql<{ id: string }>(
      `INSERT INTO org_invitations (org_id, email_normalized, role, expires_at, accepted_at, revoked_at) VALUES
         ($1, 'a@example.com', 'member', now() - interval '31 days', NULL, NULL),
         ($1, 'b@example.com', 'member', now() + interval '1 day', NULL, now() - interval '31 days'),
         ($1, 'c@example.com', 'member', now() - interval '1 day', NULL, NULL),
         ($1, 'd@example.com', 'member', now() + interval '1 day', NULL, NULL)
       RETURNING id`,
      [org!.id],
    );

    await resetStats(SCOPE);
    const counts = await runHousekeeping(scopedEnv(SCOPE), new Date());
    expect((await stats(SCOPE)).requests).toBe(1);
    expect(counts!.sessions).toBeGreaterThanOrEqual(2);
    expect(counts!.states).toBeGreaterThanOrEqual(1);
    expect(counts!.invitations).toBeGreaterThanOrEqual(2);
    // Expired or revoked 30 days ago: gone; recently expired (still listed to admins) and pending: kept.
    expect(await Promise.all(invitations.map((i) => exists("org_invitations", "id", i.id)))).toEqual([false, false, true, true]);

    expect(await exists("sessions", "id", oldExpired)).toBe(false);
    expect(await exists("sessions", "id", oldRevoked)).toBe(false);
    expect(await exists("sessions", "id", recentExpired)).toBe(true);
    expect(await exists("sessions", "id", live)).toBe(true);
    expect(await exists("oauth_consumed_states", "state_hash", oldState)).toBe(false);
    expect(await exists("oauth_consumed_states", "state_hash", freshState)).toBe(true);
  });

  it("runs through the Worker's scheduled export and logs the counts", async () => {
    const logs = vi.spyOn(console, "log");
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "17 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const line = logs.mock.calls.map((c) => String(c[0])).find((l) => l.includes('"event":"housekeeping"'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ deletedSessions: expect.any(Number), deletedStates: expect.any(Number), deletedInvitations: expect.any(Number) });
    logs.mockRestore();
  });

  it("fails loudly, naming the variables, when the configuration is broken", async () => {
    const errors = vi.spyOn(console, "error");
    await expect(runHousekeeping({ ...env, DATABASE_URL: undefined }, new Date())).rejects.toThrow(/configuration/);
    expect(errors.mock.calls.map((c) => String(c[0])).join("\n")).toContain("DATABASE_URL:missing");
    errors.mockRestore();
  });
});
