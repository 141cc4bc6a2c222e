/**
 * migrations/0004_email_ascii_only.sql: rows whose address the old NFKC
 * rule folded into ASCII stop matching anyone; plain-ASCII rows keep theirs.
 * The statement is run again here on rows written the old way (the harness
 * applied it to an empty database).
 */
import { describe, expect, it } from "vitest";
import migration from "../../migrations/0004_email_ascii_only.sql?raw";
import { rawSql } from "../helpers/neon-local";

describe("0004_email_ascii_only", () => {
  it("unmatches addresses that were folded into ASCII and leaves plain ones", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const rows: [string, string][] = [
      [`ａlice-${tag}@example.com`, `alice-${tag}@example.com`],
      [`\u212Aate-${tag}@example.com`, `kate-${tag}@example.com`],
      [`\uFB01nn-${tag}@example.com`, `finn-${tag}@example.com`],
      [`Plain-${tag}@Example.com`, `plain-${tag}@example.com`],
    ];
    const ids: string[] = [];
    for (const [email, normalized] of rows) {
      const [r] = await rawSql<{ id: string }>("INSERT INTO users (email, email_normalized, email_verified_at) VALUES ($1, $2, now()) RETURNING id", [email, normalized]);
      ids.push(r!.id);
    }
    const statement = migration.split("\n").filter((line) => !line.startsWith("--")).join("\n");
    await rawSql(statement);
    const after = await rawSql<{ id: string; email_normalized: string | null }>("SELECT id, email_normalized FROM users WHERE id = ANY($1::uuid[])", [ids]);
    const byId = new Map(after.map((r) => [r.id, r.email_normalized]));
    expect(ids.map((id) => byId.get(id))).toEqual([null, null, null, `plain-${tag}@example.com`]);
  });
});
