/**
 * An OAuth client's access token is for the resource the user consented
 * to. Even when that resource is one of ALLOWED_AUDIENCES, it must not open
 * gatehouse's own org API (/api/orgs), which the user never granted; that
 * API takes OAuth clients' tokens only for its own resource `${AUTH_URL}/api`.
 */
import type * as oauth from "oauth4webapi";
import { beforeAll, describe, expect, it } from "vitest";
import { accessTokenFor, api } from "../helpers/orgs";
import { createTestUser, signInAs, type TestSession } from "../helpers/sessions";
import { codeExchange, codeFor, createClient, discover, tokenRequest } from "./helpers";

let as: oauth.AuthorizationServer;
let browser: TestSession;
let userId: string;

beforeAll(async () => {
  as = await discover();
  userId = await createTestUser();
  browser = await signInAs(userId);
});

describe("gatehouse's own API and OAuth clients' tokens", () => {
  it("a token issued to an OAuth client for https://api.example.com is refused by /api/orgs", async () => {
    const app = await createClient({ redirectUris: ["https://own-api.example.org/cb"] });
    const got = await codeFor(as, browser.cookieHeader, app, { scope: "openid notes:read", resource: "https://api.example.com" });
    const { access_token } = (await (await tokenRequest(codeExchange(app, got))).json()) as { access_token: string };
    const res = await api(access_token, "GET", "/api/orgs");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("invalid_token");
    // The same user's own token from POST /auth/token still works.
    expect((await api(await accessTokenFor(userId), "GET", "/api/orgs")).status).toBe(200);
  });
});
