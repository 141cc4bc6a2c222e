/**
 * The revoked-session denylist: `deny:sid:<session id>` → "1". Session JWTs
 * are verified without the database, so a sign-out must reach the edge some
 * other way; a session-JWT check reads this key (no database).
 *
 * An entry only has to outlive the last session JWT that names the sid:
 * its lifetime plus the clock tolerance. KV refuses TTLs under 60 s.
 *
 * Revocation bound (docs/sessions.md): 60 s, split in two halves.
 * - KV reads use `cacheTtl: 30` (KV's minimum), so an absent key cached at
 *   the edge is re-checked within 30 s (KV's default is 60 s).
 * - Each isolate remembers a "not revoked" answer for a sid for at most
 *   30 s, so most checks of an active session cost no KV read at all.
 * Together a revocation is seen everywhere within 30 + 30 = 60 s, the bound
 * KV's default edge cache alone gave. The isolate that records a revocation
 * forgets its own "not revoked" answers for those sids at once.
 */

const PREFIX = "deny:sid:";
const KV_MIN_TTL_SECONDS = 60;
/** KV's smallest `cacheTtl`. */
export const DENYLIST_KV_CACHE_TTL_SECONDS = 30;
/** How long an isolate trusts a "not revoked" answer. */
export const NOT_REVOKED_CACHE_MS = 30_000;
/** Memory bound: past this many sids the oldest answers are dropped. */
const NOT_REVOKED_CACHE_MAX = 10_000;

/** sid → epoch ms when KV said "not revoked". Map order is insertion order, oldest first. */
const notRevoked = new Map<string, number>();
/** Bumped by every revocation here, so a KV read that raced one is not remembered. */
let revocations = 0;

/**
 * Puts every sid on the denylist and waits for all writes (F9: no
 * fire-and-forget writes). Throws if KV refuses a write.
 *
 * @example
 * await denySessions(c.var.kv, ["0b5c…"], 360);
 */
export async function denySessions(kv: KVNamespace, sessionIds: readonly string[], ttlSeconds: number): Promise<void> {
  const expirationTtl = Math.max(KV_MIN_TTL_SECONDS, Math.ceil(ttlSeconds));
  const unique = [...new Set(sessionIds)];
  // Forget first: even a failed write must not leave this isolate trusting the sid.
  revocations++;
  for (const sid of unique) notRevoked.delete(sid);
  await Promise.all(unique.map((sid) => kv.put(`${PREFIX}${sid}`, "1", { expirationTtl })));
}

/**
 * Whether a sid was revoked. A "not revoked" answer is reused for up to
 * 30 s in this isolate (not with `fresh`: gatehouse's own administrative
 * APIs read KV every time and fail closed); a revoked one is always read again. Throws if KV
 * cannot be read; the caller decides what a failed check means (gatehouse
 * then ignores the session JWT and asks the database through the refresh
 * token).
 *
 * @example
 * if (await isSessionDenied(c.var.kv, claims.sid, Date.now())) return null;
 */
export async function isSessionDenied(kv: KVNamespace, sessionId: string, now: number, options: { fresh?: boolean } = {}): Promise<boolean> {
  const checkedAt = notRevoked.get(sessionId);
  if (!options.fresh && checkedAt !== undefined && now - checkedAt >= 0 && now - checkedAt < NOT_REVOKED_CACHE_MS) return false;
  notRevoked.delete(sessionId);
  const epoch = revocations;
  const denied = (await kv.get(`${PREFIX}${sessionId}`, { cacheTtl: DENYLIST_KV_CACHE_TTL_SECONDS })) !== null;
  if (!denied && epoch === revocations) {
    if (notRevoked.size >= NOT_REVOKED_CACHE_MAX) notRevoked.delete(notRevoked.keys().next().value as string);
    notRevoked.set(sessionId, now);
  }
  return denied;
}

const TOKEN_PREFIX = "deny:jti:";

/**
 * Denylists one access token by `jti` until it expires (RFC 7009 revocation
 * of an OAuth access token). Awaited; throws if KV refuses.
 *
 * @example
 * await denyTokenId(c.var.kv, claims.jti, claims.exp - now + 60);
 */
export async function denyTokenId(kv: KVNamespace, jti: string, ttlSeconds: number): Promise<void> {
  await kv.put(`${TOKEN_PREFIX}${jti}`, "1", { expirationTtl: Math.max(KV_MIN_TTL_SECONDS, Math.ceil(ttlSeconds)) });
}

/**
 * Whether an access token's `jti` was revoked. Throws if KV cannot be read.
 *
 * @example
 * if (await isTokenDenied(c.var.kv, claims.jti)) return invalidToken();
 */
export async function isTokenDenied(kv: KVNamespace, jti: string): Promise<boolean> {
  return (await kv.get(`${TOKEN_PREFIX}${jti}`)) !== null;
}
