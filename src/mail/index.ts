/**
 * Picks the configured transport (config.ts `email.transport`). The
 * Cloudflare binding is passed in by the route: configuration holds data
 * only, and the binding's presence was checked when it was parsed.
 */
import type { EmailConfig } from "../config";
import { cloudflareMailer, type SendEmailBinding } from "./cloudflare";
import type { Mailer } from "./message";
import { resendMailer } from "./resend";
import { smtpMailer } from "./smtp";

export { MailError, type Mailer, type MailMessage } from "./message";

/**
 * @example const mailer = mailerFor(config.email, c.var.sendEmail);
 */
export function mailerFor(email: EmailConfig, binding: SendEmailBinding | undefined): Mailer {
  const from = { address: email.from, name: email.fromName };
  const t = email.transport;
  switch (t.kind) {
    case "resend":
      return resendMailer({ apiKey: t.apiKey, from });
    case "smtp":
      return smtpMailer({ ...t, from });
    case "cloudflare":
      if (!binding) throw new Error("SEND_EMAIL binding missing after configuration said it was there");
      return cloudflareMailer({ binding, from });
  }
}
