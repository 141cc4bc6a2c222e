/**
 * A webhook delivery over a real HTTP socket: `postWebhook` (the consumer's
 * send) POSTs to a Node `http` server that verifies every request with the
 * `standardwebhooks` package, as a receiver would (docs/operators.md has the
 * ten-line version). Redirects are not followed; a closed port is a
 * `network` failure.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postWebhook } from "../../src/webhooks/deliver";
import { newWebhookSecret } from "../../src/webhooks/sign";

const current = newWebhookSecret();
const previous = newWebhookSecret();
let server: Server;
let base: string;
const got: { path: string; verifiedWith: string[]; payload: unknown }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/moved") {
        res.writeHead(302, { location: "/hook" }).end();
        return;
      }
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = req.headers as Record<string, string>;
      const verifiedWith: string[] = [];
      let payload: unknown = null;
      for (const [name, secret] of [["current", current], ["previous", previous]] as const) {
        try {
          payload = new Webhook(secret).verify(body, headers);
          verifiedWith.push(name);
        } catch {
          // not signed with this one
        }
      }
      got.push({ path: req.url ?? "", verifiedWith, payload });
      res.writeHead(verifiedWith.length > 0 ? 204 : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("postWebhook against a real receiver", () => {
  it("is verified by standardwebhooks with each active secret", async () => {
    const body = JSON.stringify({ type: "user.created", timestamp: new Date().toISOString(), data: { userId: "u1" } });
    const result = await postWebhook({ url: `${base}/hook`, secrets: [current, previous], id: "msg_node-1", body });
    expect(result).toEqual({ ok: true, status: 204 });
    expect(got.at(-1)).toMatchObject({ path: "/hook", verifiedWith: ["current", "previous"], payload: { type: "user.created", data: { userId: "u1" } } });
  });

  it("a wrong secret is refused by the receiver and reported as its status", async () => {
    const result = await postWebhook({ url: `${base}/hook`, secrets: [newWebhookSecret()], id: "msg_node-2", body: "{}" });
    expect(result).toEqual({ ok: false, status: 401, errorCode: "http_401" });
    expect(got.at(-1)).toMatchObject({ verifiedWith: [] });
  });

  it("does not follow redirects; a closed port is a network failure", async () => {
    const before = got.length;
    expect(await postWebhook({ url: `${base}/moved`, secrets: [current], id: "msg_node-3", body: "{}" })).toEqual({ ok: false, status: 302, errorCode: "redirect" });
    expect(got.length).toBe(before);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await postWebhook({ url: `http://127.0.0.1:${port}/hook`, secrets: [current], id: "msg_node-4", body: "{}" })).toMatchObject({ ok: false, status: null, errorCode: "network" });
  });
});
