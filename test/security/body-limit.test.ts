/**
 * Request bodies are bounded while they are read, not after. The endpoints
 * that read a body (token, link, account forms) are reachable without a
 * session, and `Origin` is only a browser's promise: a script sets it to
 * anything. Reading a 100 MB body into a string before checking its length
 * lets one request exhaust the isolate's 128 MB for every request sharing it.
 */
import { describe, expect, it } from "vitest";
import { rawSql } from "../helpers/neon-local";
import { accessTokenFor, countRows, createVerifiedUser } from "../helpers/orgs";
import { callWorker, createTestUser, signInAs } from "../helpers/sessions";

const AUTH = "https://auth.example.com";
const SPA = "https://app.example.com";
const CHUNK = 64 * 1024;
const TOTAL = 8 * 1024 * 1024;

/**
 * An endless-looking body of `TOTAL` bytes that records how much the server
 * pulled and whether it cancelled the rest. A refused body left unread and
 * uncancelled keeps the connection's request half open: `wrangler dev`'s
 * proxy then fails the next request with 503 "worker restarted mid-request".
 */
function countingBody(fill: number): { body: ReadableStream<Uint8Array>; pulled: () => number; cancelled: () => boolean } {
  let sent = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= TOTAL) return controller.close();
      sent += CHUNK;
      controller.enqueue(new Uint8Array(CHUNK).fill(fill));
    },
    cancel() {
      cancelled = true;
    },
  });
  return { body, pulled: () => sent, cancelled: () => cancelled };
}

const SPACE = 0x20;
const LETTER_A = 0x61;

const cases = [
  { name: "POST /auth/token", path: "/auth/token", origin: SPA, type: "application/json", fill: SPACE },
  { name: "POST /auth/link/github", path: "/auth/link/github", origin: AUTH, type: "application/x-www-form-urlencoded", fill: LETTER_A },
  { name: "POST /account/unlink/github", path: "/account/unlink/github", origin: AUTH, type: "application/x-www-form-urlencoded", fill: LETTER_A },
];

describe("oversized request bodies", () => {
  it.each(cases)("$name stops reading a streamed body early and answers 400 InvalidRequest", async ({ path, origin, type, fill }) => {
    const { cookieHeader } = await signInAs(await createTestUser());
    const { body, pulled, cancelled } = countingBody(fill);
    const res = await callWorker(path, { method: "POST", headers: { origin, "content-type": type, accept: "application/json", cookie: cookieHeader }, body });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "InvalidRequest" });
    expect(res.headers.getSetCookie()).toEqual([]);
    // A few chunks may be buffered ahead; the whole 8 MB must not be.
    expect(pulled()).toBeLessThan(1024 * 1024);
    // The rest is cancelled, not left hanging.
    expect(cancelled()).toBe(true);
  });

  it.each(cases)("$name cancels a streamed body whose declared Content-Length is over the limit, unread", async ({ path, origin, type, fill }) => {
    const { body, pulled, cancelled } = countingBody(fill);
    const res = await callWorker(path, {
      method: "POST",
      headers: { origin, "content-type": type, accept: "application/json", "content-length": String(TOTAL) },
      body,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "InvalidRequest" });
    expect(pulled()).toBeLessThan(1024 * 1024);
    expect(cancelled()).toBe(true);
  });

  it.each(cases)("$name refuses a declared Content-Length over the limit without a session", async ({ path, origin, type, fill }) => {
    const before = await rawSql<{ n: number }>("SELECT count(*)::int AS n FROM sessions");
    const res = await callWorker(path, {
      method: "POST",
      headers: { origin, "content-type": type, accept: "application/json" },
      body: new Uint8Array(2 * 1024 * 1024).fill(fill),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "InvalidRequest" });
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await rawSql<{ n: number }>("SELECT count(*)::int AS n FROM sessions")).toEqual(before);
  });

  it.each(["/api/orgs", "/api/orgs/acme/members"])("POST %s (Bearer) stops reading a streamed body early and answers 400 InvalidRequest, writing nothing", async (path) => {
    const token = await accessTokenFor((await createVerifiedUser()).id);
    const before = await countRows("organizations");
    const { body, pulled } = countingBody(SPACE);
    const res = await callWorker(path, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "InvalidRequest" });
    expect(pulled()).toBeLessThan(1024 * 1024);
    expect(await countRows("organizations")).toBe(before);
  });
});
