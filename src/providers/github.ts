/**
 * GitHub (OAuth app or GitHub App user authorization). Not OpenID: the user
 * comes from the REST API, the email from /user/emails, where only the
 * primary AND verified address counts.
 */
import type { AuthorizationServer } from "oauth4webapi";
import type { ProviderConfig } from "../config";
import { providerFailure } from "./failure";
import { errorsWithStatus200, getJson, getJsonObject, httpOptions, isObject, stringOrNull, type GetJsonOptions } from "./http";
import { buildAuthorizationUrl, exchangeCode, oauthClient, tokenSet } from "./oauth";
import type { Profile, ProviderOptions, SignInProvider } from "./types";

const GITHUB: AuthorizationServer = {
  issuer: "https://github.com",
  authorization_endpoint: "https://github.com/login/oauth/authorize",
  token_endpoint: "https://github.com/login/oauth/access_token",
};
const USER = new URL("https://api.github.com/user");
const EMAILS = new URL("https://api.github.com/user/emails");
/** Profile and the email list (only the primary verified address is used). */
export const GITHUB_DEFAULT_SCOPES = ["read:user", "user:email"] as const;

/**
 * @example
 * const github = createGitHub(config, { graphVersion: "v24.0", timeoutMs: 5000 });
 */
export function createGitHub(config: ProviderConfig, options: ProviderOptions): SignInProvider {
  // GitHub answers token errors (bad_verification_code, …) with HTTP 200.
  const c = oauthClient(config.id, GITHUB, config, "post", httpOptions({ timeoutMs: options.timeoutMs, dialect: errorsWithStatus200 }));
  const api: GetJsonOptions = {
    timeoutMs: options.timeoutMs,
    // The REST API refuses requests without a User-Agent.
    headers: { accept: "application/vnd.github+json", "user-agent": "gatehouse", "x-github-api-version": "2022-11-28" },
    classify: (status, body) =>
      status === 403 && isObject(body) && /rate limit/i.test(String(body.message)) ? { code: "ProviderUnavailable", reason: "rate_limited" } : undefined,
  };

  return {
    id: config.id,
    kind: config.kind,
    name: config.name,
    usesNonce: false,
    defaultScopes: GITHUB_DEFAULT_SCOPES,
    authorizationUrl: (request) => buildAuthorizationUrl(c, request),
    async completeSignIn(input) {
      const { tokens } = await exchangeCode(c, input, { oidc: false });
      const granted = tokenSet(tokens, input.scopes);
      const canReadEmails = granted.scopes.includes("user:email") || granted.scopes.includes("user");
      const [user, emails] = await Promise.all([
        getJsonObject(config.id, "profile", USER, tokens.access_token, api),
        canReadEmails ? getJson(config.id, "profile", EMAILS, tokens.access_token, api) : Promise.resolve([]),
      ]);
      if (typeof user.id !== "number") throw providerFailure(config.id, "profile", "OAuthCallback", "missing_id");
      const email = primaryVerifiedEmail(emails);
      const profile: Profile = {
        provider: config.id,
        subject: String(user.id),
        issuer: null,
        email,
        emailVerified: email !== null,
        name: stringOrNull(user, "name") ?? stringOrNull(user, "login"),
        image: stringOrNull(user, "avatar_url"),
      };
      return { profile, tokens: granted };
    },
  };
}

/** The address GitHub marks both primary and verified, or null (never a secondary or unverified one). */
function primaryVerifiedEmail(emails: unknown): string | null {
  if (!Array.isArray(emails)) return null;
  const entry: unknown = emails.find((e) => isObject(e) && e.primary === true && e.verified === true);
  return isObject(entry) ? stringOrNull(entry, "email") : null;
}
