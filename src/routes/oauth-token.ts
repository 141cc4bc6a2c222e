/**
 * `POST /oauth/token` (authorization_code and refresh_token grants) and
 * `POST /oauth/revoke` (RFC 7009). Form bodies, OAuth JSON errors
 * (RFC 6749 §5.2), `Cache-Control: no-store`, CORS open to any origin
 * without credentials (public SPA clients call it from their own origin;
 * nothing here reads a cookie). Each request is one database round trip.
 */
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import { cors } from "hono/cors";
import type { AppEnv } from "../context";
import { exchangeCode, refreshClientFamily, revokeClientFamily, authenticateClient, type OAuthUser, type TokenOrg } from "../db/oauth-tokens";
import { denySessions, denyTokenId } from "../kv/denylist";
import { sha256Hex } from "../lib/crypto";
import { GatehouseError } from "../error";
import { describeError, log } from "../lib/log";
import { limitBody, methodNotAllowed } from "../middleware/csrf";
import { rateLimit } from "../middleware/rate-limit";
import { count } from "../observability/metrics";
import { s256Challenge } from "../oauth/pkce";
import { clientAuthentication, formFields, parseTokenRequest, type ClientCredentials, type TokenError } from "../oauth/token-request";
import { newSessionFor } from "../sessions/browser-session";
import { familyForRotation, hashSecret, mintRefreshToken, mintRotatedSecret, parseRefreshToken, refreshTokenValue } from "../sessions/refresh-token";
import { signAccessToken } from "../tokens/access-token";
import { FEDERATED_AMR, signIdToken, verifyOwnAccessToken } from "../tokens/oauth";

const MAX_BODY = 8192;

/** CORS for any origin, never with credentials: these endpoints read no cookie. */
function publicCors() {
  return cors({ origin: "*", allowMethods: ["POST"], allowHeaders: ["Content-Type", "Authorization"], maxAge: 600 });
}

/**
 * An OAuth error response (RFC 6749 §5.2); `invalid_client` is a 401 with
 * `WWW-Authenticate: Basic`.
 *
 * @example
 * return oauthError(c, { error: "invalid_grant", description: "…" });
 */
export function oauthError(c: Context<AppEnv>, error: TokenError): Response {
  const status = error.error === "invalid_client" ? 401 : 400;
  const headers: Record<string, string> = { "Cache-Control": "no-store", Pragma: "no-cache" };
  if (status === 401) headers["WWW-Authenticate"] = 'Basic realm="gatehouse"';
  return c.json({ error: error.error, error_description: error.description }, status, headers);
}

async function readForm(c: Context<AppEnv>): Promise<Map<string, string> | TokenError> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") return { error: "invalid_request", description: "send application/x-www-form-urlencoded" };
  const fields = formFields(new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer())));
  return fields ?? { error: "invalid_request", description: "a parameter is repeated" };
}

async function secretHashOf(client: ClientCredentials): Promise<string | null> {
  return client.secret === null ? null : sha256Hex(client.secret);
}

/**
 * Denylists a family's access tokens (by `sid`) for as long as one can live.
 * `strict` (a revocation the client asked for): a KV failure is a 503 so the
 * client retries; otherwise (replay, reuse: the answer is an error anyway and
 * the database already revoked the family) it is logged.
 */
async function denyFamily(c: Context<AppEnv>, familyId: string | null, strict = false): Promise<void> {
  if (familyId === null) return;
  try {
    await denySessions(c.var.kv, [familyId], c.var.config.sessions.accessTokenTtlSeconds + 60);
  } catch (error) {
    log("error", "denylist_write_failed", { count: 1, ...describeError(error) });
    if (strict) throw new GatehouseError("StorageUnavailable", "The revocation could not be propagated; try again.", { cause: error });
  }
}

