/**
 * `GET /oauth/authorize` and `POST /oauth/consent`: the authorization
 * endpoint of gatehouse as an OAuth 2.1 authorization server
 * (docs/oauth-server.md). The checks are the pure ones of
 * `oauth/authorize-request.ts`; the database is one statement
 * (`db/oauth-authorize.ts`) that reads the client and, when the request can
 * be answered at once, stores the code; a client whose id is a Client ID
 * Metadata Document URL has its document fetched first and its row
 * refreshed in that same statement. An unknown client or an unregistered
 * redirect URI is an error page and never a redirect; every other error goes
 * back to the client with `state` and `iss` (RFC 6749 §4.1.2.1, RFC 9207).
 */
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { authorizeStatement, type MetadataClientRow } from "../db/oauth-authorize";
import { GatehouseError } from "../error";
import { randomBase64Url, sha256Hex } from "../lib/crypto";
import { pageSecurityHeaders } from "../lib/security-headers";
import { limitBody, methodNotAllowed } from "../middleware/csrf";
import {
  authorizationResponseUrl,
  checkAgainstClient,
  parseAuthorizationParams,
  type AuthorizationError,
  type AuthorizationRequest,
  type ClientView,
} from "../oauth/authorize-request";
import { allowedScopes, isClientMetadataUrl } from "../oauth/client-metadata";
import { lookUpClientMetadata } from "../oauth/fetch-client-metadata";
import { loopbackKey } from "../oauth/redirect-uri";
import { describeScopes, IDENTITY_SCOPES } from "../oauth/scopes";
import { ConsentPage } from "../pages/consent";
import { resolveSession, type ResolvedSession } from "../sessions/resolve";
import { signConsentToken, verifyConsentToken } from "../tokens/oauth";

/** Authorization codes live 60 seconds. */
export const CODE_LIFETIME_SECONDS = 60;
/** After `prompt=login`, the sign-in must be at most this old when the user comes back. */
const PROMPT_LOGIN_MAX_AGE_SECONDS = 300;

/**
 * The default resource (access-token audience) when a request names none:
 * gatehouse's userinfo endpoint.
 *
 * @example
 * defaultResource(config); // "https://auth.example.com/oauth/userinfo"
 */
export function defaultResource(config: { authUrl: URL }): string {
  return `${config.authUrl.origin}/oauth/userinfo`;
}

/**
 * An operator acting as a user (impersonation, docs/operators.md "Admin")
 * may not grant applications access in that user's name, nor receive
 * codes silently: tokens issued to applications would carry no `act`.
 */
function notImpersonated(session: ResolvedSession | null): ResolvedSession | null {
  if (session?.actorId) throw new GatehouseError("Forbidden", "An impersonated session cannot authorize applications.");
  return session;
}

