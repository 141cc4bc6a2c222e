/**
 * The HTTPS transport: Resend's `POST /emails` through `fetch` (no SDK, so
 * nothing but this file ships). https://resend.com/docs/api-reference/emails/send-email
 */
import { assertSafeAddress, MailError, type Mailer, type MailMessage } from "./message";

export const RESEND_ENDPOINT = "https://api.resend.com/emails";

/**
 * @example await resendMailer({ apiKey, from }).send(message);
 */
export function resendMailer(options: { apiKey: string; from: { address: string; name: string | null } }): Mailer {
  return {
    async send(message: MailMessage) {
      assertSafeAddress(options.from.address);
      assertSafeAddress(message.to);
      const from = options.from.name ? `${options.from.name.replace(/[<>"\r\n]/g, "")} <${options.from.address}>` : options.from.address;
      let res: Response;
      try {
        res = await fetch(RESEND_ENDPOINT, {
          method: "POST",
          headers: { authorization: `Bearer ${options.apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ from, to: [message.to], subject: message.subject, text: message.text, html: message.html }),
        });
      } catch (cause) {
        throw new MailError("resend unreachable", { cause });
      }
      // Drain the body either way; only the status is kept (the body may quote the request).
      await res.body?.cancel();
      if (!res.ok) throw new MailError(`resend answered ${res.status}`);
    },
  };
}
