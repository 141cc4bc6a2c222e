/**
 * The sign-in email: the code and the link, in a text and an HTML part,
 * and nothing else (no name, no tracking, no remote images). Both parts
 * come from fixed text; the only variable parts are the six digits and the
 * link gatehouse built, escaped for HTML.
 */
import type { MailMessage } from "./message";

/**
 * @example signInMessage({ to, code: "042917", link: "https://auth.example.com/auth/email/verify?c=…&code=042917", host: "auth.example.com" })
 */
export function signInMessage(input: { to: string; code: string; link: string; host: string }): MailMessage {
  const subject = `Your sign-in code: ${input.code}`;
  const text = [
    `Your sign-in code for ${input.host} is: ${input.code}`,
    "",
    "Or open this link in the browser where you asked for it:",
    input.link,
    "",
    "The code and link work once and expire in 10 minutes. If you did not ask to sign in, ignore this message.",
    "",
  ].join("\n");
  const html = [
    "<!doctype html><html><body>",
    `<p>Your sign-in code for ${escape(input.host)} is:</p>`,
    `<p style="font-size:1.6em;letter-spacing:.2em"><strong>${escape(input.code)}</strong></p>`,
    `<p>Or <a href="${escape(input.link)}">open this link</a> in the browser where you asked for it.</p>`,
    "<p>The code and link work once and expire in 10 minutes. If you did not ask to sign in, ignore this message.</p>",
    "</body></html>",
  ].join("");
  return { to: input.to, subject, text, html };
}

function escape(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}
