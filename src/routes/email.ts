/**
 * Email sign-in: `GET /auth/email` (the address form), `POST /auth/email`
 * (send a code and link), `GET /auth/email/verify` (the code form; the
 * emailed link opens it pre-filled) and `POST /auth/email/verify` (finish).
 *
 * Sending makes NO database round trip and never looks up the address, so
 * its answer and its timing are the same whether an account exists or not;
 * the challenge (hashes only) goes to KV, awaited, before the message is
 * sent. Finishing is ONE round trip: a wrong code is one statement counting
 * the attempt; the right code is the sign-in batch of `db/signin.ts`, which
 * makes the challenge single use (`oauth_consumed_states`) and counts the
 * attempt (refusing the sixth) in the same transaction. Both forms POST and
 * need the `__Host-` cookie of the browser that asked.
 */
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { codeAttemptStatement, MAX_CODE_ATTEMPTS, recordWrongCode } from "../db/email-signin";
import { runSignInBatch } from "../db/signin";
import { GatehouseError } from "../error";
import { EMAIL_CHALLENGE_TTL_SECONDS, loadEmailChallenge, saveEmailChallenge } from "../kv/email-challenges";
import { readCookie, serializeCookie } from "../lib/cookies";
import { randomBase64Url, sha256Hex } from "../lib/crypto";
import { normalizeEmail } from "../lib/email";
import { CHALLENGE_PATTERN, CODE_PATTERN, constantTimeEqual, generateCode } from "../lib/email-code";
import { describeError, log } from "../lib/log";
import { cleanText } from "../lib/profile";
import { enforceKeyedRateLimit, enforceRateLimit } from "../lib/rate-limit";
import { pageSecurityHeaders } from "../lib/security-headers";
import { mailerFor, MailError } from "../mail";
import type { SendEmailBinding } from "../mail/cloudflare";
import { signInMessage } from "../mail/signin-message";
import { limitBody, requireTrustedOrigin } from "../middleware/csrf";
import { count } from "../observability/metrics";
import { EmailCodePage, EmailStartPage } from "../pages/email";
import { newSessionFor, setSessionCookies } from "../sessions/browser-session";
import { noticeSuspiciousSignIn } from "../sessions/signin-notice";
import { EMAIL_AMR } from "../tokens/oauth";
import { deriveSignInRefreshToken } from "../sessions/refresh-token";
import { redirectTarget } from "./signin";

/** Binds a challenge to the browser that asked; `__Host-`: Secure, Path=/, no Domain. */
export const EMAIL_COOKIE = "__Host-gh_email";
/** The `accounts.provider` of an email identity; its subject is the normalized address. */
export const EMAIL_PROVIDER = "email";
const MAX_FORM_BYTES = 8192;

