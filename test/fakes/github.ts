/**
 * Fake GitHub: github.com/login/oauth/{authorize,access_token} and
 * api.github.com/user{,/emails}. Token errors come with HTTP 200 (GitHub's
 * documented behaviour); the REST API requires a User-Agent.
 */
import { CLIENTS } from "./clients.ts";
import { authorize, faultResponse, grantedScopes, json, readParams, redeemCode } from "./flow.ts";
import { state } from "./state.ts";
import type { FakeUser } from "./types.ts";

const DEFAULT_USER: Required<FakeUser> = {
  id: "1001",
  email: "octo@example.com",
  emailVerified: true,
  name: "Octo Cat",
  picture: "https://avatars.githubusercontent.example/u/1001",
  login: "octocat",
};

const TOKEN_ERRORS: Record<string, string> = {
  bad_verification_code: "The code passed is incorrect or expired.",
  incorrect_client_credentials: "The client_id and/or client_secret passed are incorrect.",
  redirect_uri_mismatch: "The redirect_uri MUST match the registered callback URL for this application.",
  unverified_user_email: "The user must have a verified primary email.",
};

/** GitHub's token error: always HTTP 200. */
function tokenError(code: string | number): Response {
  const error = String(code);
  return json({ error, error_description: TOKEN_ERRORS[error] ?? error, error_uri: `https://docs.github.com/apps/troubleshooting#${error}` });
}

function apiError(code: string | number): Response {
  return code === "rate_limited"
    ? json({ message: "API rate limit exceeded for user ID 1001.", documentation_url: "https://docs.github.com/rest" }, 403, { "x-ratelimit-remaining": "0" })
    : json({ message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" }, 401);
}

/** Handles github.com and api.github.com. */
export async function githubFake(request: Request, url: URL): Promise<Response | undefined> {
  const at = url.origin + url.pathname;
  if (at === "https://github.com/login/oauth/authorize") {
    return authorize({ provider: "github", url, client: CLIENTS.github, defaultUser: DEFAULT_USER, scopeSeparator: /[ ,]/ });
  }
  if (at === "https://github.com/login/oauth/access_token" && request.method === "POST") {
    const result = redeemCode("github", request, await readParams(request, url), CLIENTS.github, ["basic", "post"]);
    if ("failure" in result) {
      const map = { invalid_client: "incorrect_client_credentials", redirect_uri_mismatch: "redirect_uri_mismatch" } as const;
      return tokenError(map[result.failure as keyof typeof map] ?? "bad_verification_code");
    }
    const fault = await faultResponse(result.grant.scenario.token, tokenError);
    if (fault) return fault;
    const scopes = grantedScopes(result.grant);
    const token = state.issueToken("gho_", result.grant, scopes, 8 * 3600);
    // Without `Accept: application/json` GitHub answers form-encoded.
    if (!request.headers.get("accept")?.includes("application/json")) {
      return new Response(new URLSearchParams({ access_token: token, scope: scopes.join(","), token_type: "bearer" }).toString(), {
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
    }
    return json({ access_token: token, token_type: "bearer", scope: scopes.join(",") });
  }
  if (at === "https://api.github.com/user" || at === "https://api.github.com/user/emails") {
    const endpoint = at.endsWith("/emails") ? "emails" : "profile";
    const issued = state.bearer(request, url);
    state.record({ provider: "github", endpoint, method: request.method, ...(issued ? { scenario: issued.grant.scenarioId } : {}) });
    if (!request.headers.get("user-agent")) {
      return new Response("Request forbidden by administrative rules. Please make sure your request has a User-Agent header.", { status: 403 });
    }
    if (!issued) return apiError("bad_credentials");
    const { user, scenario } = issued.grant;
    const fault = await faultResponse(endpoint === "emails" ? scenario.emails : scenario.profile, apiError);
    if (fault) return fault;
    if (endpoint === "emails") {
      if (!issued.scopes.includes("user:email") && !issued.scopes.includes("user")) return json({ message: "Not Found" }, 404);
      return json(
        scenario.githubEmails ??
          (user.email === null ? [] : [
            { email: user.email, primary: true, verified: user.emailVerified, visibility: "private" },
            { email: `${user.login}-secondary@example.com`, primary: false, verified: true, visibility: null },
          ]),
      );
    }
    return json({
      login: user.login,
      id: Number(user.id),
      node_id: `U_${user.id}`,
      avatar_url: user.picture,
      type: "User",
      name: user.name,
      email: null,
    });
  }
  return undefined;
}
