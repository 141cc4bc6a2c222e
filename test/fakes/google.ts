/**
 * Fake Google: discovery at accounts.google.com, token at
 * oauth2.googleapis.com, UserInfo at openidconnect.googleapis.com, JWKS at
 * www.googleapis.com; RS256 id_tokens. Errors as Google sends them:
 * `{ error, error_description }` with 400/401.
 */
import { CLIENTS } from "./clients.ts";
import { json } from "./flow.ts";
import { OidcFake } from "./oidc-fake.ts";

const GOOGLE_TOKEN_ERRORS: Record<string, [number, string]> = {
  invalid_client: [401, "Unauthorized"],
  invalid_grant: [400, "Bad Request"],
  redirect_uri_mismatch: [400, "Bad Request"],
  invalid_request: [400, "Bad Request"],
};

export const googleFake = new OidcFake({
  provider: "google",
  issuer: "https://accounts.google.com",
  endpoints: {
    discovery: "https://accounts.google.com/.well-known/openid-configuration",
    authorization: "https://accounts.google.com/o/oauth2/v2/auth",
    token: "https://oauth2.googleapis.com/token",
    userinfo: "https://openidconnect.googleapis.com/v1/userinfo",
    jwks: "https://www.googleapis.com/oauth2/v3/certs",
  },
  client: CLIENTS.google,
  auth: ["post", "basic"],
  alg: "RS256",
  issInCallback: false,
  defaultUser: {
    id: "110169484474386276334",
    email: "alice@gmail.example",
    emailVerified: true,
    name: "Alice Example",
    picture: "https://lh3.googleusercontent.example/a/alice",
    login: "alice",
  },
  tokenError: (failure) => {
    const [status, description] = GOOGLE_TOKEN_ERRORS[String(failure)] ?? [400, "Bad Request"];
    return json({ error: String(failure), error_description: description }, status);
  },
  claimExtras: (grant) => ({ azp: grant.clientId }),
  accessTokenPrefix: "ya29.",
});
