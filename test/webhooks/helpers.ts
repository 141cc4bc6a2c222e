/**
 * Helpers for the webhook tests: an organization with an owner, endpoints
 * registered through the API on the fake receiver (test/fakes/webhook-receiver.ts),
 * a producer that collects what the dispatcher sends, the worker's real
 * `queue` handler fed with those messages, and signature checks with the
 * `standardwebhooks` package.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { expect } from "vitest";
import { databaseFor, type Database } from "../../src/db/client";
import type { ClaimedDelivery } from "../../src/db/webhook-deliveries";
import worker from "../../src/index";
import { dispatchWebhooks, type WebhookQueue } from "../../src/webhooks/dispatch";
import type { ReceivedWebhook } from "../fakes/types";
import { accessTokenFor, api, createOrgAs, createVerifiedUser, unique } from "../helpers/orgs";
import { testConfig } from "../helpers/sessions";

export const RECEIVER = "https://hooks.example.net";

/** The test database through the worker's own driver. */
export function testDb(): Promise<Database> {
  return databaseFor(testConfig());
}

/** An owner, their API token and their organization. */
export async function ownerWithOrg(label = "owner"): Promise<{ userId: string; token: string; org: { id: string; slug: string } }> {
  const owner = await createVerifiedUser(label);
  const token = await accessTokenFor(owner.id);
  return { userId: owner.id, token, org: await createOrgAs(token, "Hooks Co") };
}

/** A fresh inbox path on the fake receiver. */
export function newInbox(): string {
  return `/in-${unique()}${unique()}`;
}

/** Registers an endpoint on a fresh inbox through the API. */
export async function createEndpoint(token: string, orgSlug: string, eventTypes: string[], inbox = newInbox()) {
  const res = await api(token, "POST", `/api/orgs/${orgSlug}/webhooks`, { url: `${RECEIVER}${inbox}`, eventTypes });
  if (res.status !== 201) throw new Error(`createEndpoint: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { endpoint: { id: string }; secret: string };
  return { id: body.endpoint.id, secret: body.secret, inbox };
}

/** What the fake receiver got at `inbox`, oldest first. */
export async function received(inbox: string): Promise<ReceivedWebhook[]> {
  return (await fetch(`http://fakes.test/__hooks?inbox=${encodeURIComponent(inbox)}`)).json();
}

/** The receiver's next `count` requests at `inbox` answer `status`. */
export async function failNext(inbox: string, count: number, status = 503): Promise<void> {
  await fetch("http://fakes.test/__hooks/fail", { method: "POST", body: JSON.stringify({ inbox, count, status }) });
}

/** A producer that keeps what it is sent (instead of the real queue, whose timing the test cannot control). */
export class CollectingQueue implements WebhookQueue {
  messages: ClaimedDelivery[] = [];
  fail = false;
  async sendBatch(messages: Iterable<MessageSendRequest<ClaimedDelivery>>): Promise<void> {
    if (this.fail) throw new Error("queue unavailable");
    for (const m of messages) this.messages.push(m.body);
  }
  take(): ClaimedDelivery[] {
    const out = this.messages;
    this.messages = [];
    return out;
  }
}

/**
 * Runs the worker's real `queue` export on `bodies` (as Queues would deliver
 * them) and returns the ack/retry state.
 */
export async function consume(bodies: readonly unknown[], targetEnv: Env = env) {
  const batch = createMessageBatch("gatehouse-webhooks", bodies.map((body, i) => ({ id: `m${i}-${unique()}`, timestamp: new Date(), attempts: 1, body })));
  const ctx = createExecutionContext();
  await worker.queue(batch, targetEnv);
  return getQueueResult(batch, ctx);
}

/** Dispatches due rows as of `now` and consumes what was queued; returns the messages. */
export async function dispatchAndConsume(now = new Date()): Promise<ClaimedDelivery[]> {
  const queue = new CollectingQueue();
  await dispatchWebhooks(await testDb(), queue, now);
  const messages = queue.take();
  if (messages.length > 0) await consume(messages);
  return messages;
}

/**
 * Verifies a received request with `standardwebhooks` for every secret given
 * (each must verify on its own) and returns the parsed payload.
 */
export function verified(hook: ReceivedWebhook, secrets: readonly string[]): { type: string; timestamp: string; data: Record<string, unknown> } {
  let payload: unknown;
  for (const secret of secrets) payload = new Webhook(secret).verify(hook.body, hook.headers);
  expect(hook.headers["webhook-id"]).toMatch(/^msg_[0-9a-f-]{36}$/);
  return payload as { type: string; timestamp: string; data: Record<string, unknown> };
}
