/**
 * Tells a user about a flagged sign-in (`new_device`, `new_country`) by
 * email, when email is configured and their address is verified. Awaited
 * after the sign-in batch committed (request code may not use `waitUntil`),
 * so it costs the flagged sign-ins alone one send; a failure is logged
 * (`signin_notice_failed`) and never fails the sign-in, which has already
 * happened: the audit event and its flags are the record either way.
 */
import type { Context } from "hono";
import type { AppEnv } from "../context";
import { normalizeEmail } from "../lib/email";
import { describeError, log } from "../lib/log";
import { deviceLabel } from "../lib/user-agent";
import { mailerFor, MailError } from "../mail";
import { signInNoticeMessage } from "../mail/signin-notice";

/**
 * Sends the notice if there is reason and a way to; never throws.
 *
 * @example
 * await noticeSuspiciousSignIn(c, { flags: result.flags, method: "github", profile: result.profile });
 */
export async function noticeSuspiciousSignIn(
  c: Context<AppEnv>,
  signIn: { flags: readonly string[]; method: string; profile: { email: string | null; emailVerified: boolean } },
): Promise<void> {
  const config = c.var.config;
  if (signIn.flags.length === 0 || !config.email) return;
  const to = signIn.profile.emailVerified ? normalizeEmail(signIn.profile.email) : null;
  if (to === null) {
    log("info", "signin_notice_skipped", { reason: "no_verified_email", flags: signIn.flags.join(",") });
    return;
  }
  const t = c.var.t;
  const method = signIn.method === "email" ? t.account.emailMethod : (config.providers.find((p) => p.id === signIn.method)?.name ?? signIn.method);
  const message = signInNoticeMessage({
    to,
    host: config.authUrl.host,
    accountUrl: new URL("/account", config.authUrl).href,
    at: new Date(),
    method,
    device: deviceLabel(c.var.request.userAgent),
    country: c.var.request.country,
    flags: signIn.flags,
    t,
  });
  try {
    await mailerFor(config.email, c.var.sendEmail).send(message);
    log("info", "signin_notice_sent", { transport: config.email.transport.kind, flags: signIn.flags.join(",") });
  } catch (error) {
    log("warn", "signin_notice_failed", { transport: config.email.transport.kind, ...describeError(error instanceof MailError ? error : new MailError("mail failed")) });
  }
}
