/**
 * Shared by the audit tests: request headers that make every request's
 * context recognizable (a unique `cf-ray`), and the audit rows a request or
 * a user left behind.
 */
import { expect } from "vitest";
import { rawSql } from "../helpers/neon-local";

export interface AuditRow {
  id: string;
  actor_type: string;
  actor_id: string | null;
  action: string;
  org_id: string | null;
  target_type: string | null;
  target_id: string | null;
  metadata: Record<string, unknown>;
  subject_user_id: string | null;
  ip: string | null;
  user_agent: string | null;
  country: string | null;
  asn: number | null;
  request_id: string | null;
  flags: string[];
}

/** A Cloudflare-looking ray id no other request uses. */
export function newRay(): string {
  return `${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}-ICN`;
}

/** A random address in 198.18.0.0/15 (benchmarking), one per request: rate limits are not what these tests are about. */
export function newIp(): string {
  const [a, b] = crypto.getRandomValues(new Uint8Array(2));
  return `198.18.${a}.${b}`;
}

/** The headers Cloudflare would add, plus a User-Agent. */
export function contextHeaders(userAgent: string, ray = newRay(), ip = newIp()): Record<string, string> {
  return { "cf-ray": ray, "cf-connecting-ip": ip, "user-agent": userAgent };
}

/** Every audit row whose request id is `ray`, oldest first. */
export async function rowsOfRequest(ray: string): Promise<AuditRow[]> {
  return rawSql<AuditRow>(`SELECT * FROM audit_events WHERE request_id = $1 ORDER BY audit_events.id`, [ray]);
}

/** Every audit row about `userId` (subject), oldest first, optionally of one action. */
export async function rowsOfUser(userId: string, action?: string): Promise<AuditRow[]> {
  return rawSql<AuditRow>(
    `SELECT * FROM audit_events WHERE subject_user_id = $1 AND ($2::text IS NULL OR action = $2) ORDER BY audit_events.id`,
    [userId, action ?? null],
  );
}

/** Fails if any value in `secrets` appears anywhere in the rows (every column, metadata included). */
export function expectNoSecrets(rows: readonly AuditRow[], secrets: readonly string[]): void {
  const text = JSON.stringify(rows);
  for (const secret of secrets) {
    expect(secret.length).toBeGreaterThan(3);
    expect(text).not.toContain(secret);
  }
}
