/**
 * Fake Facebook Login and Graph API, any version segment (`/v24.0/…`).
 * Errors have Graph's shape `{ error: { message, type, code, fbtrace_id } }`:
 * 100 for a bad code, 1 for a bad secret, 190 for a dead token, 4 for
 * throttling. `appsecret_proof` is checked when sent. The Pages endpoints
 * (`fb_exchange_token`, `/me/accounts`) live in facebook-pages.ts.
 */
import { createHmac, randomBytes } from "node:crypto";
import { CLIENTS } from "./clients.ts";
import { exchangeToken, listAccounts } from "./facebook-pages.ts";
import { authorize, faultResponse, grantedScopes, json, readParams, redeemCode } from "./flow.ts";
import { state } from "./state.ts";
import type { FakeUser } from "./types.ts";

const DEFAULT_USER: Required<FakeUser> = {
  id: "10158000000000001",
  email: "fb-user@facebook.example",
  emailVerified: false,
  name: "Facebook User",
  picture: "https://platform-lookaside.fbsbx.example/platform/profilepic/?asid=10158000000000001",
  login: "fb-user",
};

const GRAPH_ERRORS: Record<string, [number, string, string, number?]> = {
  "100": [400, "OAuthException", "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request", 36008],
  "1": [400, "OAuthException", "Error validating client secret."],
  "190": [400, "OAuthException", "Error validating access token: Session has expired.", 463],
  "4": [403, "OAuthException", "(#4) Application request limit reached"],
  "17": [400, "OAuthException", "(#17) User request limit reached", 2446079],
  "32": [400, "OAuthException", "(#32) Page request limit reached"],
  "613": [400, "OAuthException", "(#613) Calls to this api have exceeded the rate limit."],
  "2": [500, "OAuthException", "An unexpected error has occurred. Please retry your request later."],
};

/** @example graphError(190) */
export function graphError(code: string | number): Response {
  const [status, type, message, subcode] = GRAPH_ERRORS[String(code)] ?? [400, "OAuthException", "Invalid request"];
  return json(
    { error: { message, type, code: Number(code), ...(subcode ? { error_subcode: subcode } : {}), fbtrace_id: randomBytes(8).toString("base64url") } },
    status,
  );
}

/** Handles www.facebook.com/{v}/dialog/oauth and graph.facebook.com/{v}/…. */
export async function facebookFake(request: Request, url: URL): Promise<Response | undefined> {
  const www = url.hostname === "www.facebook.com" ? /^\/v\d+\.\d\/dialog\/oauth$/.test(url.pathname) : false;
  if (www) {
    return authorize({
      provider: "facebook",
      url,
      client: CLIENTS.facebook,
      defaultUser: DEFAULT_USER,
      scopeSeparator: /[ ,]/,
      errorDescription: "Permissions error",
    });
  }
  if (url.hostname !== "graph.facebook.com") return undefined;
  const [, version, path] = /^\/(v\d+\.\d)(\/.*)$/.exec(url.pathname) ?? [];
  if (path === "/oauth/access_token") {
    const params = await readParams(request, url);
    if (params.get("grant_type") === "fb_exchange_token") return exchangeToken(request, params, graphError);
    const result = redeemCode("facebook", request, params, CLIENTS.facebook, ["post"]);
    if ("failure" in result) return graphError(result.failure === "invalid_client" ? 1 : 100);
    const fault = await faultResponse(result.grant.scenario.token, graphError);
    if (fault) return fault;
    const token = state.issueToken("EAAB", result.grant, grantedScopes(result.grant), 5183944);
    return json({ access_token: token, token_type: "bearer", expires_in: 5183944 });
  }
  if (version !== undefined && path !== undefined && /^\/(me|\d+)\/accounts$/.test(path)) return listAccounts(request, url, version, graphError);
  if (path === "/me" || path === "/me/permissions") {
    const endpoint = path === "/me" ? "profile" : "permissions";
    const issued = state.bearer(request, url);
    state.record({ provider: "facebook", endpoint, method: request.method, ...(issued ? { scenario: issued.grant.scenarioId } : {}) });
    if (!issued) return graphError(190);
    const proof = url.searchParams.get("appsecret_proof");
    const bearer = request.headers.get("authorization")?.slice(7) ?? url.searchParams.get("access_token") ?? "";
    if (proof !== null && proof !== createHmac("sha256", CLIENTS.facebook.clientSecret).update(bearer).digest("hex")) {
      return json({ error: { message: "Invalid appsecret_proof provided in the API argument", type: "GraphMethodException", code: 100, fbtrace_id: "x" } }, 400);
    }
    const { user, scenario } = issued.grant;
    const fault = await faultResponse(endpoint === "profile" ? scenario.profile : scenario.permissions, graphError);
    if (fault) return fault;
    if (endpoint === "permissions") {
      return json({ data: issued.scopes.map((permission) => ({ permission, status: "granted" })) });
    }
    const fields = (url.searchParams.get("fields") ?? "id,name").split(",");
    const all: Record<string, unknown> = {
      id: user.id,
      name: user.name,
      // Facebook leaves `email` out when the user has none or declined it.
      ...(user.email !== null && issued.scopes.includes("email") ? { email: user.email } : {}),
      picture: { data: { height: 50, width: 50, is_silhouette: false, url: user.picture } },
    };
    return json(Object.fromEntries(fields.filter((f) => f in all).map((f) => [f, all[f]])));
  }
  return undefined;
}
