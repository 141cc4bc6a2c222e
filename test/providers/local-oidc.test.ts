/**
 * The real certified OpenID provider (`oidc-provider`, scripts/local-oidc)
 * that test/global-setup.ts starts on localhost: the whole flow with its
 * development login, no fakes. This never skips: without the provider the
 * first test fails and says why (F14).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loginAtLocalProvider } from "../helpers/oidc-login";
import { configured, expectFailure, newRequest } from "./support";

const issuer = (env as unknown as Record<string, string | undefined>).OIDC_LOCAL_ISSUER;
const local = () => configured("local");

async function authorizeLocal(username: string) {
  const provider = local();
  const request = newRequest(provider);
  const callbackUrl = await loginAtLocalProvider((await provider.authorizationUrl(request)).href, username);
  return { provider, request, callbackUrl, input: { ...request, callbackUrl } };
}

describe("local OpenID provider", () => {
  it("is started by the test harness and configured as the `local` provider", () => {
    expect(issuer, "test/global-setup.ts must start scripts/local-oidc and pass its issuer to testBindings({ oidcIssuer })").toMatch(
      /^http:\/\/localhost:\d+$/,
    );
  });

  it("signs a user in end to end: PKCE, nonce, iss, ES256 id_token, UserInfo", async () => {
    const { provider, input, callbackUrl } = await authorizeLocal("alice");
    expect(callbackUrl.origin + callbackUrl.pathname).toBe("https://auth.example.com/auth/callback/local");
    expect(callbackUrl.searchParams.get("iss")).toBe(issuer);
    const { profile, tokens } = await provider.completeSignIn(input);
    expect(profile).toEqual({
      provider: "local",
      subject: "alice",
      issuer,
      email: "alice@local.test",
      emailVerified: true,
      name: "alice",
      image: null,
    });
    expect(tokens.accessToken.length).toBeGreaterThan(20);
    expect(tokens.scopes).toEqual(["openid", "email", "profile"]);
    expect(tokens.expiresAt).toBeInstanceOf(Date);
  });

  it("signs in in one step: a username form (no password), then straight back to the callback (no consent screen)", async () => {
    const provider = local();
    const jar: string[] = [];
    const get = async (url: string | URL, init: RequestInit = {}) => {
      const res = await fetch(url, { redirect: "manual", ...init, headers: { ...(init.headers as Record<string, string>), cookie: jar.join("; ") } });
      for (const c of res.headers.getSetCookie()) jar.push(c.split(";")[0]!);
      return res;
    };
    let res = await get((await provider.authorizationUrl(newRequest(provider))).href);
    while (res.status === 302 || res.status === 303) {
      const next = new URL(res.headers.get("location")!, issuer);
      await res.body?.cancel();
      res = await get(next);
    }
    const page = await res.text();
    expect(res.status).toBe(200);
    expect(page).toContain('name="login"');
    expect(page).not.toMatch(/type="password"|name="password"/);
    const action = /action="([^"]+)"/.exec(page)![1]!;
    res = await get(new URL(action, issuer), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "prompt=login&login=dora" });
    for (let hops = 0; hops < 4 && new URL(res.headers.get("location") ?? "/", issuer).origin === issuer; hops++) {
      await res.body?.cancel();
      res = await get(new URL(res.headers.get("location")!, issuer));
      // Only redirects from here on: never another form.
      expect([302, 303]).toContain(res.status);
    }
    const callback = new URL(res.headers.get("location")!);
    expect(callback.origin + callback.pathname).toBe("https://auth.example.com/auth/callback/local");
    expect(callback.searchParams.get("code")).toBeTruthy();
  });

  it("refuses a replayed code", async () => {
    const { provider, input } = await authorizeLocal("bob");
    await provider.completeSignIn(input);
    const error = await expectFailure(provider.completeSignIn(input), "OAuthCallback");
    expect(error.extra.providerError).toBe("invalid_grant");
  });

  it("refuses a wrong PKCE verifier", async () => {
    const { provider, input } = await authorizeLocal("carol");
    const error = await expectFailure(provider.completeSignIn({ ...input, codeVerifier: "z".repeat(43) }), "OAuthCallback");
    expect(error.extra.providerError).toBe("invalid_grant");
  });

  it("refuses the callback for another state", async () => {
    const { provider, input } = await authorizeLocal("dave");
    await expectFailure(provider.completeSignIn({ ...input, state: "not-this-one" }), "StateInvalid");
  });
});
