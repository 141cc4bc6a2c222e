/**
 * The mail transports other than the Resend fake: SMTP over
 * cloudflare:sockets into the real mail catcher (maildev, started by
 * test/global-setup.ts), and the Cloudflare `send_email` binding; plus the
 * configuration problems of a missing or half mailer.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { smtpMailer } from "../../src/mail/smtp";
import { signinEnv } from "../signin/helpers";
import { freshAddress, postCode, postEmail } from "./helpers";

interface CaughtMail {
  subject: string;
  text: string;
  html: string;
  to: { address: string }[];
  from: { address: string; name?: string }[];
  headers: Record<string, string>;
}

async function caught(to: string): Promise<CaughtMail[]> {
  const all = (await (await fetch(`${env.MAIL_CATCHER_URL}/api/email`)).json()) as CaughtMail[];
  return all.filter((m) => m.to.some((t) => t.address === to));
}

const smtpEnv = signinEnv("email_smtp");
const viaSmtp = { ...smtpEnv, MAIL_TRANSPORT: "smtp", SMTP_URL: `smtp+plain://127.0.0.1:${env.MAIL_CATCHER_SMTP_PORT}` } as unknown as Env;

describe("SMTP transport (cloudflare:sockets → maildev)", () => {
  it("delivers the sign-in message with its text and HTML parts; the code from it signs in", async () => {
    const address = freshAddress();
    const res = await postEmail({ email: address }, viaSmtp);
    expect(res.status, await res.clone().text()).toBe(303);
    const [mail, ...more] = await caught(address);
    expect(more).toEqual([]);
    expect(mail?.from[0]).toMatchObject({ address: "sign-in@example.com", name: "Example sign-in" });
    const code = /is: (\d{6})/.exec(mail?.text ?? "")?.[1] ?? "";
    expect(mail?.subject).toBe(`Your sign-in code: ${code}`);
    expect(mail?.html).toContain(`<strong>${code}</strong>`);
    const challenge = new URL(res.headers.get("location") ?? "", "https://auth.example.com").searchParams.get("c") ?? "";
    const cookie = (res.headers.getSetCookie()[0] ?? "").split(";")[0] ?? "";
    expect((await postCode(challenge, code, cookie, viaSmtp)).status).toBe(303);
  });

  it("a relay that is not listening is 502 MailUnavailable, no cookie", async () => {
    const closed = { ...viaSmtp, SMTP_URL: "smtp+plain://127.0.0.1:9" } as unknown as Env;
    const res = await postEmail({ email: freshAddress() }, closed);
    expect(res.status).toBe(502);
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it("refuses to send to an address that could inject a command, before connecting", async () => {
    const mailer = smtpMailer({ host: "127.0.0.1", port: Number(env.MAIL_CATCHER_SMTP_PORT), security: "none", username: null, password: null, from: { address: "a@example.com", name: null } });
    await expect(mailer.send({ to: "x@example.com>\r\nRCPT TO:<y@example.com", subject: "s", text: "t", html: "h" })).rejects.toThrow("unsafe address");
    expect(await caught("y@example.com")).toEqual([]);
  });

  it("smtp:// insists on a verified STARTTLS upgrade: maildev's self-signed certificate is refused, nothing delivered", async () => {
    const address = freshAddress();
    const mailer = smtpMailer({ host: "127.0.0.1", port: Number(env.MAIL_CATCHER_SMTP_PORT), security: "starttls", username: "u", password: "p", from: { address: "a@example.com", name: null } });
    await expect(mailer.send({ to: address, subject: "s", text: "t", html: "h" })).rejects.toThrow();
    expect(await caught(address)).toEqual([]);
  });
});

describe("Cloudflare send_email transport", () => {
  it("hands the binding one MIME message from MAIL_FROM to the address", async () => {
    const sent: { from: string; to: string }[] = [];
    const binding = {
      send: async (message: { from: string; to: string }) => {
        sent.push({ from: message.from, to: message.to });
      },
    };
    const viaCloudflare = { ...smtpEnv, MAIL_TRANSPORT: "cloudflare", SEND_EMAIL: binding } as unknown as Env;
    const address = freshAddress();
    const res = await postEmail({ email: address }, viaCloudflare);
    expect(res.status, await res.clone().text()).toBe(303);
    expect(sent).toEqual([{ from: "sign-in@example.com", to: address }]);
  });
});

describe("configuration", () => {
  const base = { ...env } as unknown as Record<string, unknown>;
  const problems = (overrides: Record<string, unknown>) => {
    const result = parseConfig({ ...base, ...overrides });
    return result.ok ? [] : result.problems.map((p) => `${p.variable}:${p.problem}`);
  };

  it("email sign-in is off unless EMAIL_SIGNIN=true", () => {
    const result = parseConfig({ ...base, EMAIL_SIGNIN: undefined });
    expect(result.ok && result.config.email).toBeNull();
    expect(problems({ EMAIL_SIGNIN: "yes" })).toEqual(["EMAIL_SIGNIN:invalid"]);
  });

  it("names a missing or half mailer when email sign-in is on", () => {
    expect(problems({ MAIL_TRANSPORT: undefined, MAIL_FROM: undefined })).toEqual(["MAIL_FROM:missing", "MAIL_TRANSPORT:missing"]);
    expect(problems({ MAIL_TRANSPORT: "sendgrid" })).toEqual(["MAIL_TRANSPORT:invalid"]);
    expect(problems({ RESEND_API_KEY: undefined })).toEqual(["RESEND_API_KEY:missing"]);
    expect(problems({ RESEND_API_KEY: "short" })).toEqual(["RESEND_API_KEY:too_short"]);
    expect(problems({ MAIL_TRANSPORT: "smtp" })).toEqual(["SMTP_URL:missing"]);
    expect(problems({ MAIL_TRANSPORT: "cloudflare" })).toEqual(["SEND_EMAIL:missing"]);
    expect(problems({ MAIL_FROM: "Sign-in <a@example.com>" })).toEqual(["MAIL_FROM:invalid"]);
    expect(problems({ MAIL_FROM: "а@example.com" })).toEqual(["MAIL_FROM:invalid"]);
    expect(problems({ MAIL_FROM_NAME: "x\r\nBcc: y@evil.test" })).toEqual(["MAIL_FROM_NAME:invalid"]);
  });

  it("checks SMTP_URL: scheme, no plain text outside development and localhost, credentials", () => {
    const smtp = (url: string, extra: Record<string, unknown> = {}) => problems({ MAIL_TRANSPORT: "smtp", SMTP_URL: url, ...extra });
    expect(smtp("smtps://user:pa%40ss@mail.example.com")).toEqual([]);
    expect(smtp("smtp://user:pass@mail.example.com:587")).toEqual([]);
    expect(smtp("http://mail.example.com")).toEqual(["SMTP_URL:invalid_url"]);
    expect(smtp("smtp+plain://mail.example.com:25")).toEqual(["SMTP_URL:invalid_url"]);
    // (Production settings: other variables of the test env then have problems of their own.)
    expect(smtp("smtp+plain://localhost:1025", { GATEHOUSE_DEVELOPMENT: undefined, NEON_FETCH_ENDPOINT: undefined })).toContain("SMTP_URL:invalid_url");
    expect(smtp("smtp+plain://user:pass@localhost:1025")).toEqual(["SMTP_URL:invalid_url"]);
    expect(smtp("smtps://:pass@mail.example.com")).toEqual(["SMTP_URL:invalid_url"]);
    const ok = parseConfig({ ...base, MAIL_TRANSPORT: "smtp", SMTP_URL: "smtps://user:pa%40ss@mail.example.com" });
    expect(ok.ok && ok.config.email?.transport).toEqual({ kind: "smtp", host: "mail.example.com", port: 465, security: "tls", username: "user", password: "pa@ss" });
    // Values never appear in problems.
    const bad = parseConfig({ ...base, MAIL_TRANSPORT: "smtp", SMTP_URL: "smtp+plain://secretuser:secretpass@mail.example.com" });
    expect(JSON.stringify(bad)).not.toContain("secretpass");
  });
});
