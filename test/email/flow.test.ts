/**
 * Email sign-in end to end inside workerd: the message through the Resend
 * fake, the code form and the emailed link, the user and session written,
 * and the round trips (none to send, one to finish).
 */
import { beforeEach, describe, expect, it } from "vitest";
import { rawSql, resetStats, stats } from "../helpers/neon-local";
import { request, signinEnv } from "../signin/helpers";
import { askCode, EMAIL_COOKIE, freshAddress, mailTo, postCode } from "./helpers";

const SCOPE = "email_flow";
const targetEnv = signinEnv(SCOPE);

function cookies(res: Response): Record<string, string> {
  return Object.fromEntries(res.headers.getSetCookie().map((c) => [c.split("=")[0] ?? "", c]));
}

beforeEach(async () => {
  await resetStats(SCOPE);
});

describe("email sign-in", () => {
  it("sends one message with the code and a link, with no database round trip", async () => {
    const address = freshAddress();
    await resetStats(SCOPE);
    const asked = await askCode(address, targetEnv, { redirect_to: "https://app.example.com/after" });
    expect((await stats(SCOPE)).requests).toBe(0);
    expect(asked.response.headers.get("location")).toBe(`/auth/email/verify?c=${asked.challenge}&redirect_to=${encodeURIComponent("https://app.example.com/after")}`);
    // The code page's "send a new code" link keeps the return address.
    const codePage = await (await request(asked.response.headers.get("location")!, {}, targetEnv)).text();
    expect(codePage).toContain(`href="/auth/email?redirect_to=${encodeURIComponent("https://app.example.com/after")}"`);
    const foreign = await request(`/auth/email/verify?c=${asked.challenge}&redirect_to=${encodeURIComponent("https://evil.example.net/")}`, {}, targetEnv);
    expect(foreign.status).toBe(400);
    expect(cookies(asked.response)[EMAIL_COOKIE]).toMatch(/HttpOnly/);
    expect(cookies(asked.response)[EMAIL_COOKIE]).toMatch(/Secure/);
    expect(asked.code).toMatch(/^\d{6}$/);
    expect(asked.mail.to).toEqual([address]);
    expect(asked.mail.from).toBe("Example sign-in <sign-in@example.com>");
    expect(asked.mail.subject).toContain(asked.code);
    expect(asked.mail.html).toContain(asked.code);
    expect(asked.link.origin + asked.link.pathname).toBe("https://auth.example.com/auth/email/verify");
    expect(asked.link.searchParams.get("c")).toBe(asked.challenge);
    expect(asked.link.searchParams.get("code")).toBe(asked.code);
    // The code is stored only hashed.
    const { keys } = await targetEnv.AUTH_KV.list({ prefix: "em:" });
    const values = await Promise.all(keys.map((k) => targetEnv.AUTH_KV.get(k.name)));
    expect(values.some((v) => v?.includes(`"${asked.code}"`) || v?.includes(asked.challenge))).toBe(false);
  });

  it("the typed code signs a new user in with a verified address, in one round trip", async () => {
    const address = freshAddress();
    const asked = await askCode(address, targetEnv, { redirect_to: "https://app.example.com/after" });
    await resetStats(SCOPE);
    const res = await postCode(asked.challenge, asked.code, asked.cookie, targetEnv);
    expect(res.status, await res.clone().text()).toBe(303);
    expect((await stats(SCOPE)).requests).toBe(1);
    expect(res.headers.get("location")).toBe("https://app.example.com/after");
    const set = cookies(res);
    expect(set["__Host-gh_session"]).toContain("HttpOnly");
    expect(set["__Host-gh_refresh"]).toContain("HttpOnly");
    expect(set[EMAIL_COOKIE]).toContain("Max-Age=0");
    const users = await rawSql<{ id: string; email_verified_at: string | null }>(`SELECT id, email_verified_at FROM users WHERE email_normalized = $1`, [address]);
    expect(users).toHaveLength(1);
    expect(users[0]?.email_verified_at).not.toBeNull();
    expect(await rawSql(`SELECT provider, provider_subject, email_verified FROM accounts WHERE user_id = $1`, [users[0]?.id])).toEqual([
      { provider: "email", provider_subject: address, email_verified: true },
    ]);
    // RFC 8176 `otp`: a one-time code sent to the address (the id_token carries the session's amr).
    expect(await rawSql(`SELECT amr FROM sessions WHERE user_id = $1`, [users[0]?.id])).toEqual([{ amr: ["otp"] }]);
    expect(await rawSql(`SELECT count(*)::int AS n FROM provider_tokens WHERE user_id = $1`, [users[0]?.id])).toEqual([{ n: 0 }]);
  });

  it("the emailed link opens a confirmation page (no sign-in on GET); its POST signs in; a returning user is the same user", async () => {
    const address = freshAddress();
    const first = await askCode(address, targetEnv);
    expect((await postCode(first.challenge, first.code, first.cookie, targetEnv)).status).toBe(303);

    const again = await askCode(address, targetEnv);
    await resetStats(SCOPE);
    const page = await request(again.link.pathname + again.link.search, { headers: { cookie: again.cookie } }, targetEnv);
    expect(page.status).toBe(200);
    expect(page.headers.getSetCookie()).toEqual([]);
    expect((await stats(SCOPE)).requests).toBe(0);
    const html = await page.text();
    expect(html).toContain('method="post" action="/auth/email/verify"');
    expect(html).toContain(`value="${again.code}"`);
    const res = await postCode(again.challenge, again.code, again.cookie, targetEnv);
    expect(res.status).toBe(303);
    expect(await rawSql(`SELECT count(*)::int AS n FROM users WHERE email_normalized = $1`, [address])).toEqual([{ n: 1 }]);
    expect(await rawSql(`SELECT count(*)::int AS n FROM accounts WHERE provider = 'email' AND provider_subject = $1`, [address])).toEqual([{ n: 1 }]);
  });

  it("asking twice in one browser keeps its binding: the earlier code still works, another browser's does not", async () => {
    const address = freshAddress();
    const first = await askCode(address, targetEnv);
    const second = await askCode(address, targetEnv, {}, first.cookie);
    expect(second.cookie).toBe(first.cookie);
    const stranger = await askCode(freshAddress(), targetEnv);
    expect(stranger.cookie).not.toBe(first.cookie);
    expect((await postCode(first.challenge, first.code, second.cookie, targetEnv)).status).toBe(303);
    expect((await postCode(second.challenge, second.code, stranger.cookie, targetEnv)).status).toBe(400);
  });

  it("joins the existing user that owns the same verified address (linking by verified email)", async () => {
    const address = freshAddress();
    const [user] = await rawSql<{ id: string }>(
      `INSERT INTO users (email, email_normalized, email_verified_at) VALUES ($1, $1, now()) RETURNING id`,
      [address],
    );
    const asked = await askCode(address.toUpperCase(), targetEnv);
    const res = await postCode(asked.challenge, asked.code, asked.cookie, targetEnv);
    expect(res.status).toBe(303);
    expect(await rawSql(`SELECT user_id FROM accounts WHERE provider = 'email' AND provider_subject = $1`, [address])).toEqual([{ user_id: user?.id }]);
  });

  it("the sign-in page offers email; GET /auth/email shows the address form", async () => {
    const signin = await request("/auth/signin", {}, targetEnv);
    expect(await signin.text()).toContain('href="/auth/email"');
    const form = await request("/auth/email?redirect_to=https%3A%2F%2Fapp.example.com%2Fx", {}, targetEnv);
    expect(form.status).toBe(200);
    const html = await form.text();
    expect(html).toContain('action="/auth/email"');
    expect(html).toContain('value="https://app.example.com/x"');
    expect(form.headers.get("referrer-policy")).toBe("same-origin");
    expect(await mailTo("nobody@example.com")).toEqual([]);
  });
});
