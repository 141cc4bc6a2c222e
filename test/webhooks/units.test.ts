/**
 * The pure parts of webhooks: signatures match what `standardwebhooks`
 * itself signs, the retry schedule spans at least 24 hours, subscription
 * lists are checked, and the consumer acks malformed messages without work.
 */
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { MAX_ATTEMPTS, nextAttemptDelaySeconds, RETRY_DELAYS_SECONDS } from "../../src/webhooks/backoff";
import { checkEventTypes, WEBHOOK_EVENT_TYPES } from "../../src/webhooks/events";
import { newWebhookSecret, secretBytes, signatureHeaders, webhookId } from "../../src/webhooks/sign";
import { consume } from "./helpers";

describe("signing", () => {
  it("produces exactly the signature standardwebhooks computes, one per secret", async () => {
    const a = newWebhookSecret();
    const b = newWebhookSecret();
    expect(secretBytes(a)).toHaveLength(32);
    expect(secretBytes("sk_nope")).toBeNull();
    const ts = 1_796_000_000;
    const body = '{"type":"user.created","data":{}}';
    const headers = await signatureHeaders([a, b], "msg_1", ts, body);
    expect(headers["webhook-signature"]).toBe(`${new Webhook(a).sign("msg_1", new Date(ts * 1000), body)} ${new Webhook(b).sign("msg_1", new Date(ts * 1000), body)}`);
    expect(headers).toMatchObject({ "webhook-id": "msg_1", "webhook-timestamp": String(ts) });
    expect(webhookId("abc")).toBe("msg_abc");
  });
});

describe("the retry schedule", () => {
  it("spans at least 24 hours over its attempts, jitter only lengthens it, then stops", () => {
    const total = RETRY_DELAYS_SECONDS.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(24 * 3600);
    expect(MAX_ATTEMPTS).toBe(RETRY_DELAYS_SECONDS.length + 1);
    for (let n = 1; n < MAX_ATTEMPTS; n++) {
      const base = RETRY_DELAYS_SECONDS[n - 1]!;
      expect(nextAttemptDelaySeconds(n, 0)).toBe(base);
      expect(nextAttemptDelaySeconds(n, 0.999)).toBeLessThanOrEqual(Math.round(base * 1.1));
      expect(nextAttemptDelaySeconds(n, 0.999)).toBeGreaterThanOrEqual(base);
    }
    expect(nextAttemptDelaySeconds(MAX_ATTEMPTS, 0)).toBeNull();
    // Every delay is below Queues' 12 h ceiling anyway, though the schedule lives in the database.
    expect(Math.max(...RETRY_DELAYS_SECONDS)).toBeLessThan(12 * 3600);
  });
});

describe("subscriptions", () => {
  it("accept event types, families and *, deduplicated; refuse anything else", () => {
    expect(checkEventTypes(["user.created", "membership.*", "user.created"])).toEqual({ ok: true, value: ["membership.*", "user.created"] });
    expect(checkEventTypes(["*"])).toEqual({ ok: true, value: ["*"] });
    expect(checkEventTypes(["users.*"])).toEqual({ ok: false, invalid: "users.*" });
    expect(checkEventTypes(["webhook.replay"])).toEqual({ ok: false, invalid: "webhook.replay" });
    expect(WEBHOOK_EVENT_TYPES).toHaveLength(16);
  });
});

describe("the consumer", () => {
  it("acks malformed messages and messages for deliveries that no longer exist, sending nothing", async () => {
    const result = await consume([null, "x", { id: "not-a-uuid", attempts: 0 }, { id: crypto.randomUUID(), attempts: -1 }, { id: crypto.randomUUID(), attempts: 0 }]);
    expect(result.retryMessages).toHaveLength(0);
    expect(result.explicitAcks).toHaveLength(5);
  });
});
