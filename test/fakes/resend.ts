/**
 * A faithful fake of Resend's `POST https://api.resend.com/emails`
 * (https://resend.com/docs/api-reference/emails/send-email): Bearer API key
 * (401 `missing_api_key`, 403 `invalid_api_key`), JSON body with `from`,
 * `to` (string or up to 50 strings), `subject` and `text`/`html` (422
 * `validation_error` otherwise), 200 `{ id }`. Accepted messages land in a
 * mailbox the tests read through the control host:
 *
 *   GET    http://fakes.test/__mail?to=<address>   → FakeMail[] (oldest first)
 *   POST   http://fakes.test/__mail/fault          body { status } : the next send answers it
 */
import { randomUUID } from "node:crypto";
import { json } from "./flow.ts";
import type { FakeMail } from "./types.ts";

export type { FakeMail };

/** The only key the fake accepts (test/bindings.ts). */
export const RESEND_TEST_KEY = "re_test_0123456789abcdefghij";

const mailbox: FakeMail[] = [];
let nextFault: number | null = null;

/** The fake's answer for `api.resend.com`, or `undefined` for another host. */
export async function resendFake(request: Request, url: URL): Promise<Response | undefined> {
  if (url.hostname !== "api.resend.com") return undefined;
  if (url.pathname !== "/emails") return json({ statusCode: 404, name: "not_found", message: "Route not found" }, 404);
  if (request.method !== "POST") return json({ statusCode: 405, name: "method_not_allowed", message: "Method not allowed" }, 405);
  const auth = request.headers.get("authorization");
  if (!auth?.startsWith("Bearer ")) return json({ statusCode: 401, name: "missing_api_key", message: "Missing API key in the authorization header." }, 401);
  if (auth.slice(7) !== RESEND_TEST_KEY) return json({ statusCode: 403, name: "invalid_api_key", message: "API key is invalid" }, 403);
  if (nextFault !== null) {
    const status = nextFault;
    nextFault = null;
    return json({ statusCode: status, name: "application_error", message: "Something went wrong" }, status);
  }
  const raw = await request.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return validation("Invalid JSON");
  }
  const to = typeof body.to === "string" ? [body.to] : body.to;
  if (typeof body.from !== "string" || !/^(?:[^<>\r\n]+ <[^<>\s@]+@[^<>\s@]+>|[^<>\s@]+@[^<>\s@]+)$/.test(body.from)) return validation("Invalid `from` field.");
  if (!Array.isArray(to) || to.length === 0 || to.length > 50 || !to.every((t) => typeof t === "string" && /^[^<>\s@]+@[^<>\s@]+$/.test(t))) {
    return validation("Invalid `to` field.");
  }
  if (typeof body.subject !== "string" || body.subject.length === 0 || /[\r\n]/.test(body.subject)) return validation("Invalid `subject` field.");
  if (typeof body.text !== "string" && typeof body.html !== "string") return validation("Missing `html` or `text` field.");
  const mail: FakeMail = {
    id: randomUUID(),
    from: body.from,
    to: to as string[],
    subject: body.subject,
    text: typeof body.text === "string" ? body.text : "",
    html: typeof body.html === "string" ? body.html : "",
    raw,
  };
  mailbox.push(mail);
  return json({ id: mail.id });
}

/** Control: the mailbox and the next send's fault. */
export async function resendControl(request: Request, url: URL): Promise<Response | undefined> {
  if (url.pathname === "/__mail" && request.method === "GET") {
    const to = url.searchParams.get("to");
    return json(mailbox.filter((m) => to === null || m.to.includes(to)));
  }
  if (url.pathname === "/__mail/fault" && request.method === "POST") {
    nextFault = ((await request.json()) as { status: number }).status;
    return json({ ok: true });
  }
  return undefined;
}

function validation(message: string): Response {
  return json({ statusCode: 422, name: "validation_error", message }, 422);
}
