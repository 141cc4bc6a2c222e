/**
 * The revoked-session denylist: `deny:sid:<session id>` → "1". Session JWTs
 * are verified without the database, so a sign-out must reach the edge some
 * other way; every session-JWT check reads this key (one KV read, no DB).
 *
 * An entry only has to outlive the last session JWT that names the sid:
 * its lifetime plus the clock tolerance. KV refuses TTLs under 60 s.
 */

const PREFIX = "deny:sid:";
const KV_MIN_TTL_SECONDS = 60;

/**
 * Puts every sid on the denylist and waits for all writes (F9: no
 * fire-and-forget writes). Throws if KV refuses a write.
 *
 * @example
 * await denySessions(c.var.kv, ["0b5c…"], 360);
 */
export async function denySessions(kv: KVNamespace, sessionIds: readonly string[], ttlSeconds: number): Promise<void> {
  const expirationTtl = Math.max(KV_MIN_TTL_SECONDS, Math.ceil(ttlSeconds));
  await Promise.all([...new Set(sessionIds)].map((sid) => kv.put(`${PREFIX}${sid}`, "1", { expirationTtl })));
}

/**
 * Whether a sid was revoked. Throws if KV cannot be read; the caller decides
 * what a failed check means (gatehouse then ignores the session JWT and
 * asks the database through the refresh token).
 *
 * @example
 * if (await isSessionDenied(c.var.kv, claims.sid)) return null;
 */
export async function isSessionDenied(kv: KVNamespace, sessionId: string): Promise<boolean> {
  return (await kv.get(`${PREFIX}${sessionId}`)) !== null;
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
