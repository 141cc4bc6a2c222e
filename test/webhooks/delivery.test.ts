/**
 * Delivery end to end: a change through the API writes its outbox row in
 * its one round trip; the dispatcher (run here with a collecting producer)
 * claims it; the worker's real `queue` export signs and POSTs it to the
 * fake receiver, which records every request; every request is verified
 * with `standardwebhooks`. Failures, lost messages, lost acks and a crashed
 * consumer lose nothing; the receiver sees each event processed once.
 * All dispatching of the webhook suite happens in this file.
 */
import { createExecutionContext, createMessageBatch, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { DELIVERY_RETENTION_DAYS, QUEUE_LEASE_SECONDS } from "../../src/db/webhook-deliveries";
import worker from "../../src/index";
import { MAX_ATTEMPTS, RETRY_DELAYS_SECONDS } from "../../src/webhooks/backoff";
import { consumeWebhooks } from "../../src/webhooks/consume";
import { dispatchWebhooks } from "../../src/webhooks/dispatch";
import { scopedEnv } from "../helpers/app";
import { clearFaults, rawSql, setFaults, stats } from "../helpers/neon-local";
import { addMembership, api, createVerifiedUser } from "../helpers/orgs";
import { testConfig } from "../helpers/sessions";
import { CollectingQueue, consume, createEndpoint, dispatchAndConsume, failNext, ownerWithOrg, received, testDb, verified } from "./helpers";

const HOUR = 3_600_000;
const CONSUMER_SCOPE = "wh-consumer";

afterEach(async () => {
  await clearFaults(CONSUMER_SCOPE);
});

/** An org with an endpoint for membership events and a member whose role the owner changes. */
async function setup(eventTypes = ["membership.*"]) {
  const o = await ownerWithOrg();
  const hook = await createEndpoint(o.token, o.org.slug, eventTypes);
  const member = await createVerifiedUser("member");
  await addMembership(o.org.id, member.id, "member");
  return { ...o, hook, member };
}

/** The owner makes the member an admin (or back): one audited change, one membership.updated event. */
async function changeRole(s: Awaited<ReturnType<typeof setup>>, role: "admin" | "member", scope?: string) {
  const res = await api(s.token, "PATCH", `/api/orgs/${s.org.slug}/members/${s.member.id}`, { role }, scope ? { scope } : {});
  expect(res.status).toBe(200);
}

function deliveryRows(endpointId: string) {
  return rawSql<{ id: string; state: string; attempts: number; last_status: number | null; last_error_code: string | null; next_attempt_at: string }>(
    "SELECT id, state, attempts, last_status, last_error_code, next_attempt_at::text FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY created_at",
    [endpointId],
  );
}

describe("delivery", () => {
  it("a committed change is delivered once, signed per Standard Webhooks; the write stays one round trip", async () => {
    const s = await setup();
    const before = (await stats("wh-write")).requests;
    await changeRole(s, "admin", "wh-write");
    expect((await stats("wh-write")).requests - before).toBe(1);
    expect(await deliveryRows(s.hook.id)).toMatchObject([{ state: "pending", attempts: 0 }]);

    await dispatchAndConsume();
    const hooks = await received(s.hook.inbox);
    expect(hooks).toHaveLength(1);
    const payload = verified(hooks[0]!, [s.hook.secret]);
    expect(payload).toMatchObject({ type: "membership.updated", data: { orgId: s.org.id, action: "member.role_change", target: { type: "user", id: s.member.id } } });
    expect(hooks[0]!.headers["webhook-id"]).toBe(`msg_${(await deliveryRows(s.hook.id))[0]!.id}`);
    expect(hooks[0]!.headers["content-type"]).toBe("application/json");
    expect(await deliveryRows(s.hook.id)).toMatchObject([{ state: "delivered", attempts: 1, last_status: 204, last_error_code: null }]);

    // Nothing is due any more: another run sends nothing to this receiver.
    await dispatchAndConsume(new Date(Date.now() + 48 * HOUR));
    expect(await received(s.hook.inbox)).toHaveLength(1);
  });

  it("a receiver that fails 5 times then recovers gets the event exactly once more; nothing is lost", async () => {
    const s = await setup();
    await failNext(s.hook.inbox, 5, 503);
    await changeRole(s, "admin");
    await changeRole(s, "member");
    for (let i = 0; i < 8; i++) await dispatchAndConsume(new Date(Date.now() + (i + 1) * 7 * HOUR));
    const hooks = await received(s.hook.inbox);
    const ok = hooks.filter((h) => h.status === 204);
    expect(hooks.filter((h) => h.status === 503)).toHaveLength(5);
    // Both events arrived, each exactly once, every request verifies.
    expect(ok).toHaveLength(2);
    expect(ok.every((h) => !h.duplicate)).toBe(true);
    expect(new Set(ok.map((h) => h.headers["webhook-id"])).size).toBe(2);
    for (const h of hooks) verified(h, [s.hook.secret]);
    const rows = await deliveryRows(s.hook.id);
    expect(rows.every((r) => r.state === "delivered")).toBe(true);
    expect(rows.map((r) => r.attempts).reduce((a, b) => a + b, 0)).toBe(7);
  });

  it("counts each attempt's outcome in Analytics Engine (retrying 5xx, then delivered 2xx)", async () => {
    const s = await setup();
    await failNext(s.hook.inbox, 1, 503);
    await changeRole(s, "admin");
    const points: AnalyticsEngineDataPoint[] = [];
    const recorder = {
      writeDataPoint: (p?: AnalyticsEngineDataPoint) => {
        points.push(p!);
      },
    } as AnalyticsEngineDataset;
    for (let i = 0; i < 2; i++) {
      const queue = new CollectingQueue();
      await dispatchWebhooks(await testDb(), queue, new Date(Date.now() + (i + 1) * HOUR));
      const mine = (await deliveryRows(s.hook.id))[0]?.id;
      const messages = queue.take().filter((m) => m.id === mine);
      await consume(messages, { ...env, AUTH_ANALYTICS: recorder } as Env);
    }
    expect(points.map((p) => p.blobs?.slice(0, 3))).toEqual([
      ["webhook_delivery", "retrying", "5xx"],
      ["webhook_delivery", "delivered", "2xx"],
    ]);
  });

  it("retries on the schedule (≥ 24 h in all) and then marks the delivery dead; replay sends it again", async () => {
    const s = await setup();
    await failNext(s.hook.inbox, 1000, 500);
    await changeRole(s, "admin");
    const db = await testDb();
    const first = new Date(Date.now() + HOUR);
    let now = first;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const queue = new CollectingQueue();
      await dispatchWebhooks(db, queue, now);
      const mine = queue.take();
      expect(mine.length).toBeGreaterThan(0);
      const batch = createMessageBatch("gatehouse-webhooks", mine.map((body, i) => ({ id: `b${attempt}-${i}`, timestamp: now, attempts: 1, body })));
      await consumeWebhooks(batch, { db, encryptionKeys: testConfig().encryptionKeys, now, random: () => 0 });
      const [row] = await deliveryRows(s.hook.id);
      expect(row!.attempts).toBe(attempt);
      expect(row!.last_status).toBe(500);
      expect(row!.last_error_code).toBe("http_500");
      if (attempt < MAX_ATTEMPTS) {
        expect(row!.state).toBe("pending");
        expect(Date.parse(row!.next_attempt_at) - now.getTime()).toBe(RETRY_DELAYS_SECONDS[attempt - 1]! * 1000);
        now = new Date(Date.parse(row!.next_attempt_at));
      } else {
        expect(row!.state).toBe("dead");
      }
    }
    expect(now.getTime() - first.getTime()).toBeGreaterThanOrEqual(24 * HOUR);
    expect(await received(s.hook.inbox)).toHaveLength(MAX_ATTEMPTS);

    // Dead stays dead.
    await dispatchAndConsume(new Date(now.getTime() + 48 * HOUR));
    expect(await received(s.hook.inbox)).toHaveLength(MAX_ATTEMPTS);

    // The receiver is fixed; the owner replays every dead delivery (one audited round trip).
    await failNext(s.hook.inbox, 0);
    const before = (await stats("wh-replay")).requests;
    const res = await api(s.token, "POST", `/api/orgs/${s.org.slug}/webhooks/${s.hook.id}/deliveries/replay`, undefined, { scope: "wh-replay" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ replayed: 1 });
    expect((await stats("wh-replay")).requests - before).toBe(1);
    expect(await rawSql("SELECT 1 FROM audit_events WHERE action = 'webhook.replay' AND target_id = $1", [s.hook.id])).toHaveLength(1);
    await dispatchAndConsume();
    const hooks = await received(s.hook.inbox);
    expect(hooks.at(-1)!.status).toBe(204);
    expect(hooks.at(-1)!.headers["webhook-id"]).toBe(hooks[0]!.headers["webhook-id"]);
    verified(hooks.at(-1)!, [s.hook.secret]);
    expect(await deliveryRows(s.hook.id)).toMatchObject([{ state: "delivered", attempts: 1 }]);
  });

  it("a consumer that crashes after sending (outcome never written) resends; the receiver dedupes by webhook-id", async () => {
    const s = await setup();
    await changeRole(s, "admin");
    const queue = new CollectingQueue();
    await dispatchWebhooks(await testDb(), queue, new Date());
    const messages = queue.take();
    // The outcome's write fails: the messages go back to Queues, the row stays queued.
    await setFaults({ scope: CONSUMER_SCOPE, failMatching: "v\\(id, expected", mode: "drop" });
    const result = await consume(messages, scopedEnv(CONSUMER_SCOPE));
    expect(result.retryMessages.length).toBe(messages.length);
    expect(await deliveryRows(s.hook.id)).toMatchObject([{ state: "queued", attempts: 0 }]);
    await clearFaults(CONSUMER_SCOPE);
    // Queues redelivers: sent again with the same webhook-id, recorded this time.
    const again = await consume(messages, scopedEnv(CONSUMER_SCOPE));
    expect(again.retryMessages).toHaveLength(0);
    const hooks = await received(s.hook.inbox);
    expect(hooks).toHaveLength(2);
    expect(hooks[1]!.headers["webhook-id"]).toBe(hooks[0]!.headers["webhook-id"]);
    expect(hooks.map((h) => h.duplicate)).toEqual([false, true]);
    for (const h of hooks) verified(h, [s.hook.secret]);
    expect(await deliveryRows(s.hook.id)).toMatchObject([{ state: "delivered", attempts: 1 }]);

    // The ack was lost and the message comes back once more: acked, nothing sent.
    const third = await consume(messages);
    expect(third.retryMessages).toHaveLength(0);
    expect(await received(s.hook.inbox)).toHaveLength(2);
  });

  it("a claimed row whose message was lost, or whose send to the queue failed, is claimed again after its lease", async () => {
    const s = await setup();
    await changeRole(s, "admin");
    const start = new Date();
    // The producer fails: nothing is queued, the row stays claimed.
    const failing = new CollectingQueue();
    failing.fail = true;
    await dispatchWebhooks(await testDb(), failing, start);
    expect(await deliveryRows(s.hook.id)).toMatchObject([{ state: "queued" }]);
    // Within the lease, nobody claims it again.
    const early = new CollectingQueue();
    await dispatchWebhooks(await testDb(), early, new Date(start.getTime() + (QUEUE_LEASE_SECONDS - 10) * 1000));
    const id = (await deliveryRows(s.hook.id))[0]!.id;
    expect(early.messages.map((m) => m.id)).not.toContain(id);
    // A claimed message is lost in the queue: the next claim after the lease sends it.
    const lost = new CollectingQueue();
    await dispatchWebhooks(await testDb(), lost, new Date(start.getTime() + (QUEUE_LEASE_SECONDS + 1) * 1000));
    expect(lost.messages.map((m) => m.id)).toContain(id);
    await dispatchAndConsume(new Date(start.getTime() + (2 * QUEUE_LEASE_SECONDS + 2) * 1000));
    const hooks = await received(s.hook.inbox);
    expect(hooks).toHaveLength(1);
    verified(hooks[0]!, [s.hook.secret]);
    expect(await deliveryRows(s.hook.id)).toMatchObject([{ state: "delivered", attempts: 1 }]);
  });

  it("after a secret rotation both signatures are sent and each verifies; after the overlap only the new one", async () => {
    const s = await setup();
    const before = (await stats("wh-rotate")).requests;
    const res = await api(s.token, "POST", `/api/orgs/${s.org.slug}/webhooks/${s.hook.id}/secret`, undefined, { scope: "wh-rotate" });
    expect(res.status).toBe(200);
    expect((await stats("wh-rotate")).requests - before).toBe(1);
    const { secret, endpoint } = (await res.json()) as { secret: string; endpoint: { previousSecretExpiresAt: string } };
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secret).not.toBe(s.hook.secret);
    expect(Date.parse(endpoint.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23 * HOUR);
    await changeRole(s, "admin");
    await dispatchAndConsume();
    const [hook] = await received(s.hook.inbox);
    expect(hook!.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    verified(hook!, [secret]);
    verified(hook!, [s.hook.secret]);

    await rawSql("UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1", [s.hook.id]);
    await changeRole(s, "member");
    await dispatchAndConsume();
    const later = (await received(s.hook.inbox))[1]!;
    expect(later.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
    verified(later, [secret]);
    expect(() => verified(later, [s.hook.secret])).toThrow();
  });

  it("the dispatcher deletes delivered and dead rows past their retention, never pending ones", async () => {
    const s = await setup();
    await changeRole(s, "admin");
    await changeRole(s, "member");
    await changeRole(s, "admin");
    const [a, b, c] = await deliveryRows(s.hook.id);
    await rawSql("UPDATE webhook_deliveries SET state = 'delivered' WHERE id = $1", [a!.id]);
    await rawSql("UPDATE webhook_deliveries SET state = 'dead' WHERE id = $1", [b!.id]);
    await rawSql("UPDATE webhook_endpoints SET enabled = false WHERE id = $1", [s.hook.id]);
    await rawSql(`UPDATE webhook_deliveries SET created_at = now() - interval '${DELIVERY_RETENTION_DAYS + 1} days' WHERE endpoint_id = $1`, [s.hook.id]);
    await dispatchWebhooks(await testDb(), new CollectingQueue(), new Date());
    expect((await deliveryRows(s.hook.id)).map((r) => r.id)).toEqual([c!.id]);
  });

  it("a disabled endpoint's deliveries wait, and go out when it is enabled again", async () => {
    const s = await setup();
    await changeRole(s, "admin");
    expect((await api(s.token, "PATCH", `/api/orgs/${s.org.slug}/webhooks/${s.hook.id}`, { enabled: false })).status).toBe(200);
    await dispatchAndConsume();
    expect(await received(s.hook.inbox)).toHaveLength(0);
    expect(await deliveryRows(s.hook.id)).toMatchObject([{ state: "pending", attempts: 0 }]);
    expect((await api(s.token, "PATCH", `/api/orgs/${s.org.slug}/webhooks/${s.hook.id}`, { enabled: true })).status).toBe(200);
    await dispatchAndConsume();
    expect(await received(s.hook.inbox)).toHaveLength(1);
  });

  it("through the every-minute cron and the real queue binding (miniflare Queues): the worker's consumer delivers", async () => {
    const s = await setup();
    await changeRole(s, "admin");
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect((await deliveryRows(s.hook.id))[0]!.state).not.toBe("pending");
    // Queues hands the batch to the worker's `queue` export after its batch timeout (wrangler.toml): wait for the outcome.
    let rows = await deliveryRows(s.hook.id);
    for (let i = 0; i < 120 && rows[0]!.state !== "delivered"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      rows = await deliveryRows(s.hook.id);
    }
    expect(rows).toMatchObject([{ state: "delivered", attempts: 1 }]);
    const hooks = await received(s.hook.inbox);
    expect(hooks).toHaveLength(1);
    verified(hooks[0]!, [s.hook.secret]);
  });
});
