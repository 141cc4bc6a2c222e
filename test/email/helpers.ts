/**
 * Shared by the email sign-in tests: ask for a code through the app, read
 * the message from the Resend fake's mailbox, and finish with the code form.
 */
import type { FakeMail } from "../fakes/types";
import { request } from "../signin/helpers";

export const EMAIL_COOKIE = "__Host-gh_email";
export const ORIGIN = { origin: "https://auth.example.com" };
const FORM = { "content-type": "application/x-www-form-urlencoded" };

/** The messages the Resend fake accepted for `to`, oldest first. */
export async function mailTo(to: string): Promise<FakeMail[]> {
  const res = await fetch(`http://fakes.test/__mail?to=${encodeURIComponent(to)}`);
  return (await res.json()) as FakeMail[];
}

/** The next send through the fake answers `status`. */
export async function failNextMail(status: number): Promise<void> {
  await fetch("http://fakes.test/__mail/fault", { method: "POST", body: JSON.stringify({ status }) });
}

export interface AskedCode {
  response: Response;
  /** `__Host-gh_email=<binding>`, ready for a Cookie header. */
  cookie: string;
  challenge: string;
  code: string;
  link: URL;
  mail: FakeMail;
}

/** `POST /auth/email` with the form fields given. */
export function postEmail(fields: Record<string, string | string[]>, targetEnv: Env, headers: Record<string, string> = {}): Promise<Response> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
  return request("/auth/email", { method: "POST", headers: { ...FORM, ...ORIGIN, ...headers }, body }, targetEnv);
}

/**
 * Asks for a code for `address` and reads it from the mailbox.
 *
 * @example const asked = await askCode("a@example.com", env);
 */
export async function askCode(address: string, targetEnv: Env, extra: Record<string, string> = {}, cookie?: string): Promise<AskedCode> {
  const before = (await mailTo(address.trim().toLowerCase())).length;
  const response = await postEmail({ email: address, ...extra }, targetEnv, cookie ? { cookie } : {});
  if (response.status !== 303) throw new Error(`ask code: HTTP ${response.status} ${await response.text()}`);
  const mails = await mailTo(address.trim().toLowerCase());
  const mail = mails[before];
  if (!mail || mails.length !== before + 1) throw new Error("no new message in the mailbox");
  const code = /code for [^ ]+ is: (\d{6})/.exec(mail.text)?.[1] ?? "";
  const link = new URL(/^https:\/\/\S+$/m.exec(mail.text)?.[0] ?? "https://invalid.test/");
  const setCookie = response.headers.getSetCookie().find((c) => c.startsWith(`${EMAIL_COOKIE}=`)) ?? "";
  const challenge = new URL(response.headers.get("location") ?? "", "https://auth.example.com").searchParams.get("c") ?? "";
  return { response, cookie: setCookie.split(";")[0] ?? "", challenge, code, link, mail };
}

/** `POST /auth/email/verify` as the code form sends it. */
export function postCode(challenge: string, code: string, cookie: string | null, targetEnv: Env): Promise<Response> {
  const headers: Record<string, string> = { ...FORM, ...ORIGIN, accept: "text/html" };
  if (cookie) headers.cookie = cookie;
  return request("/auth/email/verify", { method: "POST", headers, body: new URLSearchParams({ c: challenge, code }) }, targetEnv);
}

/** A fresh address no other test uses. */
export const freshAddress = () => `${crypto.randomUUID()}@example.com`;
