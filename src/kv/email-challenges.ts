/**
 * Email sign-in challenges: what `POST /auth/email` must remember for the
 * code or link that completes it, under `em:<sha256(challenge id)>` for ten
 * minutes. Only hashes of the code and of the browser binding are stored.
 *
 * Like sign-in transactions (kv/transactions.ts), single use and the attempt
 * count live in the database (`oauth_consumed_states`, `email_code_attempts`),
 * since KV has no compare-and-set. Every write is awaited (F9).
 */
import { loadRecord, saveRecord, type RecordKind } from "./records";
import { type Infer, int, object, oneOf, string } from "../lib/shape";

/** Lifetime of a code and its link. */
export const EMAIL_CHALLENGE_TTL_SECONDS = 600;
export const EMAIL_CHALLENGE_KEY_PREFIX = "em:";

const challengeSchema = object({
  v: oneOf([1]),
  /** As typed (cleaned); the address the message went to. */
  email: string({ min: 3, max: 320 }),
  emailNormalized: string({ min: 3, max: 320 }),
  /** sha256 of `<challenge id>:<code>`. */
  codeHash: string({ pattern: /^[0-9a-f]{64}$/ }),
  /** sha256 of the `__Host-` cookie that binds the challenge to the browser that asked. */
  bindingHash: string({ pattern: /^[0-9a-f]{64}$/ }),
  redirectTo: string({ min: 1, max: 4096 }),
  /** Epoch milliseconds. */
  createdAt: int({ min: 0 }),
});

export type EmailChallenge = Infer<typeof challengeSchema>;
const CHALLENGE: RecordKind<EmailChallenge> = { shape: challengeSchema, ttlSeconds: EMAIL_CHALLENGE_TTL_SECONDS, noun: "sign-in code" };

/**
 * Stores a challenge; resolves once KV accepted it. `StorageUnavailable` when KV refuses.
 *
 * @example await saveEmailChallenge(c.var.kv, challengeHash, challenge);
 */
export async function saveEmailChallenge(kv: KVNamespace, challengeHash: string, challenge: EmailChallenge): Promise<void> {
  await saveRecord(kv, `${EMAIL_CHALLENGE_KEY_PREFIX}${challengeHash}`, CHALLENGE, challenge);
}

/**
 * Reads a challenge; `null` when absent, unreadable or older than its lifetime (KV expiry is lazy).
 *
 * @example const challenge = await loadEmailChallenge(c.var.kv, challengeHash, Date.now());
 */
export async function loadEmailChallenge(kv: KVNamespace, challengeHash: string, now: number): Promise<EmailChallenge | null> {
  return loadRecord(kv, `${EMAIL_CHALLENGE_KEY_PREFIX}${challengeHash}`, CHALLENGE, now);
}
