/**
 * A small reader for the few JSON shapes gatehouse accepts: configuration
 * JSON (signing keys, service clients), KV records and request bodies.
 * Each shape is a pure function that returns a tagged result naming the
 * first offending field; it never throws and never echoes the value, so a
 * secret inside a malformed entry cannot reach a problem or a log.
 *
 * It replaces zod (about 460 KiB of the minified worker, most of it
 * evaluated at startup) with the dozen checks these shapes need.
 */

/** The result of reading a value: the typed value, or the path of the first problem. */
export type ShapeResult<T> = { ok: true; value: T } | { ok: false; path: string };

/** A shape reads an unknown value; `path` is where it sits, for the problem. */
export type Shape<T> = (input: unknown, path?: string) => ShapeResult<T>;

/** The type a shape produces. */
export type Infer<S> = S extends Shape<infer T> ? T : never;

type Props = Record<string, Shape<unknown>>;
type OptionalKeys<P extends Props> = { [K in keyof P]: undefined extends Infer<P[K]> ? K : never }[keyof P];
type ObjectOf<P extends Props> = { [K in Exclude<keyof P, OptionalKeys<P>>]: Infer<P[K]> } & {
  [K in OptionalKeys<P>]?: Infer<P[K]>;
};

const fail = (path: string): { ok: false; path: string } => ({ ok: false, path });
const pass = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
const join = (path: string, key: string | number): string => (path ? `${path}.${key}` : String(key));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A string, optionally trimmed first, with length bounds and a pattern.
 *
 * @example
 * string({ min: 1, max: 100, pattern: /^[a-z]+$/ })("abc") // { ok: true, value: "abc" }
 */
export function string(rule: { min?: number; max?: number; pattern?: RegExp; trim?: boolean } = {}): Shape<string> {
  return (input, path = "") => {
    if (typeof input !== "string") return fail(path);
    const value = rule.trim ? input.trim() : input;
    if (value.length < (rule.min ?? 0) || value.length > (rule.max ?? Infinity)) return fail(path);
    return rule.pattern && !rule.pattern.test(value) ? fail(path) : pass(value);
  };
}

/**
 * A UUID in the 8-4-4-4-12 hex form.
 *
 * @example
 * uuid()("0b5c2f6e-8a1d-4c1e-9f00-6d2b1f0e9a11").ok // true
 */
export function uuid(): Shape<string> {
  return string({ pattern: UUID });
}

/**
 * A whole number within bounds.
 *
 * @example
 * int({ min: 0 })(42) // { ok: true, value: 42 }
 */
export function int(rule: { min?: number; max?: number } = {}): Shape<number> {
  return (input, path = "") =>
    Number.isSafeInteger(input) && (input as number) >= (rule.min ?? -Infinity) && (input as number) <= (rule.max ?? Infinity)
      ? pass(input as number)
      : fail(path);
}

/**
 * Exactly one of the given values.
 *
 * @example
 * oneOf(["owner", "admin", "member"] as const)("admin") // { ok: true, value: "admin" }
 */
export function oneOf<const T extends string | number>(values: readonly T[]): Shape<T> {
  return (input, path = "") => (values.includes(input as T) ? pass(input as T) : fail(path));
}

/**
 * An array of items, with length bounds.
 *
 * @example
 * array(string(), { min: 1 })(["a"]) // { ok: true, value: ["a"] }
 */
export function array<T>(item: Shape<T>, rule: { min?: number; max?: number } = {}): Shape<T[]> {
  return (input, path = "") => {
    if (!Array.isArray(input) || input.length < (rule.min ?? 0) || input.length > (rule.max ?? Infinity)) return fail(path);
    const out: T[] = [];
    for (const [i, element] of input.entries()) {
      const r = item(element, join(path, i));
      if (!r.ok) return r;
      out.push(r.value);
    }
    return pass(out);
  };
}

/**
 * A plain object with the given properties. Unknown keys are dropped, or
 * refused with `strict` (the key is the problem's path).
 *
 * @example
 * object({ role: oneOf(ROLES) }, { strict: true })({ role: "admin" }) // { ok: true, value: { role: "admin" } }
 */
export function object<P extends Props>(props: P, rule: { strict?: boolean } = {}): Shape<ObjectOf<P>> {
  return (input, path = "") => {
    if (typeof input !== "object" || input === null || Array.isArray(input)) return fail(path);
    const record = input as Record<string, unknown>;
    if (rule.strict) {
      for (const key of Object.keys(record)) if (!Object.hasOwn(props, key)) return fail(join(path, key));
    }
    const out: Record<string, unknown> = {};
    for (const [key, shape] of Object.entries(props)) {
      const r = shape(Object.hasOwn(record, key) ? record[key] : undefined, join(path, key));
      if (!r.ok) return r;
      if (r.value !== undefined) out[key] = r.value;
    }
    return pass(out as ObjectOf<P>);
  };
}

/**
 * `undefined` (or an absent key) is accepted as `undefined`.
 *
 * @example
 * optional(string())(undefined) // { ok: true, value: undefined }
 */
export function optional<T>(shape: Shape<T>): Shape<T | undefined> {
  return (input, path = "") => (input === undefined ? pass(undefined) : shape(input, path));
}

/**
 * `null` is accepted as `null`.
 *
 * @example
 * nullable(uuid())(null) // { ok: true, value: null }
 */
export function nullable<T>(shape: Shape<T>): Shape<T | null> {
  return (input, path = "") => (input === null ? pass(null) : shape(input, path));
}

/**
 * `undefined` (or an absent key) reads as `fallback`.
 *
 * @example
 * withDefault(oneOf(ROLES), "member")(undefined) // { ok: true, value: "member" }
 */
export function withDefault<T>(shape: Shape<T>, fallback: T): Shape<T> {
  return (input, path = "") => (input === undefined ? pass(fallback) : shape(input, path));
}
