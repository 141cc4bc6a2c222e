/**
 * The callback's database batch (src/db/signin.ts) against the database
 * built from migrations/, through the real Neon driver: every outcome, what
 * each writes (read back with raw SQL), one round trip each, and the races.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { configFor } from "../../src/config";
import { classifyDatabaseError } from "../../src/db/errors";
import { runSignInBatch, type SignInBatchInput } from "../../src/db/signin";
import { userTokenAad } from "../../src/orgs/provider-token-secret";
import { randomBase64Url, seal, sha256Hex, unseal } from "../../src/lib/crypto";
import { storedProfile } from "../../src/lib/profile";
import type { Profile } from "../../src/providers/types";
import { mintRefreshToken } from "../../src/sessions/refresh-token";
import { clearFaults, rawSql, resetStats, setFaults, stats } from "../helpers/neon-local";
import { countRows, scopedDb, unique } from "./helpers";

const SCOPE = "signin_batch";
const db = await scopedDb(SCOPE);
const config = (() => {
  const r = configFor(env);
  if (!r.ok) throw new Error("test config invalid");
  return r.config;
})();

function profile(overrides: Partial<Profile> = {}): Profile {
  return { provider: "github", subject: unique("sub"), issuer: null, email: null, emailVerified: false, name: "Test", image: null, ...overrides };
}

async function input(p: Profile, options: { linkUserId?: string | null; stateHash?: string } = {}): Promise<SignInBatchInput> {
  const stored = storedProfile(p);
  if (!stored) throw new Error("profile unusable");
  const refresh = await mintRefreshToken();
  const payload = JSON.stringify({ accessToken: `at-${stored.subject}`, refreshToken: null, expiresAt: null, scopes: ["read:user"] });
  return {
    stateHash: options.stateHash ?? (await sha256Hex(randomBase64Url())),
    profile: stored,
    linkUserId: options.linkUserId ?? null,
    token: { ...(await seal(config.encryptionKeys, payload, userTokenAad({ kind: "personal" }, stored.provider, stored.subject))), scopes: ["read:user"], expiresAt: new Date(Date.now() + 3600_000) },
    session: {
      sessionId: refresh.sessionId,
      secretHash: refresh.secretHash,
      familySecretHash: refresh.familySecretHash,
      ip: "203.0.113.9",
      userAgent: "vitest",
      now: new Date(),
      refreshTtlSeconds: config.sessions.refreshTtlSeconds,
      absoluteTtlSeconds: config.sessions.refreshAbsoluteTtlSeconds,
    },
  };
}

async function signIn(p: Profile, options: { linkUserId?: string | null; stateHash?: string } = {}) {
  return runSignInBatch(db, await input(p, options));
}

async function signedInUser(p: Profile): Promise<string> {
  const r = await signIn(p);
  if (!r.ok) throw new Error(`sign-in refused: ${r.refusal}`);
  return r.userId;
}

beforeEach(async () => {
  await clearFaults(SCOPE);
  await resetStats(SCOPE);
});

describe("the sign-in batch", () => {
  it("creates user, account, personal org, owner membership, encrypted user token and session in one round trip", async () => {
    const email = `${unique("new")}@example.com`;
    const p = profile({ provider: "google", email: email.toUpperCase(), emailVerified: true, name: "Ada", image: "https://img.example.com/a.png" });
    const i = await input(p);
    await resetStats(SCOPE);
    const r = await runSignInBatch(db, i);
    expect(await stats(SCOPE)).toMatchObject({ requests: 1, batches: 1 });
    expect(r).toMatchObject({ ok: true, path: "new", sessionId: i.session.sessionId, profile: { email: email.toUpperCase(), name: "Ada", image: "https://img.example.com/a.png" } });
    if (!r.ok) return;

    const [user] = await rawSql(`SELECT * FROM users WHERE id = $1`, [r.userId]);
    expect(user).toMatchObject({ email: email.toUpperCase(), email_normalized: email.toLowerCase(), name: "Ada", image: "https://img.example.com/a.png" });
    expect(user?.email_verified_at).not.toBeNull();
    expect(user?.last_sign_in_at).not.toBeNull();
    const orgs = await rawSql(`SELECT * FROM organizations WHERE personal_user_id = $1`, [r.userId]);
    expect(orgs).toHaveLength(1);
    expect(orgs[0]).toMatchObject({ personal: true, name: "Ada" });
    expect(String(orgs[0]?.slug)).toMatch(/^u-[a-z2-7]{16}$/);
    expect(await rawSql(`SELECT role FROM memberships WHERE user_id = $1 AND org_id = $2`, [r.userId, orgs[0]?.id])).toEqual([{ role: "owner" }]);
    expect(await rawSql(`SELECT user_id FROM accounts WHERE provider = 'google' AND provider_subject = $1`, [p.subject])).toEqual([{ user_id: r.userId }]);
    expect(await rawSql(`SELECT user_id FROM sessions WHERE id = $1`, [r.sessionId])).toEqual([{ user_id: r.userId }]);
    expect(await countRows({ stateHash: i.stateHash })).toMatchObject({ consumed: 1 });

    // The session remembers the identity it was created through (unlinking it ends the session).
    expect(await rawSql(`SELECT s.account_id = a.id AS through FROM sessions s, accounts a WHERE s.id = $1 AND a.provider = 'google' AND a.provider_subject = $2`, [i.session.sessionId, p.subject])).toEqual([{ through: true }]);

    // The discriminator is stored as written (F12), and the ciphertext opens only with its identity.
    const [token] = await rawSql<{ token_type: string; key_version: number; scopes: string[]; ciphertext: string; org_id: string; page_id: null; expires_at: string }>(
      `SELECT token_type, key_version, scopes, encode(ciphertext, 'hex') AS ciphertext, org_id, page_id, expires_at FROM provider_tokens WHERE user_id = $1`,
      [r.userId],
    );
    expect(token).toMatchObject({ token_type: "user", key_version: 2, scopes: ["read:user"], org_id: orgs[0]?.id, page_id: null });
    expect(token?.expires_at).not.toBeNull();
    const bytes = Uint8Array.from(token!.ciphertext.match(/../g)!.map((h) => parseInt(h, 16)));
    expect(bytes).toEqual(i.token!.ciphertext);
    const opened = await unseal(config.encryptionKeys, { ciphertext: bytes, keyVersion: 2 }, userTokenAad({ kind: "personal" }, "google", p.subject));
    expect(JSON.parse(opened ?? "{}")).toMatchObject({ accessToken: `at-${p.subject}` });
    expect(await unseal(config.encryptionKeys, { ciphertext: bytes, keyVersion: 2 }, userTokenAad({ kind: "personal" }, "google", "someone-else"))).toBeNull();
    expect(token?.ciphertext).not.toContain(Array.from(new TextEncoder().encode(`at-${p.subject}`), (b) => b.toString(16).padStart(2, "0")).join(""));
  });

  it("signs a returning user in to the same user in one round trip, updating the token in place", async () => {
    const p = profile();
    const first = await signIn(p);
    if (!first.ok) throw new Error("first sign-in refused");
    const before = await rawSql<{ ciphertext: string }>(`SELECT encode(ciphertext, 'hex') AS ciphertext FROM provider_tokens WHERE user_id = $1`, [first.userId]);
    const i = await input({ ...p, name: "Renamed" });
    await resetStats(SCOPE);
    const second = await runSignInBatch(db, i);
    expect(await stats(SCOPE)).toMatchObject({ requests: 1, batches: 1 });
    expect(second).toMatchObject({ ok: true, path: "existing", userId: first.userId, profile: { name: "Test", email: null } });
    expect(await countRows({ subject: p.subject, userId: first.userId })).toMatchObject({ accounts: 1, sessions: 2, tokens: 1, orgs: 1 });
    const after = await rawSql<{ ciphertext: string }>(`SELECT encode(ciphertext, 'hex') AS ciphertext FROM provider_tokens WHERE user_id = $1`, [first.userId]);
    expect(after[0]?.ciphertext).not.toBe(before[0]?.ciphertext);
    // A name the user already has is kept.
    expect(await rawSql(`SELECT name FROM users WHERE id = $1`, [first.userId])).toEqual([{ name: "Test" }]);
  });

  it("refuses a consumed state and writes nothing", async () => {
    const p = profile();
    const stateHash = await sha256Hex(randomBase64Url());
    const first = await signIn(p, { stateHash });
    if (!first.ok) throw new Error("first sign-in refused");
    await resetStats(SCOPE);
    expect(await signIn(p, { stateHash })).toEqual({ ok: false, refusal: "state_replayed" });
    expect(await stats(SCOPE)).toMatchObject({ requests: 1 });
    expect(await countRows({ subject: p.subject, stateHash, userId: first.userId })).toMatchObject({ accounts: 1, consumed: 1, sessions: 1, tokens: 1 });
  });

  it("joins a verified provider email to the user whose email is verified", async () => {
    const email = `${unique("match")}@example.com`;
    const owner = await signedInUser(profile({ provider: "google", email, emailVerified: true }));
    const p = profile({ provider: "github", email: email.toUpperCase(), emailVerified: true });
    expect(await signIn(p)).toMatchObject({ ok: true, path: "email_match", userId: owner });
    expect(await rawSql(`SELECT count(*)::int AS n FROM accounts WHERE user_id = $1`, [owner])).toEqual([{ n: 2 }]);
    expect(await countRows({ userId: owner })).toMatchObject({ orgs: 1, tokens: 2, sessions: 2 });
  });

  it.each([
    ["the provider does not verify the email (Facebook, Naver)", { provider: "facebook", emailVerified: false }, true],
  ])("answers not_linked and writes nothing when %s", async (_, p, ownerVerified) => {
    const email = `${unique("owned")}@example.com`;
    const owner = await signedInUser(profile({ provider: "google", email, emailVerified: ownerVerified }));
    const other = profile({ ...p, email });
    const i = await input(other);
    expect(await runSignInBatch(db, i)).toEqual({ ok: false, refusal: "not_linked" });
    expect(await countRows({ subject: other.subject, email, userId: owner, stateHash: i.stateHash })).toEqual({
      accounts: 0, consumed: 0, users: 1, sessions: 1, tokens: 1, orgs: 1,
    });
  });

  it("refuses a returning identity whose issuer changed (a repointed OIDC instance), writing nothing; fills in a missing issuer", async () => {
    const first = profile({ provider: "corp", issuer: "https://tenant-a.example.com", email: null });
    const owner = await signedInUser(first);
    const repointed = { ...first, issuer: "https://tenant-b.example.com" };
    const i = await input(repointed);
    expect(await runSignInBatch(db, i)).toEqual({ ok: false, refusal: "issuer_mismatch" });
    expect(await rawSql(`SELECT issuer FROM accounts WHERE provider = 'corp' AND provider_subject = $1`, [first.subject])).toEqual([{ issuer: "https://tenant-a.example.com" }]);
    expect(await countRows({ userId: owner, stateHash: i.stateHash })).toMatchObject({ sessions: 1, consumed: 0 });
    expect(await runSignInBatch(db, await input({ ...first, issuer: null }))).toEqual({ ok: false, refusal: "issuer_mismatch" });
    expect(await signIn(first)).toMatchObject({ ok: true, path: "existing", userId: owner });

    // An account stored before issuers were recorded adopts the first issuer it is seen with.
    const legacy = profile({ provider: "corp", issuer: "https://tenant-a.example.com", email: null });
    const legacyUser = await signedInUser(legacy);
    await rawSql(`UPDATE accounts SET issuer = NULL WHERE provider = 'corp' AND provider_subject = $1`, [legacy.subject]);
    expect(await signIn(legacy)).toMatchObject({ ok: true, path: "existing", userId: legacyUser });
    expect(await rawSql(`SELECT issuer FROM accounts WHERE provider = 'corp' AND provider_subject = $1`, [legacy.subject])).toEqual([{ issuer: "https://tenant-a.example.com" }]);
  });

  it("gives a user of its own to an unverified email that only an unverified user holds (neither side proves anything)", async () => {
    const email = `${unique("unverified")}@example.com`;
    const owner = await signedInUser(profile({ provider: "google", email, emailVerified: false }));
    const other = profile({ provider: "facebook", email, emailVerified: false });
    const result = await runSignInBatch(db, await input(other));
    expect(result).toMatchObject({ ok: true, path: "new" });
    if (!result.ok) return;
    expect(result.userId).not.toBe(owner);
  });

  it("never lets an unverified claim on an address lock out its verified owner (pre-registration squatting)", async () => {
    // The attacker signs up first through a provider that does not verify the address (or an IdP
    // that lets anyone type any address); the real owner then arrives with a verified one.
    const email = `${unique("squat")}@example.com`;
    const squatter = await signedInUser(profile({ provider: "facebook", email, emailVerified: false }));
    const owner = profile({ provider: "google", email, emailVerified: true });
    const r = await signIn(owner);
    expect(r).toMatchObject({ ok: true, path: "new" });
    if (!r.ok) return;
    // A user of their own: never joined to the squatter's, whose rows are untouched.
    expect(r.userId).not.toBe(squatter);
    expect(await rawSql(`SELECT user_id FROM accounts WHERE provider = 'google' AND provider_subject = $1`, [owner.subject])).toEqual([{ user_id: r.userId }]);
    expect(await rawSql(`SELECT count(*)::int AS n FROM accounts WHERE user_id = $1`, [squatter])).toEqual([{ n: 1 }]);
    expect(await rawSql(`SELECT email_verified_at IS NOT NULL AS verified FROM users WHERE id = $1`, [r.userId])).toEqual([{ verified: true }]);
    // From now on the verified owner is the one the address matches.
    expect(await signIn(profile({ provider: "github", email, emailVerified: true }))).toMatchObject({ ok: true, path: "email_match", userId: r.userId });
    expect(await signIn(profile({ provider: "naver", email, emailVerified: false }))).toEqual({ ok: false, refusal: "not_linked" });
  });

  it("never matches a look-alike address: Cyrillic letter, full-width @", async () => {
    const domain = `${unique("d")}.example.com`;
    const owner = await signedInUser(profile({ provider: "google", email: `alice@${domain}`, emailVerified: true }));
    for (const email of [`\u0430lice@${domain}`, `alice\uFF20${domain}`]) {
      const r = await signIn(profile({ provider: "google", email, emailVerified: true }));
      expect(r).toMatchObject({ ok: true, path: "new" });
      if (!r.ok) continue;
      expect(r.userId).not.toBe(owner);
      expect(await rawSql(`SELECT email, email_normalized FROM users WHERE id = $1`, [r.userId])).toEqual([{ email, email_normalized: null }]);
    }
  });

  it("links a new identity to the linking user, and refuses one that belongs to someone else", async () => {
    const a = await signedInUser(profile());
    const b = await signedInUser(profile());
    const fresh = profile({ provider: "google" });
    expect(await signIn(fresh, { linkUserId: a })).toMatchObject({ ok: true, path: "link", userId: a });
    expect(await signIn(fresh, { linkUserId: a })).toMatchObject({ ok: true, path: "existing", userId: a });

    const i = await input(fresh, { linkUserId: b });
    expect(await runSignInBatch(db, i)).toEqual({ ok: false, refusal: "link_conflict" });
    expect(await countRows({ subject: fresh.subject, userId: b, stateHash: i.stateHash })).toMatchObject({ accounts: 1, sessions: 1, tokens: 1, consumed: 0 });
    expect(await rawSql(`SELECT user_id FROM accounts WHERE provider_subject = $1`, [fresh.subject])).toEqual([{ user_id: a }]);
  });

  it("refuses a disabled user without a session", async () => {
    const p = profile();
    const userId = await signedInUser(p);
    await rawSql(`UPDATE users SET disabled_at = now() WHERE id = $1`, [userId]);
    expect(await signIn(p)).toEqual({ ok: false, refusal: "disabled" });
    expect(await countRows({ userId })).toMatchObject({ sessions: 1 });
  });

  it("gives a user made elsewhere (no personal org yet) one on sign-in", async () => {
    const [user] = await rawSql<{ id: string }>(`INSERT INTO users (name) VALUES ('Imported') RETURNING id`);
    const fresh = profile();
    expect(await signIn(fresh, { linkUserId: user!.id })).toMatchObject({ ok: true, path: "link" });
    expect(await countRows({ userId: user!.id })).toMatchObject({ orgs: 1, tokens: 1, sessions: 1 });
  });

  it("stores hostile profile fields safely, and a user with no email", async () => {
    const hostile = profile({
      subject: `'; DROP TABLE users; -- ${crypto.randomUUID()}`,
      name: `Robert'); DROP TABLE users;--\u0000\u202Egnp.exe\uD800 ${"x".repeat(1_000_000)}`,
      email: `evil\u0000@example.com`,
      emailVerified: true,
      image: `https://img.example.com/${"a".repeat(3000)}`,
    });
    const r = await signIn(hostile);
    expect(r).toMatchObject({ ok: true, path: "new" });
    if (!r.ok) return;
    const [user] = await rawSql<{ name: string; email: string; email_normalized: null; image: null }>(`SELECT name, email, email_normalized, image FROM users WHERE id = $1`, [r.userId]);
    expect(user?.name.startsWith("Robert'); DROP TABLE users;--gnp.exe\uFFFD x")).toBe(true);
    expect(Array.from(user!.name).length).toBeLessThanOrEqual(200);
    expect(user).toMatchObject({ email: "evil@example.com", email_normalized: null, image: null });
    expect(await rawSql(`SELECT provider_subject FROM accounts WHERE user_id = $1`, [r.userId])).toEqual([{ provider_subject: hostile.subject }]);

    const none = await signIn(profile({ provider: "kakao", email: null, name: null }));
    expect(none).toMatchObject({ ok: true, path: "new" });
  });

  it("writes nothing when the database fails at the batch", async () => {
    const p = profile();
    const i = await input(p);
    await setFaults({ failMatching: "oauth_consumed_states", mode: "http500", scope: SCOPE });
    const error = await runSignInBatch(db, i).then(() => null, (e: unknown) => e);
    expect(classifyDatabaseError(error)?.code).toBe("DatabaseUnavailable");
    await setFaults({ failMatching: "oauth_consumed_states", mode: "postgres", code: "57P01", scope: SCOPE });
    const error2 = await runSignInBatch(db, i).then(() => null, (e: unknown) => e);
    expect(classifyDatabaseError(error2)?.code).toBe("DatabaseUnavailable");
    await clearFaults(SCOPE);
    expect(await countRows({ subject: p.subject, stateHash: i.stateHash })).toMatchObject({ accounts: 0, consumed: 0 });
  });
});

describe("the sign-in batch under concurrency", () => {
  const needsPg = env.DATABASE_BACKEND !== "pg";

  it.skipIf(needsPg)("lets exactly one of 20 concurrent uses of one state through (needs real Postgres (set TEST_DATABASE_URL))", async () => {
    const p = profile();
    const stateHash = await sha256Hex(randomBase64Url());
    const results = await Promise.all(Array.from({ length: 20 }, () => signIn(p, { stateHash })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.refusal === "state_replayed")).toHaveLength(19);
    const winner = results.find((r) => r.ok);
    if (!winner?.ok) return;
    expect(await countRows({ subject: p.subject, userId: winner.userId, stateHash })).toMatchObject({ accounts: 1, sessions: 1, consumed: 1 });
  });

  it.skipIf(needsPg)("makes one user of two concurrent first sign-ins of one identity (needs real Postgres (set TEST_DATABASE_URL))", async () => {
    const email = `${unique("race")}@example.com`;
    const p = profile({ provider: "google", email, emailVerified: true });
    const results = await Promise.all(Array.from({ length: 5 }, () => signIn(p)));
    expect(results.every((r) => r.ok)).toBe(true);
    const users = new Set(results.map((r) => (r.ok ? r.userId : "")));
    expect(users.size).toBe(1);
    expect(await countRows({ subject: p.subject, email, userId: [...users][0] })).toMatchObject({ accounts: 1, users: 1, sessions: 5, orgs: 1, tokens: 1 });
  });
});
