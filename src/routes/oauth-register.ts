/**
 * `POST /oauth/register`: RFC 7591 dynamic client registration, for MCP
 * clients and other software that registers itself at run time
 * (docs/oauth-server.md). Off unless OAUTH_DYNAMIC_REGISTRATION=open: then
 * anyone may register a public client, limited per client address
 * (AUTH_RATE_LIMITER, bucket `oauth-register`). A registration is one
 * INSERT; the cron deletes registrations nobody used within a day.
 */
import { Hono } from "hono/tiny";
import { cors } from "hono/cors";
import type { AppEnv } from "../context";
import { registerDynamicClient } from "../db/oauth-clients";
import { GatehouseError } from "../error";
import { limitBody } from "../middleware/csrf";
import { rateLimit } from "../middleware/rate-limit";
import { parseDynamicRegistration } from "../oauth/dynamic-registration";

const MAX_BODY = 8192;
const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" };

export const oauthRegister = new Hono<AppEnv>()
  .use("/register", async (c, next) => {
    // Closed: as if the endpoint did not exist (the metadata does not list it either).
    if (c.var.config.dynamicRegistration !== "open") throw new GatehouseError("NotFound", "Dynamic client registration is not enabled here.");
    await next();
  })
  .use("/register", cors({ origin: "*", allowMethods: ["POST"], allowHeaders: ["Content-Type"], maxAge: 600 }), rateLimit("oauth-register"))
  .post("/register", limitBody(MAX_BODY), async (c) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/json") return c.json({ error: "invalid_client_metadata", error_description: "send application/json" }, 400, NO_STORE);
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(await c.req.arrayBuffer()));
    } catch {
      return c.json({ error: "invalid_client_metadata", error_description: "the body is not JSON" }, 400, NO_STORE);
    }
    const parsed = parseDynamicRegistration(body);
    if (!parsed.ok) return c.json({ error: parsed.error, error_description: parsed.description }, 400, NO_STORE);
    const r = parsed.value;
    const { clientId, issuedAt } = await registerDynamicClient(await c.var.db(), { registration: r, resources: c.var.config.allowedAudiences });
    return c.json(
      {
        client_id: clientId,
        client_id_issued_at: issuedAt,
        client_name: r.name,
        redirect_uris: r.redirectUris,
        application_type: r.applicationType,
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        scope: r.scopes.join(" "),
      },
      201,
      NO_STORE,
    );
  });
