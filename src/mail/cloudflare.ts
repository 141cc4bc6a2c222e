/**
 * The Cloudflare Email Service transport: a `send_email` binding (declared
 * in wrangler.toml as `[[send_email]] name = "SEND_EMAIL"`), which takes a
 * complete MIME message. The sender must be an address of a domain on
 * Cloudflare Email Routing / Email Service (docs/email.md).
 */
import { EmailMessage } from "cloudflare:email";
import { MailError, type Mailer, type MailMessage, mimeMessage } from "./message";

/** What the binding offers; `SendEmail` in workers types. */
export interface SendEmailBinding {
  send(message: EmailMessage): Promise<unknown>;
}

/**
 * @example await cloudflareMailer({ binding: env.SEND_EMAIL, from }).send(message);
 */
export function cloudflareMailer(options: { binding: SendEmailBinding; from: { address: string; name: string | null } }): Mailer {
  return {
    async send(message: MailMessage) {
      const domain = options.from.address.split("@")[1] ?? "localhost";
      const raw = mimeMessage(options.from, message, `<${crypto.randomUUID()}@${domain}>`);
      try {
        await options.binding.send(new EmailMessage(options.from.address, message.to, raw));
      } catch (cause) {
        throw new MailError("send_email binding refused the message", { cause });
      }
    },
  };
}