export const email = new Hono<AppEnv>()
  .use(async (c, next) => {
    if (!c.var.config.email) throw new GatehouseError("NotFound", "Email sign-in is not enabled.");
    await next();
  })
  .get("/", (c) => {
    const raw = c.req.queries("redirect_to");
    const redirectTo = raw === undefined ? null : redirectTarget(c, raw);
    return page(c, String(EmailStartPage({ redirectTo, t: c.var.t })));
  })
  .post("/", requireTrustedOrigin(), limitBody(MAX_FORM_BYTES), async (c) => {
    const form = await readForm(c);
    const redirectTo = redirectTarget(c, form.getAll("redirect_to").map(String));
    const typed = form.getAll("email");
    const address = typed.length === 1 && typeof typed[0] === "string" ? typed[0] : null;
    const normalized = normalizeEmail(address);
    // Refused before anything is counted or stored: CR/LF, look-alikes, anything not plain ASCII.
    if (address === null || normalized === null) throw new GatehouseError("EmailInvalid", "This email address cannot receive sign-in codes.", { backHref: "/auth/email" });
    const ip = c.req.header("cf-connecting-ip");
    await enforceRateLimit(c.var.emailRateLimiter, "email-ip", ip);
    await enforceKeyedRateLimit(c.var.emailRateLimiter, "email-to", await sha256Hex(normalized));

    const challenge = randomBase64Url();
    // A browser that already holds a binding keeps it, so an earlier code of the same browser still works.
    const held = readCookie(c.req.header("cookie"), EMAIL_COOKIE);
    const binding = held.kind === "present" && CHALLENGE_PATTERN.test(held.value) ? held.value : randomBase64Url();
    const code = generateCode();
    const challengeHash = await sha256Hex(challenge);
    await saveEmailChallenge(c.var.kv, challengeHash, {
      v: 1,
      email: cleanText(address, 320) ?? normalized,
      emailNormalized: normalized,
      codeHash: await sha256Hex(`${challenge}:${code}`),
      bindingHash: await sha256Hex(binding),
      redirectTo,
      createdAt: Date.now(),
    });
    const config = c.var.config;
    const link = new URL("/auth/email/verify", config.authUrl);
    link.searchParams.set("c", challenge);
    link.searchParams.set("code", code);
    try {
      await mailerFor(config.email!, c.var.sendEmail).send(signInMessage({ to: normalized, code, link: link.href, host: config.authUrl.host, t: c.var.t }));
    } catch (error) {
      log("error", "mail_failed", { transport: config.email!.transport.kind, ...describeError(error instanceof MailError ? error : new MailError("mail failed")) });
      throw new GatehouseError("MailUnavailable", "The sign-in email could not be sent.", { backHref: "/auth/email" });
    }
    log("info", "email_code_sent", { transport: config.email!.transport.kind });
    c.header("Set-Cookie", serializeCookie(EMAIL_COOKIE, binding, EMAIL_CHALLENGE_TTL_SECONDS), { append: true });
    c.header("Cache-Control", "no-store");
    // The code page's "send a new code" link keeps the return address (validated again when it is used).
    const keep = form.getAll("redirect_to").length > 0 ? `&redirect_to=${encodeURIComponent(redirectTo)}` : "";
    return c.redirect(`/auth/email/verify?c=${challenge}${keep}`, 303);
  })
  .get("/verify", (c) => {
    const challenge = single(c.req.queries("c"));
    const code = single(c.req.queries("code"));
    if (challenge === null || !CHALLENGE_PATTERN.test(challenge)) throw expired();
    const prefill = code !== null && CODE_PATTERN.test(code) ? code : null;
    const raw = c.req.queries("redirect_to");
    const redirectTo = raw === undefined ? null : redirectTarget(c, raw);
    return page(c, String(EmailCodePage({ challenge, code: prefill, redirectTo, t: c.var.t })));
  })
  .post("/verify", requireTrustedOrigin(), limitBody(MAX_FORM_BYTES), async (c) => {
    await enforceRateLimit(c.var.rateLimiter, "email-verify", c.req.header("cf-connecting-ip"));
    const form = await readForm(c);
    const challenge = singleForm(form, "c");
    const code = singleForm(form, "code")?.trim() ?? null;
    if (challenge === null || !CHALLENGE_PATTERN.test(challenge)) throw expired();
    const back = `/auth/email/verify?c=${challenge}`;
    if (code === null || !CODE_PATTERN.test(code)) throw new GatehouseError("EmailCodeInvalid", "Enter the six digits of the code.", { backHref: back });

    const cookie = readCookie(c.req.header("cookie"), EMAIL_COOKIE);
    const challengeHash = await sha256Hex(challenge);
    const stored = await loadEmailChallenge(c.var.kv, challengeHash, Date.now());
    if (!stored) throw expired();
    if (cookie.kind !== "present" || !constantTimeEqual(await sha256Hex(cookie.value), stored.bindingHash)) {
      throw new GatehouseError("EmailOtherBrowser", "This sign-in was asked for in another browser.", { backHref: "/auth/email" });
    }
    const db = await c.var.db();
    if (!constantTimeEqual(await sha256Hex(`${challenge}:${code}`), stored.codeHash)) {
      const attempts = await recordWrongCode(db, challengeHash, { emailNormalized: stored.emailNormalized, context: c.var.request });
      if (attempts >= MAX_CODE_ATTEMPTS) throw tooManyAttempts();
      throw new GatehouseError("EmailCodeInvalid", "The code is not right.", { extra: { attemptsLeft: MAX_CODE_ATTEMPTS - attempts }, backHref: back });
    }

    const refresh = await deriveSignInRefreshToken(cookie.value, challenge);
    const now = new Date();
    const result = await runSignInBatch(db, {
      stateHash: challengeHash,
      profile: {
        provider: EMAIL_PROVIDER,
        subject: stored.emailNormalized,
        issuer: null,
        email: stored.email,
        emailNormalized: stored.emailNormalized,
        emailVerified: true,
        name: null,
        image: null,
      },
      linkUserId: null,
      token: null,
      codeAttempt: codeAttemptStatement(challengeHash),
      session: { ...newSessionFor(c, refresh, now), amr: EMAIL_AMR },
      context: c.var.request,
    });
    if (!result.ok) {
      log("info", "sign_in_refused", { provider: EMAIL_PROVIDER, refusal: result.refusal });
      if (result.refusal === "code_attempts") throw tooManyAttempts();
      if (result.refusal === "state_replayed") throw expired();
      throw new GatehouseError("UserDisabled", "This account is disabled.");
    }
    log("info", "signed_in", { provider: EMAIL_PROVIDER, path: result.path });
    count(c, { event: "signin", provider: EMAIL_PROVIDER });
    await noticeSuspiciousSignIn(c, { flags: result.flags, method: EMAIL_PROVIDER, profile: result.profile });
    await setSessionCookies(c, { userId: result.userId, sessionId: result.sessionId, refreshToken: refresh.token, now, profile: result.profile });
    c.header("Set-Cookie", serializeCookie(EMAIL_COOKIE, "", 0), { append: true });
    c.header("Cache-Control", "no-store");
    return c.redirect(stored.redirectTo, 303);
  });

function page(c: Context<AppEnv>, body: string): Response {
  return c.html("<!doctype html>" + body, 200, { ...pageSecurityHeaders({ hasForms: true }), "Cache-Control": "no-store" });
}

/** The urlencoded form body; anything else is 415. */
async function readForm(c: Context<AppEnv>): Promise<FormData> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") throw new GatehouseError("UnsupportedMediaType", "Send the form as application/x-www-form-urlencoded.");
  try {
    return await c.req.raw.formData();
  } catch {
    throw new GatehouseError("InvalidRequest", "The form could not be read.");
  }
}

function single(values: string[] | undefined): string | null {
  return values?.length === 1 ? values[0]! : null;
}

function singleForm(form: FormData, name: string): string | null {
  const values = form.getAll(name);
  return values.length === 1 && typeof values[0] === "string" ? values[0] : null;
}

function expired(): GatehouseError {
  return new GatehouseError("EmailCodeExpired", "The code expired or was already used.", { backHref: "/auth/email" });
}

function tooManyAttempts(): GatehouseError {
  return new GatehouseError("EmailCodeAttempts", "Too many wrong codes; ask for a new one.", { backHref: "/auth/email" });
}

/** The Cloudflare `send_email` binding, when the deployment declares one. */
export function sendEmailBinding(env: object): SendEmailBinding | undefined {
  const binding = (env as { SEND_EMAIL?: SendEmailBinding }).SEND_EMAIL;
  return binding && typeof binding.send === "function" ? binding : undefined;
}
