/**
 * Passkeys end to end inside workerd, with a software authenticator: add one
 * on the account page (one round trip), sign in with it as a discoverable
 * credential (the write in one round trip; counter, last use and `amr`
 * recorded), and a new account with a passkey alone (one round trip).
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { linkAccount } from "../account/helpers";
import { rawSql } from "../helpers/neon-local";
import { callWorker, createTestUser, resetRoundTrips, roundTrips, setCookies, signInAs } from "../helpers/sessions";
import { SoftAuthenticator } from "./authenticator";
import { footprint, passkeysOf, postJson, registerPasskey, signInWithPasskey, startCeremony, userIdOfOptions } from "./helpers";

async function sessionRow(sessionId: string) {
  const [row] = await rawSql<{ user_id: string; amr: string[] | null; passkey_id: string | null }>("SELECT user_id, amr, passkey_id FROM sessions WHERE id = $1", [sessionId]);
  return row;
}

function refreshSessionId(res: Response): string {
  const refresh = setCookies(res).get("__Host-gh_refresh");
  if (!refresh) throw new Error("no refresh cookie");
  return refresh.value.split(".")[0]!;
}

describe("passkeys", () => {
  beforeEach(async () => {
    await resetRoundTrips();
  });

  it("registration options ask for a discoverable credential with user verification, bound to AUTH_URL", async () => {
    const ada = await signInAs(await createTestUser({ email: "ada-pk@example.com" }));
    const started = await startCeremony("register", {}, [ada.cookieHeader]);
    expect(started.options).toMatchObject({
      rp: { id: "auth.example.com", name: "auth.example.com" },
      user: { name: "ada-pk@example.com" },
      attestation: "none",
      authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
    });
    expect(started.binding).toMatch(/^__Host-gh_passkey=[A-Za-z0-9_-]{43}$/);
    expect(String(started.options.challenge)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const kv = await env.AUTH_KV.list({ prefix: "pk:" });
    expect(kv.keys.length).toBeGreaterThan(0);
  });

  it("adds a passkey on the account page in one round trip, with its audit row", async () => {
    const userId = await createTestUser();
    await linkAccount(userId, "github");
    const ada = await signInAs(userId);
    const authenticator = new SoftAuthenticator();
    const started = await startCeremony("register", {}, [ada.cookieHeader]);
    expect(userIdOfOptions(started.options)).toBe(userId);
    const response = await authenticator.create(started.options);
    await resetRoundTrips();
    const res = await postJson("/auth/passkey/register", { response, name: "Laptop" }, [ada.cookieHeader, started.binding]);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ redirect: "/account?notice=passkey_added" });
    expect(await roundTrips()).toBe(1);
    const keys = await passkeysOf(userId);
    expect(keys).toMatchObject([{ name: "Laptop", counter: "1", device_type: "singleDevice", backed_up: false, last_used_at: null, transports: ["internal", "hybrid"] }]);
    const audit = await rawSql("SELECT action, target_type, target_id, org_id, subject_user_id, request_id IS NOT NULL AS has_request FROM audit_events WHERE actor_id = $1 AND action = 'passkey.add'", [userId]);
    expect(audit).toEqual([{ action: "passkey.add", target_type: "passkey", target_id: keys[0]!.id, org_id: null, subject_user_id: userId, has_request: true }]);
    // The binding cookie is spent.
    expect(setCookies(res).get("__Host-gh_passkey")?.maxAge).toBe(0);

    const page = await callAccount(ada.cookieHeader);
    expect(page).toContain("Laptop");
    expect(page).toContain(`action="/account/passkeys/${keys[0]!.id}/remove"`);
  });

  it("signs in with a discoverable credential: the write is one round trip, counter and last use move, amr says hwk+user", async () => {
    const userId = await createTestUser({ name: "Grace" });
    const grace = await signInAs(userId);
    const authenticator = new SoftAuthenticator();
    expect((await registerPasskey(grace.cookieHeader, authenticator)).res.status).toBe(200);

    const started = await startCeremony("signin", { redirect_to: "https://app.example.com/after" });
    expect(started.options).toMatchObject({ rpId: "auth.example.com", userVerification: "required", allowCredentials: [] });
    const response = await authenticator.get(started.options);
    await resetRoundTrips();
    const res = await postJson("/auth/passkey/signin", { response }, [started.binding]);

    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({ redirect: "https://app.example.com/after" });
    // One SELECT for the credential's public key, then the one write batch.
    expect(await roundTrips()).toBe(2);
    const cookies = setCookies(res);
    expect(cookies.get("__Host-gh_session")?.value).toMatch(/^ey/);
    const sessionId = refreshSessionId(res);
    const [key] = await passkeysOf(userId);
    expect(key).toMatchObject({ counter: "2" });
    expect(key!.last_used_at).not.toBeNull();
    expect(await sessionRow(sessionId)).toEqual({ user_id: userId, amr: ["hwk", "user"], passkey_id: key!.id });
    const [user] = await rawSql<{ signed_in: boolean }>("SELECT last_sign_in_at IS NOT NULL AS signed_in FROM users WHERE id = $1", [userId]);
    expect(user!.signed_in).toBe(true);
    // Its audit event rode in the same batch (docs/operators.md "Audit log").
    expect(await rawSql("SELECT action, target_id, metadata FROM audit_events WHERE subject_user_id = $1 AND action = 'signin.success'", [userId])).toEqual([
      { action: "signin.success", target_id: sessionId, metadata: { method: "passkey", new_user: false } },
    ]);

    const session = await callWorker("/auth/session", { headers: { cookie: `__Host-gh_session=${cookies.get("__Host-gh_session")!.value}` } });
    expect(((await session.json()) as { user: { id: string; name: string } }).user).toMatchObject({ id: userId, name: "Grace" });
  });

  it("a synced passkey (backup eligible) signs in with amr swk+user; an authenticator without a counter keeps 0", async () => {
    const userId = await createTestUser();
    const authenticator = new SoftAuthenticator({ backupEligible: true, counter: false });
    expect((await registerPasskey((await signInAs(userId)).cookieHeader, authenticator)).res.status).toBe(200);
    expect(await passkeysOf(userId)).toMatchObject([{ device_type: "multiDevice", backed_up: true, counter: "0" }]);
    for (let i = 0; i < 2; i++) {
      const { res } = await signInWithPasskey(authenticator);
      expect(res.status).toBe(200);
      expect((await sessionRow(refreshSessionId(res)))?.amr).toEqual(["swk", "user"]);
    }
    expect(await passkeysOf(userId)).toMatchObject([{ counter: "0" }]);
  });

  it("creates an account with a passkey alone in one round trip: user without email, personal org, passkey, session", async () => {
    const authenticator = new SoftAuthenticator();
    const started = await startCeremony("signup", { name: "Katherine" });
    const userId = userIdOfOptions(started.options);
    expect(started.options).toMatchObject({ user: { name: "Katherine" }, excludeCredentials: [] });
    const response = await authenticator.create(started.options);
    await resetRoundTrips();
    const res = await postJson("/auth/passkey/signup", { response }, [started.binding]);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ redirect: "https://auth.example.com/" });
    expect(await roundTrips()).toBe(1);
    const [user] = await rawSql("SELECT email, name FROM users WHERE id = $1", [userId]);
    expect(user).toEqual({ email: null, name: "Katherine" });
    const orgs = await rawSql("SELECT o.personal, m.role FROM organizations o JOIN memberships m ON m.org_id = o.id WHERE o.personal_user_id = $1", [userId]);
    expect(orgs).toEqual([{ personal: true, role: "owner" }]);
    expect(await footprint(userId, String(started.options.challenge))).toEqual({ users: 1, passkeys: 1, sessions: 1, audit: 1, consumed: true });
    expect((await sessionRow(refreshSessionId(res)))?.amr).toEqual(["hwk", "user"]);
    expect(await rawSql("SELECT action, target_id, metadata FROM audit_events WHERE subject_user_id = $1 AND action IN ('user.create', 'signin.success') ORDER BY action", [userId])).toEqual([
      { action: "signin.success", target_id: refreshSessionId(res), metadata: { method: "passkey", new_user: true } },
      { action: "user.create", target_id: userId, metadata: { method: "passkey" } },
    ]);

    // And the new passkey signs the new user in.
    const again = await signInWithPasskey(authenticator);
    expect(again.res.status).toBe(200);
    expect((await sessionRow(refreshSessionId(again.res)))?.user_id).toBe(userId);
  });

  it("a sign-up without a name gets a generated user name and no display name", async () => {
    const started = await startCeremony("signup", {});
    const userId = userIdOfOptions(started.options);
    expect(started.options).toMatchObject({ user: { name: `user-${userId.slice(0, 8)}` } });
    const response = await new SoftAuthenticator().create(started.options);
    const res = await postJson("/auth/passkey/signup", { response }, [started.binding]);
    expect(res.status).toBe(200);
    expect(await rawSql("SELECT email, name FROM users WHERE id = $1", [userId])).toEqual([{ email: null, name: null }]);
  });

  it("registration excludes the user's existing credentials", async () => {
    const userId = await createTestUser();
    const s = await signInAs(userId);
    const authenticator = new SoftAuthenticator();
    const first = await registerPasskey(s.cookieHeader, authenticator);
    expect(first.res.status).toBe(200);
    const started = await startCeremony("register", {}, [s.cookieHeader]);
    expect(started.options.excludeCredentials).toEqual([{ id: first.response.id, type: "public-key" }]);
  });
});

async function callAccount(cookie: string): Promise<string> {
  const res = await callWorker("/account", { headers: { accept: "text/html", cookie } });
  expect(res.status).toBe(200);
  return res.text();
}
