/**
 * The cron's OAuth work: week-old codes and revoked grants go; a family
 * whose code was replayed is revoked before its code row can disappear.
 */
import type * as oauth from "oauth4webapi";
import { beforeAll, describe, expect, it } from "vitest";
import { runHousekeeping } from "../../src/housekeeping";
import { scopedEnv } from "../helpers/app";
import { rawSql } from "../helpers/neon-local";
import { createTestUser, signInAs, type TestSession } from "../helpers/sessions";
import { clientRows, codeExchange, codeFor, createClient, discover, tokenRequest } from "./helpers";

let as: oauth.AuthorizationServer;
let browser: TestSession;

beforeAll(async () => {
  as = await discover();
  browser = await signInAs(await createTestUser());
});

describe("OAuth housekeeping", () => {
  it("deletes codes expired a week ago and grants revoked a week ago, and revokes families of replayed codes", async () => {
    const app = await createClient({ redirectUris: ["https://hk.example.org/cb"] });
    const got = await codeFor(as, browser.cookieHeader, app, { scope: "openid offline_access" });
    expect((await tokenRequest(codeExchange(app, got))).status).toBe(200);
    // A replay that raced the exchange only marked the code (the family row was not yet visible to it).
    await rawSql("UPDATE oauth_codes SET replayed_at = now() WHERE client_id = $1", [app.clientId]);
    const old = await createClient({ redirectUris: ["https://hk-old.example.org/cb"] });
    await codeFor(as, browser.cookieHeader, old, { scope: "openid" });
    await rawSql("UPDATE oauth_codes SET expires_at = now() - interval '8 days' WHERE client_id = $1", [old.clientId]);
    await rawSql("UPDATE oauth_grants SET revoked_at = now() - interval '8 days' WHERE client_id = $1", [old.clientId]);

    const counts = await runHousekeeping(scopedEnv("oauth-housekeeping"), new Date());
    expect(counts!.codes).toBeGreaterThanOrEqual(1);
    expect(counts!.grants).toBeGreaterThanOrEqual(1);
    expect(await clientRows(old.clientId)).toMatchObject({ codes: 0, grants: 0 });
    expect(await clientRows(app.clientId)).toMatchObject({ codes: 1, grants: 1, sessions: 1, revoked: 1 });
  });
});
