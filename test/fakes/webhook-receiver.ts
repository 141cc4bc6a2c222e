/**
 * A webhook receiver at `https://hooks.example.net/<inbox>` (any path is an
 * inbox): it records every request (headers and raw body, byte for byte, so
 * the test can verify the signature with `standardwebhooks`) and answers 204,
 * or the status programmed for its next requests. Like a careful receiver, it
 * processes each `webhook-id` once: a repeat is recorded with
 * `duplicate: true`. Control:
 *
 *   GET  http://fakes.test/__hooks?inbox=<path>            → ReceivedWebhook[] (oldest first)
 *   POST http://fakes.test/__hooks/fail  { inbox, count, status }  the next `count` requests answer `status`
 */
import { json } from "./flow.ts";
import type { ReceivedWebhook } from "./types.ts";

export type { ReceivedWebhook };

export const WEBHOOK_RECEIVER_HOST = "hooks.example.net";


const inboxes = new Map<string, ReceivedWebhook[]>();
const failures = new Map<string, { count: number; status: number }>();
const processed = new Set<string>();

/** The receiver's answer for `hooks.example.net`, or `undefined` for another host. */
export async function webhookReceiverFake(request: Request, url: URL): Promise<Response | undefined> {
  if (url.hostname !== WEBHOOK_RECEIVER_HOST) return undefined;
  const inbox = url.pathname;
  const body = await request.text();
  const headers = Object.fromEntries([...request.headers].map(([k, v]) => [k.toLowerCase(), v]));
  const failure = failures.get(inbox);
  let status = 204;
  if (failure && failure.count > 0) {
    failure.count--;
    status = failure.status;
  }
  const id = `${inbox}|${headers["webhook-id"] ?? ""}`;
  const duplicate = status < 300 && processed.has(id);
  if (status < 300) processed.add(id);
  const list = inboxes.get(inbox) ?? [];
  list.push({ headers, body, status, duplicate });
  inboxes.set(inbox, list);
  return new Response(null, { status });
}

/** Control routes under `http://fakes.test/__hooks`. */
export async function webhookReceiverControl(request: Request, url: URL): Promise<Response | undefined> {
  if (url.pathname === "/__hooks" && request.method === "GET") return json(inboxes.get(url.searchParams.get("inbox") ?? "") ?? []);
  if (url.pathname === "/__hooks/fail" && request.method === "POST") {
    const { inbox, count, status } = (await request.json()) as { inbox: string; count: number; status: number };
    failures.set(inbox, { count, status });
    return json({ ok: true });
  }
  return undefined;
}