export const oauthAuthorize = new Hono<AppEnv>()
  .get("/authorize", async (c) => {
    const config = c.var.config;
    const url = new URL(c.req.url);
    const parsed = parseAuthorizationParams(url.searchParams, defaultResource(config), { httpLoopback: config.development });
    if (parsed.kind === "fatal") throw requestInvalid(parsed.reason);
    const session = notImpersonated(await resolveSession(c));
    const request = parsed.result.ok ? parsed.result.request : null;
    // prompt=login and prompt=consent must show a page; no prompt or prompt=none answer at once when they can.
    const tryIssue = session !== null && request !== null && (request.prompt === null || request.prompt === "none");
    const code = tryIssue ? randomBase64Url() : null;
    const document = await metadataClient(c, parsed.clientId, request?.scopes ?? []);
    const outcome = await authorizeStatement(await c.var.db(), {
      clientId: parsed.clientId,
      document,
      session: session ? { sessionId: session.sessionId, userId: session.userId } : null,
      maxAge: request?.maxAge ?? null,
      issue: code !== null && request !== null ? await codeToIssue(c, request, code, "remembered", null) : null,
    });
    const check = checkAgainstClient(parsed, outcome.client, defaultResource(config));
    if (check.kind === "fatal") throw requestInvalid(check.reason);
    if (check.kind === "error") return backToClient(c, parsed.redirectUri, check.error, parsed.state);
    const req = check.request;
    if (outcome.issued && code !== null) return backToClient(c, req.redirectUri, { code }, req.state);

    const signedIn = session !== null && outcome.sessionLive && outcome.fresh && req.prompt !== "login";
    if (!signedIn) {
      if (req.prompt === "none") return backToClient(c, req.redirectUri, { error: "login_required", description: "the user is not signed in" }, req.state);
      return toSignIn(c, url, req);
    }
    if (req.prompt === "none") {
      return backToClient(c, req.redirectUri, { error: "consent_required", description: "the user has not approved this client" }, req.state);
    }
    // Signed in, and either consent is missing or prompt=consent asked to show the page.
    return consentPage(c, outcome.client!, req, session, url.search.slice(1), outcome.orgs);
  })
  .all("/authorize", methodNotAllowed("GET"))
  .post("/consent", limitBody(8192), async (c) => {
    const config = c.var.config;
    // Only our own consent page may post here (a missing or `null` Origin is refused too).
    if (c.req.header("origin") !== config.authUrl.origin) throw new GatehouseError("Forbidden", "The consent did not come from this site.");
    const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/x-www-form-urlencoded") throw new GatehouseError("UnsupportedMediaType", "Send the consent form.");
    const form = new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer()));
    const query = form.get("request") ?? "";
    const token = form.get("consent_token") ?? "";
    const decision = form.get("decision");
    if (decision !== "allow" && decision !== "deny") throw new GatehouseError("InvalidRequest", "The consent form is incomplete.");
    // Org-scoped consent: the organization the user chose (a member's; checked in the statement), or none.
    const org = form.get("org") ?? "";
    if (org !== "" && !UUID.test(org)) throw new GatehouseError("InvalidRequest", "The consent form names no valid organization.");
    const session = notImpersonated(await resolveSession(c));
    if (!session) throw new GatehouseError("Unauthorized", "Sign in again, then approve the application.");
    const now = new Date();
    const bound = await verifyConsentToken(config, token, {
      userId: session.userId,
      sessionId: session.sessionId,
      requestHash: await sha256Hex(query),
      now,
    });
    if (!bound) throw new GatehouseError("Forbidden", "This consent form is not for this sign-in or has expired.");
    // The token proves this exact request passed every check when the page was shown.
    const parsed = parseAuthorizationParams(new URLSearchParams(query), defaultResource(config), { httpLoopback: config.development });
    if (parsed.kind === "fatal" || !parsed.result.ok) throw requestInvalid("the consent form's request is not valid");
    const req = parsed.result.request;
    if (decision === "deny") {
      return backToClient(c, req.redirectUri, { error: "access_denied", description: "the user denied the request" }, req.state, 303);
    }
    const code = randomBase64Url();
    const document = await metadataClient(c, req.clientId, req.scopes);
    const outcome = await authorizeStatement(await c.var.db(), {
      clientId: req.clientId,
      document,
      session: { sessionId: session.sessionId, userId: session.userId },
      maxAge: req.maxAge,
      issue: await codeToIssue(c, req, code, "granted", org === "" ? null : org),
      context: c.var.request,
    });
    if (!outcome.orgOk) throw new GatehouseError("Forbidden", "You are not a member of that organization.");
    const check = checkAgainstClient(parsed, outcome.client, defaultResource(config));
    if (check.kind === "fatal") throw requestInvalid(check.reason);
    if (check.kind === "error") return backToClient(c, req.redirectUri, check.error, req.state, 303);
    if (outcome.issued) return backToClient(c, req.redirectUri, { code }, req.state, 303);
    return backToClient(c, req.redirectUri, { error: "login_required", description: "the sign-in ended; start again" }, req.state, 303);
  })
  .all("/consent", methodNotAllowed("POST"));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function codeToIssue(c: Context<AppEnv>, req: AuthorizationRequest, code: string, consent: "remembered" | "granted", orgId: string | null) {
  const loopback = loopbackKey(req.redirectUri);
  return {
    codeHash: await sha256Hex(code),
    redirectUri: req.redirectUri,
    redirectKeys: loopback === null ? [req.redirectUri] : [req.redirectUri, loopback],
    codeChallenge: req.codeChallenge,
    scopes: req.scopes,
    resource: req.resource,
    defaultResource: defaultResource(c.var.config),
    nonce: req.nonce,
    consent,
    orgId,
    lifetimeSeconds: CODE_LIFETIME_SECONDS,
  };
}

