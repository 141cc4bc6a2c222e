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
import { z } from "zod";
import { GatehouseError } from "../error";

/** Lifetime of a sign-in attempt; KV refuses TTLs under 60 s. */
export const TRANSACTION_TTL_SECONDS = 600;

export const TRANSACTION_KEY_PREFIX = "tx:";

const transactionSchema = z.object({
  v: z.literal(1),
  provider: z.string().min(1).max(64),
  codeVerifier: z.string().min(43).max(128),
  nonce: z.string().min(1).max(128).nullable(),
  scopes: z.array(z.string().max(200)).max(50),
  redirectTo: z.string().min(1).max(4096),
  /** sha256 of the `__Host-` transaction cookie that binds the attempt to one browser. */
  bindingHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Set when a signed-in user links another provider account. */
  linkUserId: z.uuid().nullable(),
  /**
   * Set when the link connects the provider's Pages to this organization
   * (`POST /auth/link/facebook?org=…`); the callback checks the role again.
   * Absent in transactions stored before connect existed: read as null.
   */
  orgId: z.uuid().nullable().default(null),
  /** Epoch milliseconds. */
  createdAt: z.number().int().nonnegative(),
});

export type SignInTransaction = z.infer<typeof transactionSchema>;
/** What {@link saveTransaction} takes: `orgId` may be left out for a plain sign-in. */
export type NewSignInTransaction = z.input<typeof transactionSchema>;

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
  const value = JSON.stringify(transactionSchema.parse(transaction));
  try {
    await kv.put(transactionKey(stateHash), value, { expirationTtl: TRANSACTION_TTL_SECONDS });
  } catch (cause) {
    throw new GatehouseError("StorageUnavailable", "The sign-in attempt could not be stored.", { cause });
  }
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
  let raw: string | null;
  try {
    raw = await kv.get(transactionKey(stateHash), "text");
  } catch (cause) {
    throw new GatehouseError("StorageUnavailable", "The sign-in attempt could not be read.", { cause });
  }
  if (raw === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null;
  }
  const result = transactionSchema.safeParse(parsed);
  if (!result.success) return null;
  const age = now - result.data.createdAt;
  return age >= 0 && age <= TRANSACTION_TTL_SECONDS * 1000 ? result.data : null;
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
