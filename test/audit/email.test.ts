/**
 * The audit rows of email sign-in: a wrong code writes `signin.failure` in
 * the statement that counts the attempt (one round trip, as before), the
 * right code `signin.success` (and `user.create`) in the sign-in batch.
 * Neither row ever holds the code, the challenge or the address.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { rawSql, resetStats, stats } from "../helpers/neon-local";
import { request, signinEnv } from "../signin/helpers";
import { askCode, freshAddress, mailTo, ORIGIN } from "../email/helpers";
import { contextHeaders, expectNoSecrets, newRay, rowsOfRequest, rowsOfUser } from "./helpers";

const SCOPE = "audit_email";
const targetEnv = signinEnv(SCOPE);
const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/** `POST /auth/email/verify` with a recognizable request context. */
async function postCode(challenge: string, code: string, cookie: string, userAgent = UA) {
  const ray = newRay();
  await resetStats(SCOPE);
  const response = await request(
    "/auth/email/verify",
    {
      method: "POST",
      headers: { ...ORIGIN, ...contextHeaders(userAgent, ray), "content-type": "application/x-www-form-urlencoded", accept: "text/html", cookie },
      body: new URLSearchParams({ c: challenge, code }),
    },
    targetEnv,
  );
  return { response, ray, roundTrips: (await stats(SCOPE)).requests, rows: await rowsOfRequest(ray) };
}

const wrong = (code: string) => (code === "000000" ? "111111" : "000000");

beforeEach(async () => {
  await resetStats(SCOPE);
});

describe("email sign-in audit events", () => {
  it("the right code: user.create and signin.success (method email) in the one round trip", async () => {
    const address = freshAddress();
    const asked = await askCode(address, targetEnv);
    const done = await postCode(asked.challenge, asked.code, asked.cookie);
    expect(done.response.status).toBe(303);
    expect(done.roundTrips).toBe(1);
    const [user] = await rawSql<{ id: string }>(`SELECT id FROM users WHERE email_normalized = $1`, [address]);
    expect(done.rows.map((r) => r.action).sort()).toEqual(["signin.success", "user.create"]);
    expect(done.rows.find((r) => r.action === "signin.success")).toMatchObject({
      subject_user_id: user!.id,
      metadata: { method: "email", new_user: true },
      user_agent: UA,
      request_id: done.ray,
      flags: [],
    });
    expectNoSecrets(done.rows, [asked.code, asked.challenge, address]);
  });

  it("a wrong code: signin.failure EmailCodeInvalid about the address's user, in the attempt's one round trip; the last one EmailCodeAttempts", async () => {
    const address = freshAddress();
    const first = await askCode(address, targetEnv);
    expect((await postCode(first.challenge, first.code, first.cookie)).response.status).toBe(303);
    const [user] = await rawSql<{ id: string }>(`SELECT id FROM users WHERE email_normalized = $1`, [address]);

    const asked = await askCode(address, targetEnv);
    const codes: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const attempt = await postCode(asked.challenge, wrong(asked.code), asked.cookie);
      expect(attempt.response.status).toBe(400);
      expect(attempt.roundTrips).toBe(1);
      expect(attempt.rows).toHaveLength(1);
      expect(attempt.rows[0]).toMatchObject({ action: "signin.failure", actor_type: "anonymous", subject_user_id: user!.id, user_agent: UA });
      codes.push(attempt.rows[0]!.metadata.code);
      expectNoSecrets(attempt.rows, [asked.code, wrong(asked.code), asked.challenge, address]);
    }
    expect(codes).toEqual(["EmailCodeInvalid", "EmailCodeInvalid", "EmailCodeInvalid", "EmailCodeInvalid", "EmailCodeAttempts"]);
    expect(await rowsOfUser(user!.id, "signin.failure")).toHaveLength(5);
  });

  it("a wrong code for an address nobody has: signin.failure without a subject", async () => {
    const address = freshAddress();
    const asked = await askCode(address, targetEnv);
    const attempt = await postCode(asked.challenge, wrong(asked.code), asked.cookie);
    expect(attempt.response.status).toBe(400);
    expect(attempt.rows).toHaveLength(1);
    expect(attempt.rows[0]).toMatchObject({ action: "signin.failure", subject_user_id: null, metadata: { code: "EmailCodeInvalid", provider: "email" } });
  });

  it("a returning user from a new browser is flagged new_device and told in their language", async () => {
    const address = freshAddress();
    const first = await askCode(address, targetEnv);
    expect((await postCode(first.challenge, first.code, first.cookie)).response.status).toBe(303);
    const again = await askCode(address, targetEnv);
    const before = (await mailTo(address)).length;
    const ray = newRay();
    const response = await request(
      "/auth/email/verify",
      {
        method: "POST",
        headers: { ...ORIGIN, ...contextHeaders("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36", ray), "accept-language": "ko-KR", "content-type": "application/x-www-form-urlencoded", cookie: again.cookie },
        body: new URLSearchParams({ c: again.challenge, code: again.code }),
      },
      targetEnv,
    );
    expect(response.status).toBe(303);
    const rows = await rowsOfRequest(ray);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: "signin.success", flags: ["new_device"], metadata: { method: "email", new_user: false } });
    const mails = await mailTo(address);
    expect(mails).toHaveLength(before + 1);
    const notice = mails[before]!;
    expect(notice.subject).toContain("새 로그인");
    expect(notice.text).toContain("처음 보는 기기");
    expect(notice.text + notice.html).not.toContain(again.code);
  });
});
