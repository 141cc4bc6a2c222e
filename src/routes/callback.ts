/**
 * `GET /auth/callback/:provider`: finish a sign-in.
 *
 * Everything that can be checked without the provider is checked first
 * (parameters, state, the browser binding cookie, the provider, `error=`):
 * a rejection there writes nothing, sets no cookie and calls no provider
 * endpoint. Then the provider validates the callback itself (`iss`, …) and,
 * right BEFORE its code exchange, the state is claimed in the database
 * (`db/signin-claim.ts`, one round trip), so the provider sees each code
 * once however many copies of the callback arrive. The claimant exchanges
 * the code, and ONE database batch (`db/signin.ts`) finishes the state and
 * writes the user, account, organization, tokens and session. Cookies are
 * set only after it committed. Copies that lost the claim wait for the
 * claimant and follow it (`callback-follow.ts`). Two round trips in all.
 *
 * The session's id and refresh secret are derived from the browser's
 * binding cookie and the state (`deriveSignInRefreshToken`), so every copy
 * knows the session the claimant creates and can hand the browser the same.
 *
 * A Facebook Pages connect (the transaction names an organization) adds the
 * Graph calls (long-lived token, `/me/accounts`) before that batch and its
 * pages and tokens inside it: still ONE round trip (`org-facebook.ts`).
 */
import { Hono } from "hono/tiny";
import type { Context } from "hono";
import type { AppEnv } from "../context";
import { classifyDatabaseError } from "../db/errors";
import { runSignInBatch, type SignInRefusal } from "../db/signin";
import { claimSignInState, recordSignInFailure, type SignInObservation } from "../db/signin-claim";
import { userTokenAad } from "../orgs/provider-token-secret";
import { GatehouseError, type ErrorCode } from "../error";
import { deleteTransaction, loadTransaction, type SignInTransaction } from "../kv/transactions";
import { readCookie, serializeCookie } from "../lib/cookies";
import { seal, sha256Hex } from "../lib/crypto";
import { describeError, log } from "../lib/log";
import { storedProfile, type StoredProfile } from "../lib/profile";
import { count } from "../observability/metrics";
import type { ProviderTokenSet, SignInProvider } from "../providers";
import { newSessionFor, setSessionCookies } from "../sessions/browser-session";
import { noticeSuspiciousSignIn } from "../sessions/signin-notice";
import { FEDERATED_AMR } from "../tokens/oauth";
import { deriveSignInRefreshToken, type MintedRefreshToken } from "../sessions/refresh-token";
import { followClaimant } from "./callback-follow";
import { prepareFacebookConnect, type PreparedConnect } from "./org-facebook";
import { callbackUrlFor, providerFromRoute, TRANSACTION_COOKIE } from "./signin";

/** The state gatehouse mints: 32 random bytes, base64url. */
const STATE_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Parameters that must appear at most once; a second copy is an attack or a broken client. */
const SINGLE_PARAMETERS = ["state", "code", "iss", "error", "error_description", "error_uri"] as const;
const MAX_CODE_LENGTH = 2048;

const REFUSAL_ERRORS: Record<SignInRefusal, { code: ErrorCode; message: string }> = {
  state_replayed: { code: "StateInvalid", message: "This sign-in was already completed." },
  not_linked: { code: "AccountNotLinked", message: "Another account uses this email address." },
  link_conflict: { code: "AccountAlreadyLinked", message: "This provider account is already linked to another user." },
  link_user_missing: { code: "AccessDenied", message: "The account to link to no longer exists." },
  link_session_ended: { code: "AccessDenied", message: "The session that started this link has ended; sign in and link again." },
  issuer_mismatch: { code: "AccessDenied", message: "This account belongs to another issuer of this provider." },
  disabled: { code: "UserDisabled", message: "This account is disabled." },
  org_forbidden: { code: "Forbidden", message: "Only owners and admins can connect Pages to this organization." },
  // Only email codes count attempts (routes/email.ts); a callback never refuses this.
  code_attempts: { code: "Internal", message: "Unexpected refusal." },
};

export const callback = new Hono<AppEnv>().get("/:provider", async (c) => {
  const provider = providerFromRoute(c, c.req.param("provider"));
  const callbackUrl = new URL(c.req.url);
  const { state, stateHash, transaction, binding } = await checkCallback(c, provider, callbackUrl.searchParams);
  const refresh = await deriveSignInRefreshToken(binding, state);

  // The provider validates the callback (iss, …), then calls this right before its code exchange.
  let claimed = false;
  // What the failure's audit row can say: the identity, once the provider answered, and the refusal.
  const known: KnownSoFar = { profile: null, refusal: null };
  const beforeExchange = async () => {
    const claim = await claimSignInState(await c.var.db(), stateHash, refresh);
    if (!claim.won) throw new ClaimLost(claim.seen);
    claimed = true;
  };
  try {
    return await completeSignIn(c, { provider, callbackUrl, state, stateHash, transaction, refresh, beforeExchange, claimed: () => claimed, known });
  } catch (error) {
    if (error instanceof ClaimLost) return followClaimant(c, { provider: provider.id, stateHash, refresh, transaction, seen: error.seen });
    if (claimed) await recordFailure(c, { stateHash, provider: provider.id, linkUserId: transaction.linkUserId, known }, error);
    throw error;
  }
});