/**
 * For a Client ID Metadata Document client (an https URL as client_id): its
 * validated document as the row to upsert, fetched safely or from the KV
 * cache; a document that cannot be used is the error page, before any
 * database work. Null for a registered client.
 */
async function metadataClient(c: Context<AppEnv>, clientId: string, requestedScopes: readonly string[]): Promise<MetadataClientRow | null> {
  if (!isClientMetadataUrl(clientId, { httpLoopback: c.var.config.development })) return null;
  const doc = await lookUpClientMetadata(c.var.kv, clientId);
  if (!doc.ok) throw requestInvalid(doc.problem);
  return { ...doc.value, scopes: allowedScopes(doc.value, requestedScopes), resources: c.var.config.allowedAudiences };
}

function requestInvalid(reason: string): GatehouseError {
  return new GatehouseError("AuthorizationRequestInvalid", `The authorization request cannot be answered: ${reason}.`);
}

function backToClient(
  c: Context<AppEnv>,
  redirectUri: string,
  result: { code: string } | AuthorizationError,
  state: string | null,
  status: 302 | 303 = 302,
): Response {
  c.header("Cache-Control", "no-store");
  return c.redirect(authorizationResponseUrl(redirectUri, result, state, c.var.config.authUrl.origin), status);
}

/** To the sign-in page, which returns here; `prompt=login` becomes a freshness demand so it cannot loop. */
function toSignIn(c: Context<AppEnv>, url: URL, req: AuthorizationRequest): Response {
  const back = new URLSearchParams(url.searchParams);
  if (req.prompt === "login") {
    back.delete("prompt");
    // A positive bound the new sign-in meets (max_age=0 would send the user round forever).
    const bound = req.maxAge !== null && req.maxAge > 0 ? Math.min(req.maxAge, PROMPT_LOGIN_MAX_AGE_SECONDS) : PROMPT_LOGIN_MAX_AGE_SECONDS;
    back.set("max_age", String(bound));
  }
  c.header("Cache-Control", "no-store");
  return c.redirect(`/auth/signin?redirect_to=${encodeURIComponent(`/oauth/authorize?${back.toString()}`)}`, 302);
}

async function consentPage(
  c: Context<AppEnv>,
  client: ClientView,
  req: AuthorizationRequest,
  session: ResolvedSession,
  query: string,
  orgs: readonly { id: string; name: string; role: string }[],
) {
  const config = c.var.config;
  const resourceHost = req.resource === defaultResource(config) ? null : new URL(req.resource).host;
  const consentToken = await signConsentToken(config, {
    userId: session.userId,
    sessionId: session.sessionId,
    requestHash: await sha256Hex(query),
    now: new Date(),
  });
  const html =
    "<!doctype html>" +
    String(
      ConsentPage({
        clientName: client.name,
        orgName: client.orgName,
        redirectHost: new URL(req.redirectUri).host,
        documentHost: client.metadataUrl === null ? null : new URL(client.metadataUrl).host,
        // Access to an API (any scope beyond identity) may be granted for one of the user's organizations.
        orgs: req.scopes.some((s) => !(IDENTITY_SCOPES as readonly string[]).includes(s)) ? orgs : [],
        permissions: describeScopes(req.scopes, resourceHost ?? config.authUrl.host),
        resourceHost,
        signedInAs: session.profile.email ?? session.profile.name ?? "you",
        request: query,
        consentToken,
        t: c.var.t,
      }),
    );
  // The forms answer with a redirect to the client, so no `form-action 'self'` (see pageSecurityHeaders).
  return c.html(html, 200, { ...pageSecurityHeaders({ hasForms: true, linksToProviders: true }), "Cache-Control": "no-store" });
}