async function tokenResponse(
  c: Context<AppEnv>,
  input: {
    user: OAuthUser;
    clientId: string;
    scopes: string[];
    resource: string;
    familyId: string;
    authTime: Date;
    /** The session's RFC 8176 methods; null (rows from before they were recorded): federated. */
    amr: string[] | null;
    nonce: string | null;
    refreshToken: string | null;
    /** Org-scoped consent: the organization and the user's current role there (`org`, `roles` claims). */
    org: TokenOrg | null;
  },
): Promise<Response> {
  const config = c.var.config;
  const now = new Date();
  const scope = input.scopes.join(" ");
  const { token, expiresIn } = await signAccessToken(config, {
    userId: input.user.id,
    sessionId: input.familyId,
    audience: input.resource,
    scope,
    clientId: input.clientId,
    org: input.org ?? undefined,
    now,
  });
  const body: Record<string, unknown> = { access_token: token, token_type: "Bearer", expires_in: expiresIn, scope };
  if (input.scopes.includes("openid")) {
    body.id_token = await signIdToken(config, { user: input.user, clientId: input.clientId, nonce: input.nonce, authTime: input.authTime, amr: input.amr ?? FEDERATED_AMR, scopes: input.scopes, now });
  }
  if (input.refreshToken !== null) body.refresh_token = input.refreshToken;
  return c.json(body, 200, { "Cache-Control": "no-store", Pragma: "no-cache" });
}

