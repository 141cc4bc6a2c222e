/**
 * Facebook Login (manual flow) on one Graph API version from configuration.
 * Not OpenID. The email is treated as unverified, and granted scopes come
 * from /me/permissions: the callback's `granted_scopes` is the browser's word.
 */
import type { AuthorizationServer } from "oauth4webapi";
import type { ProviderConfig } from "../config";
import { providerFailure } from "./failure";
import { getJsonObject, httpOptions, isObject, stringOrNull, type ProfileErrorKind } from "./http";
import { buildAuthorizationUrl, exchangeCode, oauthClient, tokenSet } from "./oauth";
import type { ProviderOptions, SignInProvider } from "./types";
import { toHex } from "../lib/hex";

/** The Graph API host; the version segment always comes from configuration. */
export const GRAPH = "https://graph.facebook.com";
/** What a plain Facebook sign-in asks for; a Pages connect adds FACEBOOK_PAGE_SCOPES. */
export const FACEBOOK_DEFAULT_SCOPES = ["email", "public_profile"] as const;
/** Graph error codes for throttling and outages (the rest reject the request). */
const GRAPH_UNAVAILABLE = new Set([1, 2, 4, 17, 32, 341, 613]);

/**
 * @example
 * const facebook = createFacebook(config, { graphVersion: "v24.0", timeoutMs: 5000 });
 */
export function createFacebook(config: ProviderConfig, options: ProviderOptions): SignInProvider {
  const v = options.graphVersion;
  const as: AuthorizationServer = {
    issuer: "https://www.facebook.com",
    authorization_endpoint: `https://www.facebook.com/${v}/dialog/oauth`,
    token_endpoint: `${GRAPH}/${v}/oauth/access_token`,
  };
  const c = oauthClient(config.id, as, config, "post", httpOptions({ timeoutMs: options.timeoutMs, dialect: graphErrorsAsOAuth }));
  const graph = { timeoutMs: options.timeoutMs, classify: classifyGraphError };

  return {
    id: config.id,
    kind: config.kind,
    name: config.name,
    usesNonce: false,
    defaultScopes: FACEBOOK_DEFAULT_SCOPES,
    authorizationUrl: (request) => buildAuthorizationUrl(c, request),
    async completeSignIn(input) {
      const { tokens } = await exchangeCode(c, input, { oidc: false });
      const proof = await appSecretProof(tokens.access_token, config.clientSecret);
      const me = new URL(`${GRAPH}/${v}/me?fields=id,name,email,picture&appsecret_proof=${proof}`);
      const permissions = new URL(`${GRAPH}/${v}/me/permissions?appsecret_proof=${proof}`);
      const [user, granted] = await Promise.all([
        getJsonObject(config.id, "profile", me, tokens.access_token, graph),
        getJsonObject(config.id, "profile", permissions, tokens.access_token, graph),
      ]);
      if (typeof user.id !== "string") throw providerFailure(config.id, "profile", "OAuthCallback", "missing_id");
      const picture = isObject(user.picture) && isObject(user.picture.data) ? user.picture.data : undefined;
      return {
        profile: {
          provider: config.id,
          subject: user.id,
          issuer: null,
          email: stringOrNull(user, "email"),
          // Facebook does not say whether the address was confirmed.
          emailVerified: false,
          name: stringOrNull(user, "name"),
          image: stringOrNull(picture, "url"),
        },
        tokens: { ...tokenSet(tokens, []), scopes: grantedPermissions(granted) },
      };
    },
  };
}

function grantedPermissions(body: Record<string, unknown>): string[] {
  if (!Array.isArray(body.data)) return [];
  return body.data.flatMap((p: unknown) =>
    isObject(p) && p.status === "granted" && typeof p.permission === "string" ? [p.permission] : [],
  );
}

/** Graph API errors: `{ error: { message, type: "OAuthException", code, fbtrace_id } }`. */
function graphErrorCode(body: unknown): number | undefined {
  return isObject(body) && isObject(body.error) && typeof body.error.code === "number" ? body.error.code : undefined;
}

/**
 * A Graph error body as gatehouse's verdict: throttling and outages
 * (codes 1, 2, 4, 17, 32, 341, 613) are `ProviderUnavailable`; anything else,
 * e.g. 190 (expired or invalid token), rejects the sign-in (`OAuthCallback`).
 *
 * @example
 * await getJsonObject("facebook", "profile", url, token, { timeoutMs, classify: classifyGraphError });
 */
export function classifyGraphError(_status: number, body: unknown): ProfileErrorKind | undefined {
  const code = graphErrorCode(body);
  if (code === undefined) return undefined;
  if (GRAPH_UNAVAILABLE.has(code)) return { code: "ProviderUnavailable", reason: `graph_${code}` };
  return { code: "OAuthCallback", reason: `graph_${code}`, providerError: `graph_${code}` };
}

/** Re-sends a Graph error from the token endpoint as an OAuth 2 error (or an outage). */
async function graphErrorsAsOAuth(response: Response): Promise<Response> {
  if (response.status === 200) return response;
  const code = graphErrorCode(await response.clone().json().catch(() => undefined));
  if (code === undefined) return response;
  if (GRAPH_UNAVAILABLE.has(code)) return new Response(null, { status: 503 });
  return Response.json({ error: `graph_${code}` }, { status: 400 });
}

/**
 * HMAC-SHA256 of the access token with the app secret (hex), which Graph can
 * require on every call made with that token.
 *
 * @example
 * url.searchParams.set("appsecret_proof", await appSecretProof(token, config.clientSecret));
 */
export async function appSecretProof(accessToken: string, appSecret: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(appSecret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(accessToken)));
  return toHex(mac);
}
