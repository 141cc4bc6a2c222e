/**
 * Sign-in transactions: what `GET /auth/signin/:provider` must remember for
 * its callback (PKCE verifier, nonce, where to return), stored in KV under
 * `tx:<sha256(state)>` for ten minutes. The state itself is never a key, so
 * reading KV does not reveal usable states.
 *
 * KV is eventually consistent and has no compare-and-delete: single use is
 * enforced in the database (`oauth_consumed_states`: the callback claims
 * the state before its code exchange, its batch finishes it). A used
 * transaction is left to expire, so a late copy of the callback can still
 * prove its browser; only a provider `error=` deletes it. Every write is
 * awaited (F9).
 */
import { loadRecord, saveRecord, type RecordKind } from "./records";
import { array, type Infer, int, nullable, object, oneOf, string, uuid, withDefault } from "../lib/shape";

/** Lifetime of a sign-in attempt; KV refuses TTLs under 60 s. */
export const TRANSACTION_TTL_SECONDS = 600;

export const TRANSACTION_KEY_PREFIX = "tx:";

const transactionSchema = object({
  v: oneOf([1]),
  provider: string({ min: 1, max: 64 }),
  codeVerifier: string({ min: 43, max: 128 }),
  nonce: nullable(string({ min: 1, max: 128 })),
  scopes: array(string({ max: 200 }), { max: 50 }),
  redirectTo: string({ min: 1, max: 4096 }),
  /** sha256 of the `__Host-` transaction cookie that binds the attempt to one browser. */
  bindingHash: string({ pattern: /^[0-9a-f]{64}$/ }),
  /** Set when a signed-in user links another provider account. */
  linkUserId: nullable(uuid()),
  /**
   * The session that started the link; the callback's batch refuses the link
   * unless it is still live (not signed out meanwhile). Absent in
   * transactions stored before it existed: read as null (not checked).
   */
  linkSessionId: withDefault(nullable(uuid()), null),
  /**
   * Set when the link connects the provider's Pages to this organization
   * (`POST /auth/link/facebook?org=…`); the callback checks the role again.
   * Absent in transactions stored before connect existed: read as null.
   */
  orgId: withDefault(nullable(uuid()), null),
  /** Epoch milliseconds. */
  createdAt: int({ min: 0 }),
});

export type SignInTransaction = Infer<typeof transactionSchema>;
const TRANSACTION: RecordKind<SignInTransaction> = { shape: transactionSchema, ttlSeconds: TRANSACTION_TTL_SECONDS, noun: "sign-in attempt" };
/** What {@link saveTransaction} takes: `orgId` and `linkSessionId` may be left out for a plain sign-in. */
export type NewSignInTransaction = Omit<SignInTransaction, "orgId" | "linkSessionId"> & { orgId?: string | null; linkSessionId?: string | null };

/** @example transactionKey("9f86…") // "tx:9f86…" */
export function transactionKey(stateHash: string): string {
  return `${TRANSACTION_KEY_PREFIX}${stateHash}`;
}

/**
 * Stores a transaction and resolves only once KV accepted the write, so
 * the redirect to the provider can never outrun it.
 * Throws `StorageUnavailable` when KV refuses.
 *
 * @example
 * await saveTransaction(c.var.kv, await sha256Hex(state), transaction);
 */
export async function saveTransaction(kv: KVNamespace, stateHash: string, transaction: NewSignInTransaction): Promise<void> {
  await saveRecord(kv, transactionKey(stateHash), TRANSACTION, transaction);
}

/**
 * Reads a transaction; `null` when absent, unreadable or older than the TTL
 * (KV expiry is lazy, so age is checked here too).
 * Throws `StorageUnavailable` when KV cannot be read.
 *
 * @example
 * const tx = await loadTransaction(c.var.kv, stateHash, Date.now());
 */
export async function loadTransaction(kv: KVNamespace, stateHash: string, now: number): Promise<SignInTransaction | null> {
  return loadRecord(kv, transactionKey(stateHash), TRANSACTION, now);
}

/**
 * Deletes a transaction after use. Returns whether KV accepted the delete;
 * a failure is not fatal because the database already made the state single-use.
 *
 * @example
 * if (!(await deleteTransaction(c.var.kv, stateHash))) log("warn", "kv_delete_failed");
 */
export async function deleteTransaction(kv: KVNamespace, stateHash: string): Promise<boolean> {
  try {
    await kv.delete(transactionKey(stateHash));
    return true;
  } catch {
    return false;
  }
}
