/**
 * A copy of a sign-in callback that lost the claim on its state (the same
 * browser delivered the callback URL twice: double navigation, a restored
 * tab, a retry). It never calls the provider. It waits for the claimant and
 * follows it:
 *
 * - the claimant signed in: the copy sets the SAME session's cookies (the
 *   session id and refresh secret are derived from the browser's binding
 *   cookie and the state, `deriveSignInRefreshToken`) and redirects to the
 *   return address, so whichever response the browser keeps, it ends signed
 *   in. If that session has rotated its secret since (the browser already
 *   refreshed), was revoked or its user disabled, no cookie is set: the
 *   browser keeps what it has;
 * - the claimant failed: the copy answers the claimant's refusal (email
 *   owned by another user, identity linked elsewhere, access denied), or
 *   `StateInvalid` (start again) for anything transient, since this state
 *   cannot be used again;
 * - the claimant is still working after {@link FOLLOW_TIMEOUT_MS}: `StateInvalid`.
 *
 * Each look at the outcome is one SELECT; they back off from 100 ms to 1 s.
 */
import type { Context } from "hono";
import type { AppEnv } from "../context";
import { observeSignIn, type SignInObservation } from "../db/signin-claim";
import { GatehouseError, type ErrorCode } from "../error";
import type { SignInTransaction } from "../kv/transactions";
import { serializeCookie } from "../lib/cookies";
import { log } from "../lib/log";
import { setSessionCookies } from "../sessions/browser-session";
import type { MintedRefreshToken } from "../sessions/refresh-token";
import { TRANSACTION_COOKIE } from "./signin";

/**
 * How long a copy waits for the claimant: longer than the claimant's own
 * bound (a few provider calls of at most 8 s each, then one batch).
 */
export const FOLLOW_TIMEOUT_MS = 30_000;
const FIRST_LOOK_MS = 100;
const MAX_LOOK_INTERVAL_MS = 1_000;

/** Refusals a copy repeats as they are; anything else means "start again". */
const REPEATED: ReadonlySet<string> = new Set<ErrorCode>(["AccountNotLinked", "AccountAlreadyLinked", "AccessDenied", "UserDisabled", "Forbidden"]);

export interface FollowInput {
  provider: string;
  stateHash: string;
  refresh: MintedRefreshToken;
  transaction: SignInTransaction;
  /** What the claim statement already saw. */
  seen: SignInObservation;
}

/**
 * Waits for the claimant and answers as described above.
 *
 * @example
 * if (!claim.won) return followClaimant(c, { provider: "github", stateHash, refresh, transaction, seen: claim.seen });
 */
export async function followClaimant(c: Context<AppEnv>, input: FollowInput): Promise<Response> {
  const deadline = Date.now() + FOLLOW_TIMEOUT_MS;
  let seen = input.seen;
  let interval = FIRST_LOOK_MS;
  for (;;) {
    if (seen.state === "signed_in") return followToReturnAddress(c, input, seen);
    if (seen.state === "failed") {
      log("info", "sign_in_followed", { provider: input.provider, outcome: seen.code });
      if (REPEATED.has(seen.code)) {
        throw new GatehouseError(seen.code as ErrorCode, "This sign-in was refused.", { extra: { provider: input.provider } });
      }
      throw new GatehouseError("StateInvalid", "This sign-in attempt failed; start again.");
    }
    if (Date.now() + interval > deadline) {
      log("warn", "sign_in_follow_timeout", { provider: input.provider });
      throw new GatehouseError("StateInvalid", "This sign-in is still being completed by another request; start again.");
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
    interval = Math.min(interval * 2, MAX_LOOK_INTERVAL_MS);
    seen = await observeSignIn(await c.var.db(), input.stateHash, input.refresh);
  }
}

async function followToReturnAddress(
  c: Context<AppEnv>,
  input: FollowInput,
  seen: Extract<SignInObservation, { state: "signed_in" }>,
): Promise<Response> {
  if (seen.session) {
    await setSessionCookies(c, {
      userId: seen.session.userId,
      sessionId: input.refresh.sessionId,
      refreshToken: input.refresh.token,
      now: new Date(),
      profile: seen.session.profile,
      sessionExpiresAt: seen.session.expiresAt,
    });
  }
  log("info", "sign_in_followed", { provider: input.provider, outcome: "signed_in", cookies: seen.session !== null });
  c.header("Set-Cookie", serializeCookie(TRANSACTION_COOKIE, "", 0), { append: true });
  c.header("Cache-Control", "no-store");
  return c.redirect(input.transaction.redirectTo, 302);
}
