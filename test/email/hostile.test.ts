/**
 * Hostile email sign-ins: brute force (the sixth attempt fails even with the
 * right code), expiry, replay, another browser, header injection and
 * look-alike addresses, enumeration, rate limits, mail failures, CSRF.
 * Every refusal: its status and code, nothing written, no session cookie.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/lib/crypto";
import { rawSql, resetStats, stats } from "../helpers/neon-local";
import { request, signinEnv } from "../signin/helpers";
import { askCode, EMAIL_COOKIE, failNextMail, freshAddress, mailTo, postCode, postEmail } from "./helpers";

const SCOPE = "email_hostile";
const targetEnv = signinEnv(SCOPE);

async function written(address: string, challenge: string) {
  const [row] = await rawSql<Record<string, string>>(
    `SELECT (SELECT count(*) FROM users WHERE email_normalized = $1)::int AS users,
            (SELECT count(*) FROM accounts WHERE provider = 'email' AND provider_subject = $1)::int AS accounts,
            (SELECT count(*) FROM oauth_consumed_states WHERE state_hash = $2)::int AS consumed`,
    [address, await sha256Hex(challenge)],
  );
  return row;
}

function sessionCookies(res: Response): string[] {
  return res.headers.getSetCookie().filter((c) => c.startsWith("__Host-gh_session=") || c.startsWith("__Host-gh_refresh="));
}

async function refusal(res: Response): Promise<string> {
  const text = await res.text();
  return /Error code: <code>(\w+)<\/code>/.exec(text)?.[1] ?? /"code":"(\w+)"/.exec(text)?.[1] ?? text.slice(0, 200);
}

const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

beforeEach(async () => {
  await resetStats(SCOPE);
});

describe("brute force", () => {
  it("five wrong codes use up the challenge: the sixth attempt fails even with the right code, nothing written", async () => {
    const address = freshAddress();
    const asked = await askCode(address, targetEnv);
    for (let i = 1; i <= 5; i++) {
      await resetStats(SCOPE);
      const res = await postCode(asked.challenge, wrong(asked.code), asked.cookie, targetEnv);
      expect(res.status).toBe(400);
      expect(await refusal(res)).toBe(i < 5 ? "EmailCodeInvalid" : "EmailCodeAttempts");
      expect((await stats(SCOPE)).requests).toBe(1);
      expect(sessionCookies(res)).toEqual([]);
    }
    const res = await postCode(asked.challenge, asked.code, asked.cookie, targetEnv);
    expect(res.status).toBe(400);
    expect(await refusal(res)).toBe("EmailCodeAttempts");
    expect(sessionCookies(res)).toEqual([]);
    expect(await written(address, asked.challenge)).toEqual({ users: 0, accounts: 0, consumed: 0 });
  });

  it("four wrong codes, then the right one on the fifth attempt, signs in", async () => {
    const address = freshAddress();
    const asked = await askCode(address, targetEnv);
    for (let i = 1; i <= 4; i++) expect((await postCode(asked.challenge, wrong(asked.code), asked.cookie, targetEnv)).status).toBe(400);
    const res = await postCode(asked.challenge, asked.code, asked.cookie, targetEnv);
    expect(res.status).toBe(303);
    expect(sessionCookies(res)).toHaveLength(2);
  });

  it("a malformed code is refused before any lookup (no round trip, not counted)", async () => {
    const asked = await askCode(freshAddress(), targetEnv);
    for (const code of ["12345", "1234567", "12345a", "١٢٣٤٥٦"]) {
      const res = await postCode(asked.challenge, code, asked.cookie, targetEnv);
      expect(res.status).toBe(400);
      expect(await refusal(res)).toBe("EmailCodeInvalid");
    }
    expect((await stats(SCOPE)).requests).toBe(0);
  });
});

describe("expiry, replay and other browsers", () => {
  it("an expired code (older than 10 minutes) is refused with no round trip and nothing written", async () => {
    const address = freshAddress();
    const asked = await askCode(address, targetEnv);
    const key = `em:${await sha256Hex(asked.challenge)}`;
    const stored = JSON.parse((await env.AUTH_KV.get(key)) ?? "{}") as { createdAt: number };
    await env.AUTH_KV.put(key, JSON.stringify({ ...stored, createdAt: stored.createdAt - 601_000 }));
    await resetStats(SCOPE);
    const res = await postCode(asked.challenge, asked.code, asked.cookie, targetEnv);
    expect(res.status).toBe(400);
    expect(await refusal(res)).toBe("EmailCodeExpired");
    expect((await stats(SCOPE)).requests).toBe(0);
    expect(sessionCookies(res)).toEqual([]);
    expect(await written(address, asked.challenge)).toEqual({ users: 0, accounts: 0, consumed: 0 });
  });

  it("a used code cannot be replayed: one round trip, refused, no new session", async () => {
    const address = freshAddress();
    const asked = await askCode(address, targetEnv);
    expect((await postCode(asked.challenge, asked.code, asked.cookie, targetEnv)).status).toBe(303);
    const [{ n: before } = { n: 0 }] = await rawSql<{ n: number }>(`SELECT count(*)::int AS n FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email_normalized = $1`, [address]);
    await resetStats(SCOPE);
    const res = await postCode(asked.challenge, asked.code, asked.cookie, targetEnv);
    expect(res.status).toBe(400);
    expect(await refusal(res)).toBe("EmailCodeExpired");
    expect((await stats(SCOPE)).requests).toBe(1);
    expect(sessionCookies(res)).toEqual([]);
    expect(await rawSql(`SELECT count(*)::int AS n FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email_normalized = $1`, [address])).toEqual([{ n: before }]);
  });

  it("the link (or code) in another browser is refused with no round trip; the asking browser still can", async () => {
    const address = freshAddress();
    const asked = await askCode(address, targetEnv);
    const other = await askCode(freshAddress(), targetEnv);
    for (const cookie of [null, other.cookie, `${EMAIL_COOKIE}=${"A".repeat(43)}`]) {
      await resetStats(SCOPE);
      const res = await postCode(asked.challenge, asked.code, cookie, targetEnv);
      expect(res.status).toBe(400);
      expect(await refusal(res)).toBe("EmailOtherBrowser");
      expect((await stats(SCOPE)).requests).toBe(0);
      expect(sessionCookies(res)).toEqual([]);
    }
    expect(await written(address, asked.challenge)).toEqual({ users: 0, accounts: 0, consumed: 0 });
    expect((await postCode(asked.challenge, asked.code, asked.cookie, targetEnv)).status).toBe(303);
  });

  it("two concurrent right answers sign in once", async () => {
    const address = freshAddress();
    const asked = await askCode(address, targetEnv);
    const results = await Promise.all([1, 2, 3].map(() => postCode(asked.challenge, asked.code, asked.cookie, targetEnv)));
    expect(results.map((r) => r.status).sort()).toEqual([303, 400, 400]);
    expect(await rawSql(`SELECT count(*)::int AS n FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email_normalized = $1`, [address])).toEqual([{ n: 1 }]);
  });
});

describe("addresses", () => {
  it.each([
    ["header injection (CRLF)", "victim@example.com\r\nBcc: attacker@evil.test"],
    ["header injection (LF)", "victim@example.com\nSubject: hi"],
    ["two recipients", "victim@example.com, attacker@evil.test"],
    ["angle brackets", "Victim <victim@example.com>"],
    ["Cyrillic look-alike", "аlice@example.com"],
    ["full-width at sign", "alice＠example.com"],
    ["full-width letter", "ａlice@example.com"],
    ["Kelvin sign", "\u212Aelly@example.com"],
    ["IDN domain", "alice@exаmple.com"],
    ["empty", ""],
  ])("refuses %s: 400 EmailInvalid, nothing stored or sent", async (_, address) => {
    const { keys: before } = await targetEnv.AUTH_KV.list({ prefix: "em:" });
    const res = await postEmail({ email: address }, targetEnv);
    expect(res.status).toBe(400);
    expect(await refusal(res)).toBe("EmailInvalid");
    expect(res.headers.getSetCookie()).toEqual([]);
    const { keys: after } = await targetEnv.AUTH_KV.list({ prefix: "em:" });
    expect(after.length).toBe(before.length);
    expect(await mailTo("attacker@evil.test")).toEqual([]);
  });

  it("refuses the address given twice", async () => {
    const res = await postEmail({ email: [freshAddress(), "attacker@evil.test"] }, targetEnv);
    expect(res.status).toBe(400);
    expect(await mailTo("attacker@evil.test")).toEqual([]);
  });
});

describe("enumeration", () => {
  it("answers an existing account and an unknown address identically, without touching the database", async () => {
    const known = freshAddress();
    await rawSql(`INSERT INTO users (email, email_normalized, email_verified_at) VALUES ($1, $1, now())`, [known]);
    await resetStats(SCOPE);
    const a = await postEmail({ email: known }, targetEnv);
    const b = await postEmail({ email: freshAddress() }, targetEnv);
    expect((await stats(SCOPE)).requests).toBe(0);
    const shape = async (r: Response) => ({
      status: r.status,
      location: (r.headers.get("location") ?? "").replace(/c=[\w-]{43}$/, "c=*"),
      cookies: r.headers.getSetCookie().map((c) => c.replace(/=[\w-]+;/, "=*;")),
      headers: [...r.headers.keys()].sort(),
      body: await r.text(),
    });
    expect(await shape(a)).toEqual(await shape(b));
  });
});

describe("limits and failures", () => {
  it("rate-limits sending per address (5 a minute), from any client address", async () => {
    const address = freshAddress();
    for (let i = 0; i < 5; i++) expect((await postEmail({ email: address }, targetEnv)).status).toBe(303);
    const res = await postEmail({ email: address }, targetEnv);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("60");
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await mailTo(address)).toHaveLength(5);
  });

  it("rate-limits sending per client address (5 a minute)", async () => {
    const ip = "198.51.100.77";
    for (let i = 0; i < 5; i++) expect((await postEmail({ email: freshAddress() }, targetEnv, { "cf-connecting-ip": ip })).status).toBe(303);
    const address = freshAddress();
    expect((await postEmail({ email: address }, targetEnv, { "cf-connecting-ip": ip })).status).toBe(429);
    expect(await mailTo(address)).toEqual([]);
  });

  it("a mail API failure is 502 MailUnavailable with no cookie", async () => {
    await failNextMail(500);
    const address = freshAddress();
    const res = await postEmail({ email: address }, targetEnv, { accept: "text/html" });
    expect(res.status).toBe(502);
    expect(await refusal(res)).toBe("MailUnavailable");
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it("refuses a POST from another origin (403) and a non-form body (415)", async () => {
    const address = freshAddress();
    const foreign = await postEmail({ email: address }, targetEnv, { origin: "https://evil.test" });
    expect(foreign.status).toBe(403);
    const json = await request("/auth/email", { method: "POST", headers: { origin: "https://auth.example.com", "content-type": "application/json" }, body: JSON.stringify({ email: address }) }, targetEnv);
    expect(json.status).toBe(415);
    expect(await mailTo(address)).toEqual([]);
  });

  it("is 404 when email sign-in is off", async () => {
    const off = { ...targetEnv, EMAIL_SIGNIN: undefined } as unknown as Env;
    expect((await request("/auth/email", {}, off)).status).toBe(404);
    expect(await (await request("/auth/signin", {}, off)).text()).not.toContain("/auth/email");
  });
});
