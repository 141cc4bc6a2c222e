/**
 * Passkeys (docs/passkeys.md), under `/auth/passkey`, each ceremony an
 * options request and a verify request, JSON both ways (the page script
 * `/assets/passkey.<hash>.js` drives them; without JavaScript the buttons
 * stay hidden and every other method works):
 *   - `signin/options`, `signin`: sign in with a discoverable credential
 *     (the button, or the browser's autofill);
 *   - `signup/options`, `signup`: a new account with a passkey alone;
 *   - `register/options`, `register`: a signed-in user adds one (account page).
 *
 * Options store the challenge in KV (awaited) bound to this browser by
 * `__Host-gh_passkey`; verify finds it by the challenge inside the signed
 * `clientDataJSON`, checks the cookie, verifies against AUTH_URL (origin,
 * RP ID, user verification), then writes in ONE batch that also makes the
 * challenge single use (`oauth_consumed_states`). Signing in reads the
 * credential's public key first (one SELECT): two round trips, one of them
 * the write. Every POST must come from this site's own pages (Origin).
 */
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { addPasskey, findPasskey, passkeyOwner, passkeySignIn, passkeySignUp, type NewPasskey, type PasskeyRefusal } from "../db/passkeys";
import { GatehouseError } from "../error";
import { loadPasskeyChallenge, PASSKEY_CHALLENGE_TTL_SECONDS, savePasskeyChallenge, type PasskeyChallenge } from "../kv/passkey-challenges";
import { readCookie, serializeCookie } from "../lib/cookies";
import { randomBase64Url, sha256Hex } from "../lib/crypto";
import { constantTimeEqual } from "../lib/email-code";
import { log } from "../lib/log";
import { cleanText } from "../lib/profile";
import { enforceRateLimit } from "../lib/rate-limit";
import { limitBody, methodNotAllowed, noStore } from "../middleware/csrf";
import {
  authenticationInput,
  authenticationOptions,
  challengeOf,
  newChallenge,
  registrationInput,
  registrationOptions,
  userIdOf,
  verifyAuthentication,
  verifyRegistration,
  type VerifiedCredential,
} from "../passkeys/webauthn";
import { count } from "../observability/metrics";
import { newSessionFor, setSessionCookies } from "../sessions/browser-session";
import { noticeSuspiciousSignIn } from "../sessions/signin-notice";
import { mintRefreshToken } from "../sessions/refresh-token";
import { identifySession } from "../sessions/resolve";
import { passkeyAmr } from "../tokens/oauth";
import { requireOwnOrigin } from "./account";
import { redirectTarget } from "./signin";

