/**
 * Short-lived JSON records in KV (sign-in transactions, email challenges):
 * written only after their shape checks, awaited (F9), and read back only
 * when they still pass the shape and are younger than their lifetime (KV
 * expiry is lazy). A KV failure is a 503 `StorageUnavailable`; a missing,
 * unreadable or stale record is `null`.
 */
import { GatehouseError } from "../error";
import type { Shape } from "../lib/shape";

/** What the record is, for the error a KV failure becomes ("The sign-in attempt could not be stored."). */
export interface RecordKind<T extends { createdAt: number }> {
  shape: Shape<T>;
  ttlSeconds: number;
  /** e.g. "sign-in attempt", "sign-in code". */
  noun: string;
}

/**
 * Checks and stores a record, resolving only once KV accepted the write.
 *
 * @example
 * await saveRecord(kv, `tx:${hash}`, TRANSACTION, transaction);
 */
export async function saveRecord<T extends { createdAt: number }>(kv: KVNamespace, key: string, kind: RecordKind<T>, value: unknown): Promise<void> {
  const checked = kind.shape(value);
  // Our own code built it: a mismatch is a bug, never user input.
  if (!checked.ok) throw new GatehouseError("Internal", `Invalid ${kind.noun} field: ${checked.path}`);
  try {
    await kv.put(key, JSON.stringify(checked.value), { expirationTtl: kind.ttlSeconds });
  } catch (cause) {
    throw new GatehouseError("StorageUnavailable", `The ${kind.noun} could not be stored.`, { cause });
  }
}

/**
 * Reads a record; `null` when absent, unreadable or older than its lifetime.
 *
 * @example
 * const tx = await loadRecord(kv, `tx:${hash}`, TRANSACTION, Date.now());
 */
export async function loadRecord<T extends { createdAt: number }>(kv: KVNamespace, key: string, kind: RecordKind<T>, now: number): Promise<T | null> {
  let raw: string | null;
  try {
    raw = await kv.get(key, "text");
  } catch (cause) {
    throw new GatehouseError("StorageUnavailable", `The ${kind.noun} could not be read.`, { cause });
  }
  if (raw === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null;
  }
  const result = kind.shape(parsed);
  if (!result.ok) return null;
  const age = now - result.value.createdAt;
  return age >= 0 && age <= kind.ttlSeconds * 1000 ? result.value : null;
}
