/**
 * Email sign-in's configuration: off unless `EMAIL_SIGNIN=true`; then a
 * sender (`MAIL_FROM`, optional `MAIL_FROM_NAME`) and exactly one complete
 * transport (`MAIL_TRANSPORT`) are required, and anything missing or half
 * set is a named problem, like every other variable. Values never appear in
 * a problem.
 */
import type { ConfigReader } from "./config-reader";
import { normalizeEmail } from "./email";
import { isLocalHost } from "./env-value";

/** How mail leaves gatehouse. */
export type MailTransportConfig =
  | { kind: "resend"; apiKey: string }
  | { kind: "cloudflare" }
  | { kind: "smtp"; host: string; port: number; security: "tls" | "starttls" | "none"; username: string | null; password: string | null };

export interface EmailConfig {
  /** The sender address (plain ASCII). */
  from: string;
  fromName: string | null;
  transport: MailTransportConfig;
}

const TRANSPORTS = ["cloudflare", "resend", "smtp"] as const;

/**
 * Reads the email variables; `null` when email sign-in is off or a problem was recorded.
 *
 * @example const email = readEmailConfig(r, env);
 */
export function readEmailConfig(r: ConfigReader, env: Record<string, unknown>): EmailConfig | null {
  const flag = r.optional("EMAIL_SIGNIN");
  if (flag === undefined) return null;
  if (flag !== "true") {
    r.problems.push({ variable: "EMAIL_SIGNIN", problem: "invalid", hint: "true, or leave it unset to turn email sign-in off" });
    return null;
  }
  const before = r.problems.length;
  const fromRaw = r.required("MAIL_FROM", "the sender address of sign-in emails");
  const from = fromRaw === undefined ? null : normalizeEmail(fromRaw);
  if (fromRaw !== undefined && (from === null || from !== fromRaw)) {
    r.problems.push({ variable: "MAIL_FROM", problem: "invalid", hint: "one plain lowercase address, like sign-in@example.com" });
  }
  const fromName = r.optional("MAIL_FROM_NAME") ?? null;
  if (fromName !== null && (fromName.length > 100 || /[\u0000-\u001f\u007f<>"]/.test(fromName))) {
    r.problems.push({ variable: "MAIL_FROM_NAME", problem: "invalid", hint: "up to 100 characters, no control characters, <, > or quotes" });
  }
  const kind = r.required("MAIL_TRANSPORT", `one of ${TRANSPORTS.join(", ")}`);
  let transport: MailTransportConfig | undefined;
  if (kind !== undefined && !TRANSPORTS.includes(kind as (typeof TRANSPORTS)[number])) {
    r.problems.push({ variable: "MAIL_TRANSPORT", problem: "invalid", hint: `one of ${TRANSPORTS.join(", ")}` });
  } else if (kind === "resend") {
    const apiKey = r.secret("RESEND_API_KEY", r.required("RESEND_API_KEY", "the Resend API key (MAIL_TRANSPORT=resend)"));
    if (apiKey !== undefined) transport = { kind: "resend", apiKey };
  } else if (kind === "cloudflare") {
    const binding = env.SEND_EMAIL as { send?: unknown } | undefined;
    if (!binding || typeof binding !== "object" || typeof binding.send !== "function") {
      r.problems.push({ variable: "SEND_EMAIL", problem: "missing", hint: "a [[send_email]] binding named SEND_EMAIL (MAIL_TRANSPORT=cloudflare)" });
    } else transport = { kind: "cloudflare" };
  } else if (kind === "smtp") {
    transport = smtpTransport(r, r.required("SMTP_URL", "smtps://user:password@host:465 or smtp://user:password@host:587 (MAIL_TRANSPORT=smtp)"));
  }
  if (r.problems.length > before || from === null || transport === undefined) return null;
  return { from, fromName, transport };
}

/** `smtps://` (TLS), `smtp://` (STARTTLS required), `smtp+plain://` (no TLS: development and localhost only). */
function smtpTransport(r: ConfigReader, value: string | undefined): MailTransportConfig | undefined {
  if (value === undefined) return undefined;
  const invalid = (hint: string) => {
    r.problems.push({ variable: "SMTP_URL", problem: "invalid_url", hint });
    return undefined;
  };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return invalid("smtps://user:password@host:465, smtp://…:587 (STARTTLS) or, in development, smtp+plain://localhost:1025");
  }
  const security = url.protocol === "smtps:" ? "tls" : url.protocol === "smtp:" ? "starttls" : url.protocol === "smtp+plain:" ? "none" : null;
  if (security === null) return invalid("scheme smtps, smtp or (development only) smtp+plain");
  if (security === "none" && !(r.development && isLocalHost(url.hostname))) {
    return invalid("smtp+plain sends without TLS: only to localhost with GATEHOUSE_DEVELOPMENT=true");
  }
  if (url.hostname === "" || (url.pathname !== "" && url.pathname !== "/") || url.search || url.hash) return invalid("host and port only, no path");
  const port = url.port === "" ? (security === "tls" ? 465 : 587) : Number(url.port);
  if ((url.password !== "") && url.username === "") return invalid("a password needs a user name");
  let username: string | null = null;
  let password: string | null = null;
  try {
    username = url.username === "" ? null : decodeURIComponent(url.username);
    password = url.password === "" ? null : decodeURIComponent(url.password);
  } catch {
    return invalid("percent-encode the user name and password");
  }
  if (username !== null && security === "none") return invalid("no credentials without TLS");
  return { kind: "smtp", host: url.hostname.replace(/^\[|\]$/g, ""), port, security, username, password };
}
