/**
 * Provider-token reads for an organization's backends: HTTP Basic service
 * clients (`AUTH_SERVICE_CLIENTS`) only. Every failure after authentication
 * is the same 404, whether the client is not allowed for the org, the org or
 * page does not exist, the page is gone or there is no active token. Every
 * successful read writes its audit row in the statement that reads.
 */
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import { enforceRateLimit } from "../lib/rate-limit";
import type { AppEnv } from "../context";
import { readPageToken } from "../db/pages";
import { readUserToken } from "../db/provider-tokens";
import { GatehouseError } from "../error";
import { log } from "../lib/log";
import { openAccessToken, storedPageTokenAad, storedUserTokenAad } from "../orgs/provider-token-secret";
import { authenticateServiceClient, type AuthenticatedServiceClient } from "../orgs/service-clients";
import { orgParam, uuidParam } from "./org-request";

const PROVIDER_ID = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * The service-client token reads, mounted by `orgs.ts` before its Bearer routes.
 *
 * @example
 * new Hono<AppEnv>().route("/", orgTokens);
 */
export const orgTokens = new Hono<AppEnv>()
  .post("/:org/pages/:pageId/token", async (c) => {
    const client = await requireServiceClient(c);
    const org = orgParam(c.req.param("org"));
    const pageId = uuidParam(c.req.param("pageId"));
    const row = await readPageToken(await c.var.db(), { clientId: client.id, allowedOrgs: client.orgs, org, pageId, context: c.var.request });
    if (!row) throw tokenNotFound();
    const accessToken = await openAccessToken(c.var.config.encryptionKeys, row, storedPageTokenAad({ ...row, externalPageId: row.page.externalId }));
    if (accessToken === null) throw unreadable(row.tokenId);
    return c.json({
      accessToken,
      tokenType: "page",
      provider: row.provider,
      expiresAt: row.expiresAt,
      scopes: row.scopes,
      page: row.page,
    });
  })
  .post("/:org/members/:userId/provider-tokens/:provider", async (c) => {
    const client = await requireServiceClient(c);
    const org = orgParam(c.req.param("org"));
    const userId = uuidParam(c.req.param("userId"));
    const provider = c.req.param("provider");
    if (!PROVIDER_ID.test(provider)) throw tokenNotFound();
    const row = await readUserToken(await c.var.db(), { clientId: client.id, allowedOrgs: client.orgs, org, userId, provider, context: c.var.request });
    if (!row) throw tokenNotFound();
    const accessToken = await openAccessToken(c.var.config.encryptionKeys, row, storedUserTokenAad(row));
    if (accessToken === null) throw unreadable(row.tokenId);
    return c.json({ accessToken, tokenType: "user", provider: row.provider, expiresAt: row.expiresAt, scopes: row.scopes, userId: row.userId });
  });

/** Basic credentials of a configured service client, or 401 (a Bearer token included). */
async function requireServiceClient(c: Context<AppEnv>): Promise<AuthenticatedServiceClient> {
  // Per address, before the secret is checked: guessing is bounded, and so is the database work after it.
  await enforceRateLimit(c.var.refreshRateLimiter, "service", c.req.header("cf-connecting-ip"));
  const client = await authenticateServiceClient(c.var.config.serviceClients, c.req.header("authorization"));
  if (!client) {
    throw new GatehouseError("Unauthorized", "Service client credentials are required (HTTP Basic).", {
      headers: { "WWW-Authenticate": 'Basic realm="gatehouse", charset="UTF-8"' },
    });
  }
  return client;
}

function tokenNotFound(): GatehouseError {
  return new GatehouseError("NotFound", "No such token.");
}

/** The row exists but cannot be decrypted: an operator problem (a removed key version), never the caller's. */
function unreadable(tokenId: string): GatehouseError {
  log("error", "provider_token_unreadable", { tokenId });
  return new GatehouseError("Internal", "The stored token could not be decrypted.");
}
