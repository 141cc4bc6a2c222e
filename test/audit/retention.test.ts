/**
 * AUDIT_RETENTION_DAYS: validated like every variable, and enforced by the
 * hourly cron inside its one round trip (every audit event alike, by age;
 * 0 keeps them forever).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { runHousekeeping } from "../../src/housekeeping";
import { scopedEnv } from "../helpers/app";
import { rawSql, resetStats, stats } from "../helpers/neon-local";

const SCOPE = "audit_retention";

/** An audit event `age` old (a Postgres interval), with a marker to find it. */
async function eventAged(age: string): Promise<string> {
  const marker = crypto.randomUUID();
  await rawSql(`INSERT INTO audit_events (actor_type, action, metadata, at) VALUES ('system', 'user.delete', jsonb_build_object('marker', $1::text), now() - $2::interval)`, [marker, age]);
  return marker;
}

async function kept(marker: string): Promise<boolean> {
  return (await rawSql(`SELECT 1 FROM audit_events WHERE metadata->>'marker' = $1`, [marker])).length === 1;
}

describe("audit retention", () => {
  it("AUDIT_RETENTION_DAYS defaults to 365, accepts 0 (forever) and whole days, and names anything else", () => {
    const base = env as unknown as Record<string, unknown>;
    const parsed = (value: string | undefined) => parseConfig({ ...base, AUDIT_RETENTION_DAYS: value });
    const days = (value: string | undefined) => {
      const r = parsed(value);
      return r.ok ? r.config.audit.retentionDays : null;
    };
    expect(days(undefined)).toBe(365);
    expect(days("0")).toBe(0);
    expect(days("30")).toBe(30);
    for (const bad of ["-1", "1.5", "30d", "", " 30", "36501", "1e3"]) {
      const r = parsed(bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.problems.map((p) => p.variable)).toContain("AUDIT_RETENTION_DAYS");
    }
  });

  it("the cron deletes events older than the retention, keeps younger ones, in its one round trip, and logs the count", async () => {
    const old = await eventAged("40 days");
    const young = await eventAged("20 days");
    await resetStats(SCOPE);
    const counts = await runHousekeeping(scopedEnv(SCOPE, { AUDIT_RETENTION_DAYS: "30" }), new Date());
    expect((await stats(SCOPE)).requests).toBe(1);
    expect(counts!.auditEvents).toBeGreaterThanOrEqual(1);
    expect(await kept(old)).toBe(false);
    expect(await kept(young)).toBe(true);
  });

  it("0 keeps every event: nothing is deleted", async () => {
    await eventAged("4000 days");
    const counts = await runHousekeeping(scopedEnv(SCOPE, { AUDIT_RETENTION_DAYS: "0" }), new Date());
    expect(counts!.auditEvents).toBe(0);
  });
});
