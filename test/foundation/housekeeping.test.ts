/**
 * The cron handler deletes expired and revoked sessions, old consumed
 * states and email code attempt counters, in one round trip, and logs counts (F15). The cron trigger itself
 * is read from wrangler.toml by wrangler's own parser (test/global-setup.ts):
 * a deployment without it would never clean up.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it, vi } from "vitest";
import worker from "../../src/index";
import { runHousekeeping } from "../../src/housekeeping";
import { scopedEnv } from "../helpers/app";
import { rawSql, resetStats, stats } from "../helpers/neon-local";
import { WEBHOOK_DISPATCH_CRON } from "../../src/webhooks/cron";

const SCOPE = "housekeeping_test";

async function seedUser(): Promise<string> {
  const [u] = await rawSql<{ id: string }>(`INSERT INTO users (name) VALUES ('housekeeping') RETURNING id`);
  return u!.id;
}

/** A session that expired `expiresAgo` ago (negative: expires later), revoked `revokedAgo` ago when given. */
async function insertSession(userId: string, expiresAgo: string, revokedAgo: string | null = null): Promise<string> {
  const [s] = await rawSql<{ id: string }>(
    `INSERT INTO sessions (user_id, secret_hash, expires_at, absolute_expires_at, revoked_at)
     VALUES ($1, repeat('b', 64), now() - $2::interval, now() + interval '30 days', now() - $3::interval) RETURNING id`,
    [userId, expiresAgo, revokedAgo],
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
    const oldRevoked = await insertSession(userId, "9 days", "9 days");
    // Revoked long ago but its refresh window has not run out: revocation alone must get it cleaned.
    const oldRevokedUnexpired = await insertSession(userId, "-1 day", "8 days");
    const recentRevoked = await insertSession(userId, "-1 day", "1 hour");
    const recentExpired = await insertSession(userId, "1 hour");
    const live = await insertSession(userId, "-1 day");
    const oldState = "c".repeat(56) + crypto.randomUUID().replaceAll("-", "").slice(0, 8);
    const freshState = "d".repeat(56) + crypto.randomUUID().replaceAll("-", "").slice(0, 8);
    await rawSql(`INSERT INTO oauth_consumed_states (state_hash, consumed_at) VALUES ($1, now() - interval '2 days'), ($2, now())`, [oldState, freshState]);
    // Email code attempt counters (routes/email.ts) go after a day too.
    await rawSql(`INSERT INTO email_code_attempts (challenge_hash, attempts, created_at) VALUES ($1, 3, now() - interval '2 days'), ($2, 1, now())`, [oldState, freshState]);
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
    expect(counts!.sessions).toBeGreaterThanOrEqual(3);
    expect(counts!.states).toBeGreaterThanOrEqual(1);
    expect(counts!.invitations).toBeGreaterThanOrEqual(2);
    // Expired or revoked 30 days ago: gone; recently expired (still listed to admins) and pending: kept.
    expect(await Promise.all(invitations.map((i) => exists("org_invitations", "id", i.id)))).toEqual([false, false, true, true]);

    expect(await exists("sessions", "id", oldExpired)).toBe(false);
    expect(await exists("sessions", "id", oldRevoked)).toBe(false);
    expect(await exists("sessions", "id", oldRevokedUnexpired)).toBe(false);
    expect(await exists("sessions", "id", recentRevoked)).toBe(true);
    expect(await exists("sessions", "id", recentExpired)).toBe(true);
    expect(await exists("sessions", "id", live)).toBe(true);
    expect(await exists("oauth_consumed_states", "state_hash", oldState)).toBe(false);
    expect(await exists("oauth_consumed_states", "state_hash", freshState)).toBe(true);
    expect(await exists("email_code_attempts", "challenge_hash", oldState)).toBe(false);
    expect(await exists("email_code_attempts", "challenge_hash", freshState)).toBe(true);
  });

  it("wrangler.toml declares a cron trigger, at least daily", () => {
    const crons = inject("wranglerCrons");
    expect(crons.length).toBeGreaterThanOrEqual(1);
    // Five fields; the hour and day fields leave it running every day.
    for (const cron of crons) expect(cron).toMatch(/^\S+ (\*|\*\/\d+|[\d,]+) \* \* \*$/);
  });

  it("runs for each configured cron through the Worker's scheduled export and logs the counts", async () => {
    // The every-minute cron dispatches webhooks instead (test/webhooks/delivery.test.ts).
    const crons = inject("wranglerCrons").filter((cron) => cron !== WEBHOOK_DISPATCH_CRON);
    expect(crons.length).toBeGreaterThanOrEqual(1);
    for (const cron of crons) {
      const logs = vi.spyOn(console, "log");
      const userId = await seedUser();
      const stale = await insertSession(userId, "-1 day", "8 days");
      const ctx = createExecutionContext();
      worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron }), env, ctx);
      await waitOnExecutionContext(ctx);
      const line = logs.mock.calls.map((c) => String(c[0])).find((l) => l.includes('"event":"housekeeping"'));
      logs.mockRestore();
      expect(line).toBeDefined();
      expect(JSON.parse(line!)).toMatchObject({
        deletedSessions: expect.any(Number),
        deletedStates: expect.any(Number),
        deletedCodes: expect.any(Number),
        deletedGrants: expect.any(Number),
        deletedInvitations: expect.any(Number),
        deletedAuditEvents: expect.any(Number),
      });
      expect(await exists("sessions", "id", stale)).toBe(false);
    }
  });

  it("fails loudly, naming the variables, when the configuration is broken", async () => {
    const errors = vi.spyOn(console, "error");
    await expect(runHousekeeping({ ...env, DATABASE_URL: undefined }, new Date())).rejects.toThrow(/configuration/);
    expect(errors.mock.calls.map((c) => String(c[0])).join("\n")).toContain("DATABASE_URL:missing");
    errors.mockRestore();
  });
});
