/**
 * The whole `Cookie` header is bounded. Every cookie of every sibling
 * subdomain (Domain=.example.com) reaches this worker too, so a header of
 * junk cookies is cheap to plant and is parsed on every request; past
 * {@link MAX_COOKIE_HEADER_BYTES} the request is refused with 431
 * `HeaderTooLarge` before anything else runs: no database, no cookie set.
 */
import { describe, expect, it } from "vitest";
import { MAX_COOKIE_HEADER_BYTES } from "../../src/middleware/cookie-header";
import { callWorker, createTestUser, resetRoundTrips, roundTrips, signInAs } from "../helpers/sessions";

/** Junk cookies of about `bytes` bytes, the way a browser joins them. */
function junk(bytes: number): string {
  const pairs: string[] = [];
  for (let i = 0, size = 0; size < bytes; i++) {
    const pair = `junk${i}=${"x".repeat(90)}`;
    pairs.push(pair);
    size += pair.length + 2;
  }
  return pairs.join("; ");
}

describe("an oversized Cookie header", () => {
  it("is refused with 431 HeaderTooLarge even next to a valid session, with no database round trip and no cookie", async () => {
    const { cookieHeader } = await signInAs(await createTestUser());
    await resetRoundTrips();
    const res = await callWorker("/auth/session", { headers: { cookie: `${junk(20 * 1024)}; ${cookieHeader}` } });
    expect(res.status).toBe(431);
    expect(await res.json()).toMatchObject({ code: "HeaderTooLarge" });
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await roundTrips()).toBe(0);
  });

  it("gets the error page in a browser, saying what to do", async () => {
    const res = await callWorker("/auth/signin", { headers: { accept: "text/html", cookie: junk(MAX_COOKIE_HEADER_BYTES + 100) } });
    expect(res.status).toBe(431);
    const html = await res.text();
    expect(html).toContain("<code>HeaderTooLarge</code>");
    expect(html).toContain("cookies");
  });

  it("accepts a header just under the limit", async () => {
    const { cookieHeader } = await signInAs(await createTestUser());
    const filler = junk(MAX_COOKIE_HEADER_BYTES - cookieHeader.length - 200);
    const header = `${filler}; ${cookieHeader}`;
    expect(header.length).toBeLessThanOrEqual(MAX_COOKIE_HEADER_BYTES);
    const res = await callWorker("/auth/session", { headers: { cookie: header } });
    expect(res.status).toBe(200);
  });
});
