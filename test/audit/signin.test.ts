/**
 * The audit rows of provider sign-ins (`GET /auth/callback/:provider`):
 * `user.create` and `signin.success` (with the request's context and the
 * new-device / new-country flags computed in SQL), `account.link`, and
 * `signin.failure` for a callback refused after the state was claimed — all
 * within the callback's existing round trips, none for a batch that failed.
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { clearFaults, rawSql, resetStats, setFaults, stats } from "../helpers/neon-local";
import { mailTo } from "../email/helpers";
import { fakeScenario, visitAuthorize } from "../fakes/control";
import { createTestUser, signInAs } from "../helpers/sessions";
import { beginFlow, CALLBACK_ROUND_TRIPS, callbackPath, request, signinEnv } from "../signin/helpers";
import { contextHeaders, expectNoSecrets, newRay, rowsOfRequest, rowsOfUser, type AuditRow } from "./helpers";

const SCOPE = "audit_signin";
const targetEnv = signinEnv(SCOPE);
const FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const SAFARI = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";

const newId = () => String(Math.floor(Math.random() * 1e12));
const newEmail = () => `${crypto.randomUUID()}@example.com`;

interface Person {
  id: string;
  email: string;
}

/** One GitHub sign-in from `userAgent` (and `cf`, when given); returns what the test inspects. */
async function signIn(
  person: Person,
  userAgent: string,
  cf?: { country: string; asn: number },
  env: Env = targetEnv,
  provider: "github" | "google" = "github",
  beforeCallback?: () => Promise<void>,
) {
  const scenario =
    provider === "github"
      ? { user: { id: person.id, email: person.email }, githubEmails: [{ email: person.email, primary: true, verified: true }] }
      : { user: { id: person.id, email: person.email, emailVerified: true } };
  const flow = await beginFlow(provider, env, scenario);
  const ray = newRay();
  await resetStats(SCOPE);
  await beforeCallback?.();
  const response = await request(callbackPath(flow), { headers: { ...contextHeaders(userAgent, ray), cookie: flow.cookie }, ...(cf ? { cf } : {}) } as RequestInit, env);
  const roundTrips = (await stats(SCOPE)).requests;
  return { flow, ray, response, roundTrips, rows: await rowsOfRequest(ray) };
}

async function userIdOf(provider: string, subject: string): Promise<string> {
  const [row] = await rawSql<{ user_id: string }>(`SELECT user_id FROM accounts WHERE provider = $1 AND provider_subject = $2`, [provider, subject]);
  return row!.user_id;
}

function byAction(rows: readonly AuditRow[]): Record<string, AuditRow> {
  return Object.fromEntries(rows.map((r) => [r.action, r]));
}

beforeEach(async () => {
  await clearFaults(SCOPE);
});