/** Binds a passkey challenge to the browser that asked; `__Host-`: Secure, Path=/, no Domain. */
export const PASSKEY_COOKIE = "__Host-gh_passkey";
const MAX_BODY_BYTES = 64 * 1024;
const BINDING_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const passkey = new Hono<AppEnv>()
  .use(noStore())
  .use(async (c, next) => {
    if (!c.var.config.passkeys) throw new GatehouseError("NotFound", "Passkeys are not enabled.");
    await next();
  })
  .post("/signin/options", requireOwnOrigin(), limitBody(MAX_BODY_BYTES), async (c) => {
    const body = await readJson(c);
    const redirectTo = redirectTarget(c, typeof body.redirect_to === "string" ? [body.redirect_to] : undefined);
    const challenge = newChallenge();
    const options = await authenticationOptions(c.var.config, challenge.bytes);
    await storeChallenge(c, { purpose: "signin", challenge: challenge.text, userId: null, userName: null, redirectTo });
    return c.json({ options });
  })
  .post("/signin", requireOwnOrigin(), limitBody(MAX_BODY_BYTES), async (c) => {
    const body = await readJson(c);
    const input = authenticationInput(body.response);
    if (!input) throw verificationFailed();
    const { stored, challengeHash } = await boundChallenge(c, input.response.clientDataJSON, "signin");
    const db = await c.var.db();
    const credential = await findPasskey(db, input.id);
    const handle = userIdOf(input.response.userHandle);
    // An unknown credential, or one whose user handle names another user: nothing to sign in with.
    if (!credential || (handle !== null && handle !== credential.userId)) throw new GatehouseError("PasskeyUnknown", "This passkey is not registered here.");
    const verified = await verifyAuthentication(c.var.config, input, stored.challenge, credential);
    if (!verified) throw verificationFailed();
    const minted = await mintRefreshToken();
    const now = new Date();
    const result = await passkeySignIn(db, {
      challengeHash,
      passkeyId: credential.id,
      userId: credential.userId,
      newCounter: verified.newCounter,
      backedUp: verified.backedUp,
      session: { ...newSessionFor(c, minted, now), amr: passkeyAmr(verified.backupEligible) },
      context: c.var.request,
    });
    if (!result.ok) throw refused(result.refusal);
    log("info", "signed_in", { provider: "passkey", path: "existing" });
    count(c, { event: "signin", provider: "passkey" });
    // A flagged sign-in (new device or country) is told to the user; a failed send is logged, never fatal.
    await noticeSuspiciousSignIn(c, { flags: result.flags, method: "passkey", profile: result.profile });
    await setSessionCookies(c, { userId: credential.userId, sessionId: minted.sessionId, refreshToken: minted.token, now, profile: result.profile });
    clearBinding(c);
    return c.json({ redirect: stored.redirectTo });
  })
  .post("/signup/options", requireOwnOrigin(), limitBody(MAX_BODY_BYTES), async (c) => {
    const body = await readJson(c);
    const redirectTo = redirectTarget(c, typeof body.redirect_to === "string" ? [body.redirect_to] : undefined);
    const name = cleanText(body.name, 64);
    const userId = crypto.randomUUID();
    const challenge = newChallenge();
    const options = await registrationOptions(c.var.config, { challenge: challenge.bytes, userId, userName: name ?? `user-${userId.slice(0, 8)}`, exclude: [] });
    await storeChallenge(c, { purpose: "signup", challenge: challenge.text, userId, userName: name, redirectTo });
    return c.json({ options });
  })
  .post("/signup", requireOwnOrigin(), limitBody(MAX_BODY_BYTES), async (c) => {
    const body = await readJson(c);
    const input = registrationInput(body.response);
    if (!input) throw verificationFailed();
    const { stored, challengeHash } = await boundChallenge(c, input.response.clientDataJSON, "signup");
    const credential = await verifyRegistration(c.var.config, input, stored.challenge);
    if (!credential || stored.userId === null) throw verificationFailed();
    const minted = await mintRefreshToken();
    const now = new Date();
    const newPasskey = passkeyRow(credential, cleanText(body.name, 64) ?? c.var.t.passkeys.defaultName);
    const result = await passkeySignUp(await c.var.db(), {
      challengeHash,
      userId: stored.userId,
      name: stored.userName,
      passkey: newPasskey,
      session: { ...newSessionFor(c, minted, now), amr: passkeyAmr(credential.deviceType === "multiDevice") },
      context: c.var.request,
    });
    if (!result.ok) throw refused(result.refusal);
    log("info", "signed_in", { provider: "passkey", path: "new" });
    count(c, { event: "signin", provider: "passkey" });
    const profile = { email: null, emailVerified: false, name: stored.userName, image: null };
    await setSessionCookies(c, { userId: stored.userId, sessionId: minted.sessionId, refreshToken: minted.token, now, profile });
    clearBinding(c);
    return c.json({ redirect: stored.redirectTo });
  })
  .post("/register/options", requireOwnOrigin(), limitBody(MAX_BODY_BYTES), async (c) => {
    await readJson(c);
    const proof = await identifySession(c);
    if (!proof) throw new GatehouseError("Unauthorized", "Sign in first.");
    const me = await passkeyOwner(await c.var.db(), proof);
    if (!me) throw new GatehouseError("Unauthorized", "Sign in first.");
    const challenge = newChallenge();
    const userName = me.email ?? me.name ?? `user-${me.id.slice(0, 8)}`;
    const options = await registrationOptions(c.var.config, { challenge: challenge.bytes, userId: me.id, userName, exclude: me.credentialIds });
    await storeChallenge(c, { purpose: "register", challenge: challenge.text, userId: me.id, userName: null, redirectTo: null });
    return c.json({ options });
  })
  .post("/register", requireOwnOrigin(), limitBody(MAX_BODY_BYTES), async (c) => {
    const body = await readJson(c);
    const input = registrationInput(body.response);
    if (!input) throw verificationFailed();
    const proof = await identifySession(c);
    if (!proof) throw new GatehouseError("Unauthorized", "Sign in first.");
    const { stored, challengeHash } = await boundChallenge(c, input.response.clientDataJSON, "register");
    const credential = await verifyRegistration(c.var.config, input, stored.challenge);
    if (!credential || stored.userId === null) throw verificationFailed();
    const row = passkeyRow(credential, cleanText(body.name, 64) ?? c.var.t.passkeys.defaultName);
    const result = await addPasskey(await c.var.db(), proof, { challengeHash, userId: stored.userId, passkey: row, context: c.var.request });
    if (!result.ok) throw refused(result.refusal);
    clearBinding(c);
    return c.json({ redirect: "/account?notice=passkey_added" });
  })
  .all("/signin/options", methodNotAllowed("POST"))
  .all("/signin", methodNotAllowed("POST"))
  .all("/signup/options", methodNotAllowed("POST"))
  .all("/signup", methodNotAllowed("POST"))
  .all("/register/options", methodNotAllowed("POST"))
  .all("/register", methodNotAllowed("POST"));

