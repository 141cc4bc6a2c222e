/**
 * Cookie tossing through look-alike names. A sibling subdomain cannot set a
 * `__Host-` cookie, but it can set one named `\u00a0__Host-gh_refresh` or
 * `\u2000__Host-gh_refresh` (Domain=.example.com): browsers do not treat
 * that as a prefixed name, and workerd hands the header to JavaScript
 * UTF-8-decoded. A parser that trims Unicode whitespace (String#trim) then
 * reads it as the real cookie: the victim is signed in as the attacker
 * (login CSRF / session fixation), or the attacker's transaction binding
 * completes the attacker's sign-in in the victim's browser.
 */
import { describe, expect, it } from "vitest";
import { readCookie, REFRESH_COOKIE, SESSION_COOKIE } from "../../src/lib/cookies";
import { rawSql, resetStats, stats } from "../helpers/neon-local";
import { callWorker, createTestUser, signInAs } from "../helpers/sessions";
import { beginFlow, callbackPath, countRows, request, signinEnv, TX_COOKIE } from "../signin/helpers";

const SCOPE = "security_cookie_tossing";

/** Whitespace JavaScript trims but RFC 6265 does not: NBSP, EN QUAD, ZWNBSP, IDEOGRAPHIC SPACE, LS. */
const LOOKALIKE_PREFIXES = ["\u00a0", "\u2000", "\ufeff", "\u3000", "\u2028", "\u000b", "\u000c"];

describe("readCookie", () => {
  it.each(LOOKALIKE_PREFIXES.map((ws) => [ws.charCodeAt(0).toString(16).padStart(4, "0"), ws]))("ignores a cookie whose name only matches after trimming U+%s", (_, ws) => {
    expect(readCookie(`${ws}${SESSION_COOKIE}=evil`, SESSION_COOKIE)).toEqual({ kind: "absent" });
    expect(readCookie(`${SESSION_COOKIE}${ws}=evil`, SESSION_COOKIE)).toEqual({ kind: "absent" });
    // Next to the real cookie it is ignored too, so it cannot even force a sign-out.
    expect(readCookie(`${SESSION_COOKIE}=good; ${ws}${SESSION_COOKIE}=evil`, SESSION_COOKIE)).toEqual({ kind: "present", value: "good" });
  });

  it("still accepts the spaces and tabs RFC 6265 allows around a pair", () => {
    expect(readCookie(`a=1;  ${REFRESH_COOKIE}=v \t; b=2`, REFRESH_COOKIE)).toEqual({ kind: "present", value: "v" });
    expect(readCookie(`a=1;\t${REFRESH_COOKIE}=v`, REFRESH_COOKIE)).toEqual({ kind: "present", value: "v" });
  });
});

describe("a tossed look-alike refresh cookie", () => {
  it("does not sign the victim in as the attacker", async () => {
    const attacker = await signInAs(await createTestUser({ name: "Attacker" }));
    // U+2000 arrives UTF-8 encoded, as a browser sends it; workerd decodes it (and warns in tests).
    const res = await callWorker("/auth/session", { headers: { cookie: `\u2000${REFRESH_COOKIE}=${attacker.refreshToken}` } });
    expect(res.status).toBe(401);
    expect(res.headers.getSetCookie()).toEqual([]);
    // The attacker's session was not rotated: nothing written.
    const [row] = await rawSql<{ rotated_at: string | null }>("SELECT rotated_at FROM sessions WHERE id = $1", [attacker.sessionId]);
    expect(row?.rotated_at).toBeNull();
  });
});

describe("a tossed look-alike transaction cookie", () => {
  it("cannot complete the attacker's sign-in in the victim's browser (login CSRF)", async () => {
    const targetEnv = signinEnv(SCOPE);
    const subject = String(Math.floor(Math.random() * 1e12));
    const email = `${crypto.randomUUID()}@example.com`;
    // The attacker signs in at the provider in their own browser and stops before the callback.
    const flow = await beginFlow("github", targetEnv, { user: { id: subject, email }, githubEmails: [{ email, primary: true, verified: true }] });
    const binding = flow.cookie.slice(`${TX_COOKIE}=`.length);
    await resetStats(SCOPE);
    // The victim's browser carries only the tossed look-alike and follows the attacker's callback link.
    const res = await request(callbackPath(flow), { headers: { accept: "application/json", cookie: `\u2000${TX_COOKIE}=${binding}` } }, targetEnv);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "StateInvalid" });
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await stats(SCOPE)).toMatchObject({ requests: 0 });
    expect(await countRows({ stateHash: flow.stateHash, subject })).toMatchObject({ consumed: 0, accounts: 0 });
  });
});
