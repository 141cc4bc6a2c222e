/**
 * `npm run client:create`: its argument parsing refuses bad registrations
 * with a named problem, and its one statement stores the client (secret
 * hash only) with its audit row, or nothing for an unknown organization.
 */
import { describe, expect, it } from "vitest";
import { insertClientQuery, parseClientArgs } from "../../scripts/lib/client-create";
import { sha256Hex } from "../../src/lib/crypto";
import { neonSql, rawSql } from "../helpers/neon-local";

const RESOURCES = ["https://api.example.com", "https://auth.example.com/api"];
const base = ["--name", "Notes CLI", "--type", "public", "--native", "--redirect-uri", "http://127.0.0.1/callback", "--scope", "openid offline_access"];

describe("client:create", () => {
  it("parses a native public client", () => {
    const r = parseClientArgs([...base, "--resource", "https://api.example.com", "--first-party"], RESOURCES);
    expect(r).toEqual({
      ok: true,
      args: {
        registration: {
          name: "Notes CLI",
          type: "public",
          applicationType: "native",
          redirectUris: ["http://127.0.0.1/callback"],
          scopes: ["openid", "offline_access"],
          resources: ["https://api.example.com"],
        },
        org: null,
        firstParty: true,
      },
    });
  });

  it.each([
    [["--name", "x"], "type"],
    [[...base, "--resource", "https://evil.example"], "resources"],
    [[...base.slice(0, 5), "--redirect-uri", "http://127.0.0.1:8000/callback", "--scope", "openid"], "redirectUris"],
    [[...base, "--bogus"], "unknown argument"],
    [[...base, "--org"], "needs a value"],
  ])("refuses %j (%s)", (argv, problem) => {
    const r = parseClientArgs(argv, RESOURCES);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toContain(problem);
  });

  it("stores the client and its audit row in one statement; an unknown org stores nothing", async () => {
    const parsed = parseClientArgs(["--name", "Web", "--type", "confidential", "--redirect-uri", "https://web.example.com/cb", "--scope", "openid"], RESOURCES);
    if (!parsed.ok) throw new Error(parsed.problem);
    const secretHash = await sha256Hex("s3cret");
    const q = insertClientQuery(parsed.args, secretHash);
    const rows = (await neonSql().query(q.text, q.params)) as { client_id: string }[];
    const id = rows[0]!.client_id;
    const [stored] = await rawSql<{ secret_hash: string; type: string }>("SELECT secret_hash, type FROM oauth_clients WHERE id = $1", [id]);
    expect(stored).toEqual({ secret_hash: secretHash, type: "confidential" });
    const audits = await rawSql("SELECT actor_type FROM audit_events WHERE action = 'oauth_client.create' AND target_id = $1", [id]);
    expect(audits).toEqual([{ actor_type: "system" }]);

    const name = `Orphan ${crypto.randomUUID()}`;
    const orphan = insertClientQuery({ ...parsed.args, registration: { ...parsed.args.registration, name }, org: "no-such-org-xyz" }, secretHash);
    expect(await neonSql().query(orphan.text, orphan.params)).toEqual([]);
    expect(await rawSql("SELECT 1 FROM oauth_clients WHERE name = $1", [name])).toEqual([]);
  });
});
