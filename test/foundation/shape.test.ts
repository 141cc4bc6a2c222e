/**
 * lib/shape.ts, the reader that replaced zod: every rule refuses what it
 * should, names the offending field by path, and never echoes a value.
 */
import { describe, expect, it } from "vitest";
import { array, int, nullable, object, oneOf, optional, string, uuid, withDefault } from "../../src/lib/shape";

describe("lib/shape", () => {
  const client = object(
    {
      id: string({ pattern: /^[a-z]+$/ }),
      role: withDefault(oneOf(["owner", "member"]), "member"),
      orgs: array(string({ min: 1, max: 5 }), { min: 1, max: 2 }),
      note: optional(string({ trim: true, min: 1 })),
      parent: nullable(uuid()),
      count: int({ min: 0, max: 10 }),
    },
    { strict: true },
  );
  const good = { id: "abc", orgs: ["a"], parent: null, count: 3 };

  it("reads a valid value, applying defaults and trimming", () => {
    expect(client({ ...good, note: "  hi  " })).toEqual({ ok: true, value: { ...good, role: "member", note: "hi" } });
  });

  it.each([
    [{ ...good, id: "ABC" }, "id"],
    [{ ...good, role: "admin" }, "role"],
    [{ ...good, orgs: [] }, "orgs"],
    [{ ...good, orgs: ["a", "b", "c"] }, "orgs"],
    [{ ...good, orgs: ["toolong"] }, "orgs.0"],
    [{ ...good, note: "   " }, "note"],
    [{ ...good, parent: "not-a-uuid" }, "parent"],
    [{ ...good, parent: undefined }, "parent"],
    [{ ...good, count: 1.5 }, "count"],
    [{ ...good, count: -1 }, "count"],
    [{ ...good, extra: "secret-value-123" }, "extra"],
    [{ ...good, count: "3" }, "count"],
  ])("refuses %j at %s", (input, path) => {
    const result = client(input);
    expect(result).toEqual({ ok: false, path });
    expect(JSON.stringify(result)).not.toContain("secret-value-123");
  });

  it("refuses non-objects at the root with an empty path", () => {
    for (const input of [null, [], "x", 1, undefined]) expect(client(input)).toEqual({ ok: false, path: "" });
  });

  it("drops unknown keys when not strict", () => {
    expect(object({ a: int() })({ a: 1, b: 2 })).toEqual({ ok: true, value: { a: 1 } });
  });

  it("does not read inherited keys", () => {
    const proto = Object.create({ a: 1 }) as object;
    expect(object({ a: optional(int()) })(proto)).toEqual({ ok: true, value: {} });
  });
});
