/**
 * Passkey (WebAuthn) challenges: what an options request must remember for
 * the ceremony that answers it, under `pk:<sha256(challenge)>` for five
 * minutes. The challenge itself travels to the authenticator and comes back
 * inside the signed `clientDataJSON`, so the verify request finds its record
 * by hashing what the browser returns; the `__Host-gh_passkey` cookie binds
 * it to the browser that asked (only its hash is stored).
 *
 * Like sign-in transactions (kv/transactions.ts), single use lives in the
 * database (`oauth_consumed_states`, inserted in the ceremony's own batch),
 * since KV has no compare-and-set. Every write is awaited (F9).
 */
import { loadRecord, saveRecord, type RecordKind } from "./records";
import { type Infer, int, nullable, object, oneOf, string, uuid } from "../lib/shape";

/** Lifetime of a challenge: the WebAuthn timeout (60 s) plus room for a slow user. */
export const PASSKEY_CHALLENGE_TTL_SECONDS = 300;
export const PASSKEY_CHALLENGE_KEY_PREFIX = "pk:";

const challengeSchema = object({
  v: oneOf([1]),
  /** `signin` (a discoverable credential), `register` (a signed-in user adds one), `signup` (a new account with a passkey alone). */
  purpose: oneOf(["signin", "register", "signup"]),
  /** The WebAuthn challenge, base64url; the key is its sha256. */
  challenge: string({ pattern: /^[A-Za-z0-9_-]{43}$/ }),
  /** sha256 of the `__Host-gh_passkey` cookie. */
  bindingHash: string({ pattern: /^[0-9a-f]{64}$/ }),
  /** `register`: the signed-in user; `signup`: the id the new user will get (it is the WebAuthn user handle). */
  userId: nullable(uuid()),
  /** `signup`: the new user's name as typed (cleaned), or null. */
  userName: nullable(string({ min: 1, max: 64 })),
  /** Where a sign-in or sign-up goes afterwards (validated); null for `register`. */
  redirectTo: nullable(string({ min: 1, max: 4096 })),
  /** Epoch milliseconds. */
  createdAt: int({ min: 0 }),
});

export type PasskeyChallenge = Infer<typeof challengeSchema>;
const CHALLENGE: RecordKind<PasskeyChallenge> = { shape: challengeSchema, ttlSeconds: PASSKEY_CHALLENGE_TTL_SECONDS, noun: "passkey challenge" };

/**
 * Stores a challenge; resolves once KV accepted it. `StorageUnavailable` when KV refuses.
 *
 * @example await savePasskeyChallenge(c.var.kv, await sha256Hex(challenge), record);
 */
export async function savePasskeyChallenge(kv: KVNamespace, challengeHash: string, challenge: PasskeyChallenge): Promise<void> {
  await saveRecord(kv, `${PASSKEY_CHALLENGE_KEY_PREFIX}${challengeHash}`, CHALLENGE, challenge);
}

/**
 * Reads a challenge; `null` when absent, unreadable or older than its lifetime (KV expiry is lazy).
 *
 * @example const stored = await loadPasskeyChallenge(c.var.kv, challengeHash, Date.now());
 */
export async function loadPasskeyChallenge(kv: KVNamespace, challengeHash: string, now: number): Promise<PasskeyChallenge | null> {
  return loadRecord(kv, `${PASSKEY_CHALLENGE_KEY_PREFIX}${challengeHash}`, CHALLENGE, now);
}
