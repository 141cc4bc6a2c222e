/** ADMIN_USER_IDS: validated like every variable; unset or empty means no operators. */
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { parseConfig } from "../../src/config";

const base = env as unknown as Record<string, unknown>;
const A = "0b5c2f6e-8a1d-4c1e-9f00-6d2b1f0e9a11";
const B = "1c6d3f7e-9b2e-4d2f-8a11-7e3c2a1f0b22";

describe("ADMIN_USER_IDS", () => {
  it("reads comma-separated user ids, lowercased and deduplicated", () => {
    const r = parseConfig({ ...base, ADMIN_USER_IDS: `${A},${B.toUpperCase()}, ${A}` });
    expect(r.ok && r.config.adminUserIds).toEqual([A, B]);
  });

  it("unset or empty: no operators", () => {
    const { ADMIN_USER_IDS: _unset, ...rest } = { ...base, ADMIN_USER_IDS: undefined };
    const unset = parseConfig(rest);
    expect(unset.ok && unset.config.adminUserIds).toEqual([]);
    const empty = parseConfig({ ...base, ADMIN_USER_IDS: "" });
    expect(empty.ok && empty.config.adminUserIds).toEqual([]);
  });

  it("a malformed entry is a named problem, and the value never appears", () => {
    for (const value of [`${A},not-a-user`, `${A},,${B}`, "admin", `"${A}"`, ` ${A}`]) {
      const r = parseConfig({ ...base, ADMIN_USER_IDS: value });
      expect(r.ok, value).toBe(false);
      if (!r.ok) {
        expect(r.problems.map((p) => p.variable)).toEqual(["ADMIN_USER_IDS"]);
        expect(JSON.stringify(r.problems)).not.toContain(A);
      }
    }
  });
});
