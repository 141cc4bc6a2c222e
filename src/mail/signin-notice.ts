/**
 * The suspicious-sign-in notice: told to the user, by email, when a sign-in
 * is flagged `new_device` or `new_country` (docs/operators.md "Audit log").
 * Text and HTML from fixed texts in the user's request language; the only
 * variable parts are the time, the method's name, a device label, the
 * country code and the account page's address, escaped for HTML. No token,
 * code, session id or address appears, and no link signs anyone in.
 */
import { en, type Messages } from "../i18n/en";
import type { MailMessage } from "./message";

export interface SignInNotice {
  to: string;
  host: string;
  /** The account page, where sessions are signed out. */
  accountUrl: string;
  at: Date;
  /** The provider's display name, or the email method's. */
  method: string;
  /** "Chrome on macOS" (`lib/user-agent.ts`). */
  device: string;
  /** ISO 3166-1 alpha-2, or null when unknown. */
  country: string | null;
  flags: readonly string[];
  t?: Messages;
}

/**
 * @example signInNoticeMessage({ to: "ada@example.com", host: "auth.example.com", accountUrl: "https://auth.example.com/account", at: new Date(), method: "GitHub", device: "Firefox on Linux", country: "KR", flags: ["new_country"] })
 */
export function signInNoticeMessage(input: SignInNotice): MailMessage {
  const t = input.t ?? en;
  const m = t.notice;
  const reasons = [
    ...(input.flags.includes("new_device") ? [m.newDevice] : []),
    ...(input.flags.includes("new_country") ? [m.newCountry] : []),
  ];
  const rows: [string, string][] = [
    [m.when, input.at.toISOString().replace("T", " ").slice(0, 16)],
    [m.method, input.method],
    [m.device, input.device],
    ...(input.country ? [[m.country, input.country] as [string, string]] : []),
    [m.reasons, reasons.join(", ")],
  ];
  const text = [
    m.intro(input.host),
    "",
    ...rows.map(([k, v]) => `${k}: ${v}`),
    "",
    m.ifYou,
    m.ifNotYou,
    input.accountUrl,
    "",
    m.footer,
    "",
  ].join("\n");
  const html = [
    `<!doctype html><html lang="${escape(t.lang)}"><body>`,
    `<p>${escape(m.intro(input.host))}</p>`,
    `<table>${rows.map(([k, v]) => `<tr><th align="left">${escape(k)}</th><td>${escape(v)}</td></tr>`).join("")}</table>`,
    `<p>${escape(m.ifYou)}</p>`,
    `<p>${escape(m.ifNotYou)} <a href="${escape(input.accountUrl)}">${escape(input.accountUrl)}</a></p>`,
    `<p>${escape(m.footer)}</p>`,
    "</body></html>",
  ].join("");
  return { to: input.to, subject: m.subject(input.host), text, html };
}

function escape(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}