describe("sign-in audit events", () => {
  it("a new user: user.create and signin.success with the request's context, in the callback's two round trips, never flagged", async () => {
    const person = { id: newId(), email: newEmail() };
    const first = await signIn(person, FIREFOX, { country: "KR", asn: 4766 });
    expect(first.response.status, await first.response.clone().text()).toBe(302);
    expect(first.roundTrips).toBe(CALLBACK_ROUND_TRIPS);
    const userId = await userIdOf("github", person.id);
    expect(first.rows.map((r) => r.action).sort()).toEqual(["signin.success", "user.create"]);
    const { "user.create": created, "signin.success": success } = byAction(first.rows);
    const [session] = await rawSql<{ id: string }>(`SELECT id FROM sessions WHERE user_id = $1`, [userId]);
    for (const row of [created!, success!]) {
      expect(row).toMatchObject({
        actor_type: "user",
        actor_id: userId,
        subject_user_id: userId,
        org_id: null,
        user_agent: FIREFOX,
        country: "KR",
        asn: 4766,
        request_id: first.ray,
        flags: [],
      });
      expect(row.ip).toMatch(/^198\.18\./);
    }
    expect(created).toMatchObject({ target_type: "user", target_id: userId, metadata: { method: "github" } });
    expect(success).toMatchObject({ target_type: "session", target_id: session!.id, metadata: { method: "github", new_user: true } });
    // The provider's code and the state never reach the audit log.
    expectNoSecrets(first.rows, [first.flow.callbackUrl.searchParams.get("code")!, first.flow.callbackUrl.searchParams.get("state")!]);
  });

  it("flags new_device and new_country against the user's earlier sign-ins, and tells the user by email", async () => {
    const person = { id: newId(), email: newEmail() };
    await signIn(person, FIREFOX, { country: "KR", asn: 4766 });
    const userId = await userIdOf("github", person.id);
    const mails = async () => (await mailTo(person.email)).length;

    // Same browser, same country: a returning user, not flagged, no message.
    const again = await signIn(person, FIREFOX, { country: "KR", asn: 4766 });
    expect(again.roundTrips).toBe(CALLBACK_ROUND_TRIPS);
    expect(again.rows).toHaveLength(1);
    expect(again.rows[0]).toMatchObject({ action: "signin.success", flags: [], metadata: { method: "github", new_user: false } });
    expect(await mails()).toBe(0);

    // Another browser in the same country: new_device only.
    const safari = await signIn(person, SAFARI, { country: "KR", asn: 4766 });
    expect(safari.response.status).toBe(302);
    expect(safari.roundTrips).toBe(CALLBACK_ROUND_TRIPS);
    expect(safari.rows[0]).toMatchObject({ action: "signin.success", flags: ["new_device"] });
    const notices = await mailTo(person.email);
    expect(notices).toHaveLength(1);
    expect(notices[0]!.subject).toContain("New sign-in");
    expect(notices[0]!.text).toContain("Safari on macOS");
    expect(notices[0]!.text).toContain("GitHub");
    expect(notices[0]!.text).toContain("https://auth.example.com/account");
    expect(notices[0]!.html).toContain("Safari on macOS");
    // No code, state, session id or token in the message.
    for (const secret of [safari.flow.callbackUrl.searchParams.get("code")!, safari.flow.callbackUrl.searchParams.get("state")!, safari.rows[0]!.target_id!]) {
      expect(notices[0]!.text + notices[0]!.html).not.toContain(secret);
    }

    // A known browser from a new country: new_country only.
    const japan = await signIn(person, FIREFOX, { country: "JP", asn: 2516 });
    expect(japan.rows[0]).toMatchObject({ action: "signin.success", country: "JP", asn: 2516, flags: ["new_country"] });
    expect(await mails()).toBe(2);

    // Both at once.
    const both = await signIn(person, "curl/8.5.0", { country: "US", asn: 15169 });
    expect(both.rows[0]!.flags.sort()).toEqual(["new_country", "new_device"]);

    // Unknown country: never new_country (the browser is known).
    const unknown = await signIn(person, FIREFOX);
    expect(unknown.rows[0]).toMatchObject({ country: null, asn: null, flags: [] });
    expect(await rowsOfUser(userId, "signin.success")).toHaveLength(6);
  });

  it("a flagged sign-in whose notice cannot be sent still signs in; the failure is logged", async () => {
    const person = { id: newId(), email: newEmail() };
    await signIn(person, FIREFOX);
    const closedSmtp = { ...targetEnv, MAIL_TRANSPORT: "smtp", SMTP_URL: "smtp+plain://127.0.0.1:9" } as unknown as Env;
    const logs = vi.spyOn(console, "log");
    const warnings = vi.spyOn(console, "warn");
    const flagged = await signIn(person, SAFARI, undefined, closedSmtp);
    const lines = [...logs.mock.calls, ...warnings.mock.calls].map((c) => String(c[0]));
    logs.mockRestore();
    warnings.mockRestore();
    expect(flagged.response.status).toBe(302);
    expect(flagged.response.headers.getSetCookie().some((c) => c.startsWith("__Host-gh_session="))).toBe(true);
    expect(flagged.rows[0]).toMatchObject({ action: "signin.success", flags: ["new_device"] });
    expect(lines.some((l) => l.includes('"event":"signin_notice_failed"'))).toBe(true);
  });

  it("an identity joining the owner of its verified address writes account.link (automatic) with the sign-in", async () => {
    const email = newEmail();
    const github = { id: newId(), email };
    await signIn(github, FIREFOX);
    const userId = await userIdOf("github", github.id);
    const google = await signIn({ id: newId(), email }, FIREFOX, undefined, targetEnv, "google");
    expect(google.response.status, await google.response.clone().text()).toBe(302);
    expect(google.roundTrips).toBe(CALLBACK_ROUND_TRIPS);
    const rows = byAction(google.rows);
    expect(Object.keys(rows).sort()).toEqual(["account.link", "signin.success"]);
    const [account] = await rawSql<{ id: string }>(`SELECT id FROM accounts WHERE provider = 'google' AND user_id = $1`, [userId]);
    expect(rows["account.link"]).toMatchObject({ subject_user_id: userId, target_type: "account", target_id: account!.id, metadata: { provider: "google", automatic: true } });
    expect(rows["signin.success"]).toMatchObject({ subject_user_id: userId, metadata: { method: "google", new_user: false }, flags: [] });
  });

  it("an explicit link writes account.link (not automatic) and no signin.success: the user was already signed in", async () => {
    const userId = await createTestUser();
    const { cookieHeader } = await signInAs(userId);
    const start = await request("/auth/link/google", { method: "POST", headers: { origin: "https://auth.example.com", cookie: cookieHeader } }, targetEnv);
    expect(start.status).toBe(303);
    const txCookie = start.headers.getSetCookie().find((c) => c.startsWith("__Host-gh_tx="))?.split(";")[0] ?? "";
    const subject = newId();
    const scenario = await fakeScenario("google", { user: { id: subject, email: newEmail(), emailVerified: true } });
    const callbackUrl = await visitAuthorize(start.headers.get("location") ?? "", scenario);
    const ray = newRay();
    await resetStats(SCOPE);
    const res = await request(callbackUrl.pathname + callbackUrl.search, { headers: { ...contextHeaders(FIREFOX, ray), cookie: `${cookieHeader}; ${txCookie}` } }, targetEnv);
    expect(res.status, await res.clone().text()).toBe(302);
    expect((await stats(SCOPE)).requests).toBe(CALLBACK_ROUND_TRIPS);
    const rows = await rowsOfRequest(ray);
    expect(rows).toHaveLength(1);
    const account = await rawSql<{ id: string }>(`SELECT id FROM accounts WHERE provider = 'google' AND provider_subject = $1`, [subject]);
    expect(rows[0]).toMatchObject({ action: "account.link", actor_id: userId, subject_user_id: userId, target_id: account[0]!.id, metadata: { provider: "google", automatic: false } });
  });

  it("a refusal after the claim writes signin.failure (code, reason, subject) in the statement recording it, and never a secret", async () => {
    const person = { id: newId(), email: newEmail() };
    await signIn(person, FIREFOX);
    const userId = await userIdOf("github", person.id);
    await rawSql(`UPDATE users SET disabled_at = now() WHERE id = $1`, [userId]);
    const refused = await signIn(person, FIREFOX, { country: "KR", asn: 4766 });
    expect(refused.response.status).toBe(403);
    expect(refused.response.headers.getSetCookie().some((c) => c.startsWith("__Host-gh_session="))).toBe(false);
    // The claim, the refused batch, and the UPDATE that records the outcome (which carries the audit row).
    expect(refused.roundTrips).toBe(CALLBACK_ROUND_TRIPS + 1);
    expect(refused.rows).toHaveLength(1);
    expect(refused.rows[0]).toMatchObject({
      action: "signin.failure",
      actor_type: "anonymous",
      actor_id: null,
      subject_user_id: userId,
      target_type: "user",
      target_id: userId,
      metadata: { code: "UserDisabled", provider: "github", reason: "disabled" },
      user_agent: FIREFOX,
      country: "KR",
      flags: [],
    });
    expectNoSecrets(refused.rows, [refused.flow.callbackUrl.searchParams.get("code")!, refused.flow.callbackUrl.searchParams.get("state")!, person.email]);
  });

  it("a failed code exchange writes signin.failure without a subject; the error code is the one recorded for duplicates", async () => {
    const flow = await beginFlow("github", targetEnv, { user: { id: newId() }, token: { providerError: "bad_verification_code" } });
    const ray = newRay();
    const response = await request(callbackPath(flow), { headers: { ...contextHeaders(FIREFOX, ray), cookie: flow.cookie } }, targetEnv);
    expect(response.status).toBeGreaterThanOrEqual(400);
    const [claim] = await rawSql<{ outcome: string }>(`SELECT outcome FROM oauth_consumed_states WHERE state_hash = $1`, [flow.stateHash]);
    const rows = await rowsOfRequest(ray);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: "signin.failure", subject_user_id: null, target_id: null, metadata: { code: claim!.outcome, provider: "github" } });
    expect(rows[0]!.metadata).not.toHaveProperty("reason");
    expectNoSecrets(rows, [flow.callbackUrl.searchParams.get("code")!, flow.callbackUrl.searchParams.get("state")!]);
  });

  it("a sign-in batch that fails writes no user.create or signin.success, only the failure", async () => {
    const person = { id: newId(), email: newEmail() };
    // Statement 4 of the batch (the membership) fails after statement 2 wrote the user and its audit rows.
    const failed = await signIn(person, FIREFOX, undefined, targetEnv, "github", () =>
      setFaults({ failMatching: "INSERT INTO memberships", mode: "postgres", code: "57P01", scope: SCOPE }),
    );
    await clearFaults(SCOPE);
    expect(failed.response.status).toBe(503);
    expect(await rawSql(`SELECT 1 FROM accounts WHERE provider = 'github' AND provider_subject = $1`, [person.id])).toEqual([]);
    expect(failed.rows.map((r) => r.action)).toEqual(["signin.failure"]);
    expect(failed.rows[0]).toMatchObject({ subject_user_id: null, metadata: { code: "DatabaseUnavailable", provider: "github" } });
  });

  it("a callback refused before the claim writes nothing at all (it is only logged)", async () => {
    const flow = await beginFlow("github", targetEnv, { user: { id: newId() } });
    const ray = newRay();
    await resetStats(SCOPE);
    const tampered = callbackPath(flow).replace(/state=[^&]+/, `state=${"A".repeat(43)}`);
    const response = await request(tampered, { headers: { ...contextHeaders(FIREFOX, ray), cookie: flow.cookie } }, targetEnv);
    expect(response.status).toBe(400);
    expect((await stats(SCOPE)).requests).toBe(0);
    expect(await rowsOfRequest(ray)).toEqual([]);
  });
});