/** The JSON object body (rate-limited first: every ceremony step costs KV or database work). */
async function readJson(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  await enforceRateLimit(c.var.rateLimiter, "passkey", c.req.header("cf-connecting-ip"));
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") throw new GatehouseError("UnsupportedMediaType", "Send JSON.");
  let body: unknown;
  try {
    body = await c.req.raw.json();
  } catch {
    throw new GatehouseError("InvalidRequest", "The body is not JSON.");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new GatehouseError("InvalidRequest", "The body is not a JSON object.");
  return body as Record<string, unknown>;
}

/** Stores the challenge (awaited), then sets the binding cookie: a KV failure leaves neither. */
async function storeChallenge(c: Context<AppEnv>, record: Omit<PasskeyChallenge, "v" | "bindingHash" | "createdAt">): Promise<void> {
  const held = readCookie(c.req.header("cookie"), PASSKEY_COOKIE);
  // A browser keeps its binding, so the autofill request and a button click of one page both stay valid.
  const binding = held.kind === "present" && BINDING_PATTERN.test(held.value) ? held.value : randomBase64Url();
  await savePasskeyChallenge(c.var.kv, await sha256Hex(record.challenge), { v: 1, ...record, bindingHash: await sha256Hex(binding), createdAt: Date.now() });
  c.header("Set-Cookie", serializeCookie(PASSKEY_COOKIE, binding, PASSKEY_CHALLENGE_TTL_SECONDS), { append: true });
}

/** The stored challenge the response answers, of this purpose and this browser; `PasskeyChallengeInvalid` otherwise. */
async function boundChallenge(c: Context<AppEnv>, clientDataJSON: string, purpose: PasskeyChallenge["purpose"]): Promise<{ stored: PasskeyChallenge; challengeHash: string }> {
  const challenge = challengeOf(clientDataJSON);
  if (challenge === null) throw challengeInvalid();
  const challengeHash = await sha256Hex(challenge);
  const stored = await loadPasskeyChallenge(c.var.kv, challengeHash, Date.now());
  if (!stored || stored.purpose !== purpose || stored.challenge !== challenge) throw challengeInvalid();
  const cookie = readCookie(c.req.header("cookie"), PASSKEY_COOKIE);
  if (cookie.kind !== "present" || !constantTimeEqual(await sha256Hex(cookie.value), stored.bindingHash)) throw challengeInvalid();
  return { stored, challengeHash };
}

function passkeyRow(credential: VerifiedCredential, name: string): NewPasskey {
  return { id: crypto.randomUUID(), ...credential, name };
}

function clearBinding(c: Context<AppEnv>): void {
  c.header("Set-Cookie", serializeCookie(PASSKEY_COOKIE, "", 0), { append: true });
}

function challengeInvalid(): GatehouseError {
  return new GatehouseError("PasskeyChallengeInvalid", "The passkey request expired, was already used, or was started in another browser.");
}

function verificationFailed(): GatehouseError {
  return new GatehouseError("PasskeyVerificationFailed", "The passkey's answer could not be verified.");
}

function refused(refusal: PasskeyRefusal): GatehouseError {
  log("info", "passkey_refused", { refusal });
  switch (refusal) {
    case "state_replayed":
      return challengeInvalid();
    case "unauthorized":
      return new GatehouseError("Unauthorized", "Sign in first.");
    case "passkey_exists":
      return new GatehouseError("PasskeyExists", "This passkey is already registered.");
    case "passkey_unknown":
      return new GatehouseError("PasskeyUnknown", "This passkey is not registered here.");
    case "counter":
      return verificationFailed();
    case "disabled":
      return new GatehouseError("UserDisabled", "This account is disabled.");
  }
}