export const oauthToken = new Hono<AppEnv>()
  .use("/token", publicCors(), rateLimit("oauth-token"))
  .use("/revoke", publicCors(), rateLimit("oauth-token"))
  .post("/token", limitBody(MAX_BODY), async (c) => {
    const fields = await readForm(c);
    if (!(fields instanceof Map)) return oauthError(c, fields);
    const auth = clientAuthentication(c.req.header("authorization"), fields, { httpLoopback: c.var.config.development });
    if (!auth.ok) return oauthError(c, auth.error);
    const parsed = parseTokenRequest(fields);
    if (!parsed.ok) return oauthError(c, parsed.error);
    const client = auth.client;
    const secretHash = await secretHashOf(client);
    const config = c.var.config;
    const request = parsed.request;

    if (request.grant === "authorization_code") {
      const challenge = await s256Challenge(request.codeVerifier);
      if (challenge === null) return oauthError(c, { error: "invalid_grant", description: "malformed code_verifier" });
      const family = await mintRefreshToken();
      const result = await exchangeCode(await c.var.db(), {
        codeHash: await sha256Hex(request.code),
        clientId: client.clientId,
        secretHash,
        redirectUri: request.redirectUri,
        codeChallenge: challenge,
        resource: request.resource,
        family: newSessionFor(c, family),
      });
      switch (result.outcome) {
        case "invalid_client":
          return oauthError(c, { error: "invalid_client", description: "client authentication failed" });
        case "invalid_grant":
          return oauthError(c, { error: "invalid_grant", description: "the code is invalid, expired, or bound to another client, redirect_uri, verifier or resource" });
        case "replayed":
          log("warn", "authorization_code_replayed", { clientId: client.clientId });
          await denyFamily(c, result.familyId);
          return oauthError(c, { error: "invalid_grant", description: "the code was already used; tokens issued from it are revoked" });
        case "issued":
          return tokenResponse(c, {
            user: result.user,
            clientId: client.clientId,
            scopes: result.scopes,
            resource: result.resource,
            familyId: result.familyId,
            authTime: result.authTime,
            amr: result.amr,
            nonce: result.nonce,
            org: result.org,
            refreshToken: result.scopes.includes("offline_access") ? family.token : null,
          });
      }
    }

    const presented = parseRefreshToken(request.refreshToken);
    if (!presented) return oauthError(c, { error: "invalid_grant", description: "unknown refresh token" });
    const next = await mintRotatedSecret();
    const nextFamily = await familyForRotation(presented.familySecret);
    const result = await refreshClientFamily(await c.var.db(), {
      clientId: client.clientId,
      secretHash,
      sessionId: presented.sessionId,
      presentedHash: await hashSecret(presented.secret),
      presentedFamilyHash: presented.familySecret === null ? null : await hashSecret(presented.familySecret),
      nextHash: next.secretHash,
      nextFamilyHash: nextFamily.familySecretHash,
      refreshTtlSeconds: config.sessions.refreshTtlSeconds,
      graceSeconds: config.sessions.refreshGraceSeconds,
      resource: request.resource,
      context: c.var.request,
    });
    switch (result.outcome) {
      case "invalid_client":
        return oauthError(c, { error: "invalid_client", description: "client authentication failed" });
      case "rejected":
        count(c, { event: "refresh", provider: "oauth", code: "rejected" });
        return oauthError(c, { error: "invalid_grant", description: "the refresh token is invalid, revoked, expired, or another client's" });
      case "wrong_resource":
        count(c, { event: "refresh", provider: "oauth", code: "wrong_resource" });
        return oauthError(c, { error: "invalid_target", description: "a refresh token keeps the resource it was issued for" });
      case "reused":
        log("warn", "oauth_refresh_token_reused", { clientId: client.clientId });
        count(c, { event: "refresh", provider: "oauth", code: "reuse_detected" });
        await denyFamily(c, result.familyId);
        return oauthError(c, { error: "invalid_grant", description: "the refresh token was already used; the grant is revoked" });
      case "refreshed": {
        count(c, { event: "refresh", provider: "oauth", code: result.refresh.outcome });
        // RFC 6749 §6: a narrower scope may be asked for, never a wider one.
        const scopes = request.scopes === null ? result.scopes : result.scopes.filter((s) => request.scopes!.includes(s));
        return tokenResponse(c, {
          user: result.user,
          clientId: client.clientId,
          scopes,
          resource: result.resource,
          familyId: result.refresh.sessionId,
          authTime: result.authTime,
          amr: result.amr,
          nonce: null,
          org: result.org,
          // Within the grace window the rotated secret is not known here: the client keeps the one the winner got.
          refreshToken: result.refresh.outcome === "rotated" ? refreshTokenValue(result.refresh.sessionId, nextFamily.familySecret, next.secret) : null,
        });
      }
    }
  })
  .all("/token", methodNotAllowed("POST"))
  .post("/revoke", limitBody(MAX_BODY), async (c) => {
    const fields = await readForm(c);
    if (!(fields instanceof Map)) return oauthError(c, fields);
    const auth = clientAuthentication(c.req.header("authorization"), fields, { httpLoopback: c.var.config.development });
    if (!auth.ok) return oauthError(c, auth.error);
    const token = fields.get("token");
    if (!token) return oauthError(c, { error: "invalid_request", description: "token is required" });
    const client = auth.client;
    const secretHash = await secretHashOf(client);
    const invalidClient = () =>
      oauthError(c, { error: "invalid_client", description: "client authentication failed" });
    const refresh = parseRefreshToken(token);
    if (refresh) {
      const result = await revokeClientFamily(await c.var.db(), {
        clientId: client.clientId,
        secretHash,
        sessionId: refresh.sessionId,
        presentedHash: await hashSecret(refresh.secret),
        presentedFamilyHash: refresh.familySecret === null ? null : await hashSecret(refresh.familySecret),
      });
      if (!result.clientOk) return invalidClient();
      for (const id of result.revoked) await denyFamily(c, id, true);
      return c.body(null, 200, { "Cache-Control": "no-store" });
    }
    if (!(await authenticateClient(await c.var.db(), client.clientId, secretHash))) return invalidClient();
    const claims = await verifyOwnAccessToken(c.var.config, token, new Date());
    // RFC 7009 §2.2: an invalid token, or one issued to another client, is answered 200 and ignored.
    if (claims && claims.clientId === client.clientId) {
      const ttl = claims.exp - Math.floor(Date.now() / 1000) + 60;
      try {
        await denyTokenId(c.var.kv, claims.jti, ttl);
      } catch (error) {
        log("error", "denylist_write_failed", { count: 1, ...describeError(error) });
        throw new GatehouseError("StorageUnavailable", "The revocation could not be stored; try again.", { cause: error });
      }
    }
    return c.body(null, 200, { "Cache-Control": "no-store" });
  })
  .all("/revoke", methodNotAllowed("POST"));