interface KnownSoFar {
  profile: StoredProfile | null;
  refusal: SignInRefusal | null;
}

/** Thrown by the claim when another copy of this callback holds the state. */
class ClaimLost extends Error {
  constructor(readonly seen: SignInObservation) {
    super("another copy of this callback claimed the state");
    this.name = "ClaimLost";
  }
}

/** The claimant's work: the code exchange, the sign-in batch, the cookies. */
async function completeSignIn(
  c: Context<AppEnv>,
  input: {
    provider: SignInProvider;
    callbackUrl: URL;
    state: string;
    stateHash: string;
    transaction: SignInTransaction;
    refresh: MintedRefreshToken;
    beforeExchange: () => Promise<void>;
    claimed: () => boolean;
    known: KnownSoFar;
  },
): Promise<Response> {
  const { provider, callbackUrl, state, stateHash, transaction, refresh } = input;
  const { profile, tokens } = await provider.completeSignIn({
    beforeExchange: input.beforeExchange,
    state,
    codeVerifier: transaction.codeVerifier,
    nonce: transaction.nonce,
    redirectUri: callbackUrlFor(c.var.config.authUrl, provider.id),
    scopes: transaction.scopes,
    callbackUrl,
  });
  // Every provider exchanges its code through oauth.ts, which claims first; one that did not is a bug.
  if (!input.claimed()) throw new Error("the provider exchanged the code without claiming the state");
  const stored = profile.provider === provider.id ? storedProfile(profile) : null;
  if (!stored) throw new GatehouseError("OAuthCallback", "The provider did not return a usable account id.");
  input.known.profile = stored;
  const prepared = await prepareConnect(c, provider, transaction, stored.subject, tokens);

  const now = new Date();
  const result = await runSignInBatch(await c.var.db(), {
    stateHash,
    profile: stored,
    linkUserId: transaction.linkUserId,
    linkSessionId: transaction.linkSessionId,
    token: await sealTokens(c, prepared?.userTokens ?? tokens, stored.provider, stored.subject),
    connect: prepared?.connect ?? null,
    session: { ...newSessionFor(c, refresh, now), amr: FEDERATED_AMR },
    context: c.var.request,
  });
  // The KV transaction stays until it expires: a late copy of this callback
  // (a restored tab) still proves its browser with it and follows this outcome.
  if (!result.ok) {
    input.known.refusal = result.refusal;
    const { code, message } = REFUSAL_ERRORS[result.refusal];
    log("info", "sign_in_refused", { provider: provider.id, refusal: result.refusal });
    throw new GatehouseError(code, message, { extra: { provider: provider.id } });
  }

  log("info", "signed_in", { provider: provider.id, path: result.path });
  count(c, { event: "signin", provider: provider.id });
  // A flagged sign-in (new device or country) is told to the user; a failed send is logged, never fatal.
  await noticeSuspiciousSignIn(c, { flags: result.flags, method: provider.id, profile: result.profile });
  if (prepared) log("info", "pages_connected", { provider: provider.id, pages: prepared.connect.pages.length, capped: prepared.capped });
  await setSessionCookies(c, {
    userId: result.userId,
    sessionId: result.sessionId,
    refreshToken: refresh.token,
    now,
    profile: result.profile,
  });
  c.header("Set-Cookie", serializeCookie(TRANSACTION_COOKIE, "", 0), { append: true });
  c.header("Cache-Control", "no-store");
  return c.redirect(prepared?.capped ? withCappedFlag(transaction.redirectTo) : transaction.redirectTo, 302);
}

/**
 * Stores the error code the claimant ended with, so its copies stop waiting
 * and answer the same, with the `signin.failure` audit row in the same
 * statement. Best effort: if the database fails here too, the copies give up
 * after their wait and the original error still stands (logged).
 */
