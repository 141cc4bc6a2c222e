/**
 * The sign-in email: the code and the link, in a text and an HTML part, in
 * the language of the page that asked, and nothing else (no name, no
 * tracking, no remote images). Both parts come from fixed texts; the only
 * variable parts are the six digits and the link gatehouse built, escaped
 * for HTML.
 */
import { en, type Messages } from "../i18n/en";
import type { MailMessage } from "./message";

/**
 * @example signInMessage({ to, code: "042917", link: "https://auth.example.com/auth/email/verify?c=…&code=042917", host: "auth.example.com" })
 */
export function signInMessage(input: { to: string; code: string; link: string; host: string; t?: Messages }): MailMessage {
  const m = (input.t ?? en).mail;
  const text = [`${m.codeFor(input.host)} ${input.code}`, "", m.orLinkText, input.link, "", m.footer, ""].join("\n");
  const html = [
    `<!doctype html><html lang="${escape((input.t ?? en).lang)}"><body>`,
    `<p>${escape(m.codeFor(input.host))}</p>`,
    `<p style="font-size:1.6em;letter-spacing:.2em"><strong>${escape(input.code)}</strong></p>`,
    `<p>${m.orLinkHtml((label) => `<a href="${escape(input.link)}">${escape(label)}</a>`)}</p>`,
    `<p>${escape(m.footer)}</p>`,
    "</body></html>",
  ].join("");
  return { to: input.to, subject: m.subject(input.code), text, html };
}

function escape(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}
