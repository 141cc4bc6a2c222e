/**
 * Facebook Pages of organizations (docs/orgs.md, "Connecting Facebook Pages"):
 *
 * - {@link prepareFacebookConnect}: the callback's step between the code
 *   exchange and its ONE database batch: long-lived user token, `/me/accounts`,
 *   every token sealed. Any failure here throws before the batch, so a
 *   connect is stored completely or not at all.
 * - `POST /api/orgs/:org/providers/facebook/disconnect` (Bearer, owner or
 *   admin): soft-deletes the caller's Facebook tokens of that org, in one
 *   statement with its audit row.
 */
import { Hono } from "hono/tiny";
import type { Context } from "hono";
import type { AppEnv } from "../context";
import { disconnectProvider } from "../db/facebook-connect";
import type { PagesConnectInput } from "../db/facebook-connect";
import { GatehouseError } from "../error";
import { seal } from "../lib/crypto";
import { log } from "../lib/log";
import { pageTokenAad, providerTokenPlaintext, userTokenAad } from "../orgs/provider-token-secret";
import { providerOptions, type ProviderTokenSet, type SignInProvider } from "../providers";
import { fetchFacebookConnection } from "../providers/facebook-pages";
import { requireBearer } from "../middleware/bearer";
import { orgNotFound, orgParam } from "./org-request";

/** What the callback needs from a prepared connect. */
export interface PreparedConnect {
  /** The long-lived user token: stored for the sign-in's own row too. */
  userTokens: ProviderTokenSet;
  /** For `runSignInBatch({ connect })`. */
  connect: PagesConnectInput;
  /** The user has more Pages than gatehouse reads; the redirect says so (`pages_capped=1`). */
  capped: boolean;
}

/**
 * Runs the Graph side of a connect of `userId` for `orgId` and seals what it
 * got: the user token with `userTokenAad({ kind: "org", orgId, userId }, provider, subject)`,
 * each page token with `pageTokenAad(orgId, userId, provider, pageId)`. Page
 * tokens carry the page scopes the user granted. Throws the provider's `GatehouseError`s.
 *
 * @example
 * const prepared = await prepareFacebookConnect(c, provider, { orgId, userId, subject: profile.subject, tokens });
 */
export async function prepareFacebookConnect(
  c: Context<AppEnv>,
  provider: SignInProvider,
  input: { orgId: string; userId: string; subject: string; tokens: ProviderTokenSet },
): Promise<PreparedConnect> {
  const config = c.var.config;
  const providerConfig = config.providers.find((p) => p.id === provider.id);
  if (provider.kind !== "facebook" || !providerConfig) throw new GatehouseError("InvalidRequest", "Only Facebook Pages can be connected.");
  const { userToken, pages, capped } = await fetchFacebookConnection(providerConfig, providerOptions(config), input.tokens);

  const keys = config.encryptionKeys;
  const sealedUser = await seal(keys, providerTokenPlaintext(userToken), userTokenAad({ kind: "org", orgId: input.orgId, userId: input.userId }, provider.id, input.subject));
  const pageScopes = userToken.scopes.filter((s) => config.facebook.pageScopes.includes(s));
  const pageTokens = await Promise.all(
    pages.flatMap((page) =>
      page.accessToken === null
        ? []
        : [
            seal(keys, providerTokenPlaintext({ accessToken: page.accessToken, scopes: pageScopes }), pageTokenAad(input.orgId, input.userId, provider.id, page.id)).then(
              (sealed) => ({ externalPageId: page.id, token: { ...sealed, scopes: pageScopes, expiresAt: null } }),
            ),
          ],
    ),
  );
  return {
    userTokens: userToken,
    capped,
    connect: {
      orgId: input.orgId,
      pages: pages.map((p) => ({ externalId: p.id, name: p.name, category: p.category, tasks: p.tasks })),
      userToken: { ...sealedUser, scopes: userToken.scopes, expiresAt: userToken.expiresAt },
      pageTokens,
      listComplete: !capped,
    },
  };
}

/**
 * `POST /:org/providers/facebook/disconnect`, mounted by `orgs.ts` behind its
 * Bearer CORS and no-store middleware.
 *
 * @example
 * new Hono<AppEnv>().use(bearerCors()).route("/", orgFacebook);
 */
export const orgFacebook = new Hono<AppEnv>().post("/:org/providers/facebook/disconnect", requireBearer(), async (c) => {
  const org = orgParam(c.req.param("org"));
  const result = await disconnectProvider(await c.var.db(), { userId: c.var.caller.userId, org, provider: "facebook", context: c.var.request });
  if (!result.ok) {
    if (result.refusal === "not_member") throw orgNotFound();
    throw new GatehouseError("Forbidden", "Only owners and admins can disconnect Facebook from this organization.");
  }
  log("info", "provider_disconnected", { provider: "facebook", userTokens: result.userTokens, pageTokens: result.pageTokens });
  return c.json({ disconnected: { provider: "facebook", userTokens: result.userTokens, pageTokens: result.pageTokens } });
});