async function recordFailure(
  c: Context<AppEnv>,
  failed: { stateHash: string; provider: string; linkUserId: string | null; known: KnownSoFar },
  error: unknown,
): Promise<void> {
  const { stateHash, provider, known } = failed;
  const code = (error instanceof GatehouseError ? error : classifyDatabaseError(error))?.code ?? "Internal";
  const who = {
    provider,
    subject: known.profile?.subject ?? null,
    emailNormalized: known.profile?.emailNormalized ?? null,
    emailVerified: known.profile?.emailVerified ?? false,
    linkUserId: failed.linkUserId,
  };
  try {
    await recordSignInFailure(await c.var.db(), stateHash, code, { who, reason: known.refusal, context: c.var.request });
  } catch (recordError) {
    log("warn", "sign_in_failure_unrecorded", { provider, code, ...describeError(recordError) });
  }
}

/** A connect's Graph work, or `null` for a plain sign-in or link. */
async function prepareConnect(
  c: Context<AppEnv>,
  provider: SignInProvider,
  transaction: SignInTransaction,
  subject: string,
  tokens: ProviderTokenSet,
): Promise<PreparedConnect | null> {
  if (transaction.orgId === null) return null;
  if (transaction.linkUserId === null) throw new GatehouseError("InvalidRequest", "Only a signed-in user can connect Pages.");
  return prepareFacebookConnect(c, provider, { orgId: transaction.orgId, userId: transaction.linkUserId, subject, tokens });
}

/** The return address with `pages_capped=1`: the user has more Pages than were connected. */
function withCappedFlag(redirectTo: string): string {
  const url = new URL(redirectTo);
  url.searchParams.set("pages_capped", "1");
  return url.href;
}

/**
 * The checks that need no provider and no database. Throws `OAuthCallback`
 * for malformed or duplicated parameters, `StateInvalid` for a missing,
 * unknown, expired, foreign-browser or other-provider state, and
 * `AccessDenied`/`OAuthCallback` for the provider's `error=`.
 */
async function checkCallback(
  c: Context<AppEnv>,
  provider: SignInProvider,
  params: URLSearchParams,
): Promise<{ state: string; stateHash: string; transaction: SignInTransaction; binding: string }> {
  for (const name of SINGLE_PARAMETERS) {
    if (params.getAll(name).length > 1) {
      throw new GatehouseError("OAuthCallback", "The sign-in response repeats a parameter.");
    }
  }
  const state = params.get("state");
  if (state === null || !STATE_PATTERN.test(state)) throw stateInvalid();

  const cookie = readCookie(c.req.header("cookie"), TRANSACTION_COOKIE);
  if (cookie.kind !== "present") throw stateInvalid();

  const stateHash = await sha256Hex(state);
  const transaction = await loadTransaction(c.var.kv, stateHash, Date.now());
  if (!transaction) throw stateInvalid();
  if ((await sha256Hex(cookie.value)) !== transaction.bindingHash) throw stateInvalid();
  if (transaction.provider !== provider.id) throw stateInvalid();
  // Only the link route records an org, and only for a signed-in user's Facebook link.
  if (transaction.orgId !== null && (transaction.linkUserId === null || provider.kind !== "facebook")) throw stateInvalid();

  const error = params.get("error");
  if (error !== null) {
    // Only the code is kept, and only if it looks like one; the description is never shown.
    const providerError = /^[A-Za-z0-9_.-]{1,64}$/.test(error) ? error : "unknown";
    // The attempt is over; the database was never touched, so only KV is tidied.
    if (!(await deleteTransaction(c.var.kv, stateHash))) log("warn", "transaction_delete_failed", { provider: provider.id });
    throw new GatehouseError(providerError === "access_denied" ? "AccessDenied" : "OAuthCallback", "The provider did not sign you in.", {
      extra: { provider: provider.id, providerError },
      // Cancelled at the provider: the way back keeps the app's return address.
      backHref: `/auth/signin?redirect_to=${encodeURIComponent(transaction.redirectTo)}`,
    });
  }
  const code = params.get("code");
  if (code === null || code.length === 0 || code.length > MAX_CODE_LENGTH || !/^[\x21-\x7e]+$/.test(code)) {
    throw new GatehouseError("OAuthCallback", "The sign-in response has no valid code.");
  }
  return { state, stateHash, transaction, binding: cookie.value };
}

function stateInvalid(): GatehouseError {
  return new GatehouseError("StateInvalid", "The sign-in link expired, was already used, or was started in another browser.");
}

/** Encrypts the provider's token set (tokens, expiry, scopes) for its account's `provider_tokens` row. */
async function sealTokens(c: Context<AppEnv>, tokens: ProviderTokenSet, provider: string, subject: string) {
  const payload = JSON.stringify({
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: tokens.expiresAt?.toISOString() ?? null,
    scopes: tokens.scopes,
  });
  // The personal organization's token: its ids are made by the sign-in statement itself (see provider-token-secret.ts).
  const sealed = await seal(c.var.config.encryptionKeys, payload, userTokenAad({ kind: "personal" }, provider, subject));
  return { ...sealed, scopes: tokens.scopes, expiresAt: tokens.expiresAt };
}
