/**
 * Tokens of gatehouse as an OpenID Provider (docs/oauth-server.md):
 * - id_tokens (OIDC Core §2): `aud` = the client, `nonce`, `auth_time`, `amr`, and
 *   the profile/email claims the granted scopes allow;
 * - consent tokens: the hidden field of the consent form, binding the Allow
 *   or Deny POST to this user's session and to this exact authorization
 *   request (a hash of its parameters), for ten minutes;
 * - verification of gatehouse's own OAuth access tokens (userinfo, revocation).
 * Access tokens themselves are `signAccessToken` (RFC 9068).
 */
import { jwtVerify, SignJWT } from "jose";
import type { Config } from "../config";
import { ACCESS_TOKEN_TYPE, jwtShapeProblem, MAX_TOKEN_LENGTH } from "../verify";
import { keyRingFor, SIGNING_ALG, verificationKeyGetter } from "./keys";

type KeyConfig = Pick<Config, "authUrl" | "signingKeys" | "sessions">;

/**
 * The id_token's `amr` for a provider sign-in: the user authenticated at an
 * upstream provider (GitHub, Google, an OIDC issuer…), which says nothing
 * gatehouse could verify about how. RFC 8176 registers no value for that;
 * `fed` is the value Microsoft's identity platform uses for "a federated
 * assertion was used". The id_token carries the `amr` of the browser session
 * the authorization came from (`sessions.amr`, via the code and the family).
 */
export const FEDERATED_AMR: readonly string[] = ["fed"];

/** An email code or link: RFC 8176 `otp` (a one-time code sent to the address). */
export const EMAIL_AMR: readonly string[] = ["otp"];

/**
 * A passkey (docs/passkeys.md): `hwk` for a device-bound credential (not
 * backup eligible), `swk` for a synced one, plus `user` (the authenticator
 * tested presence and verified the user; gatehouse requires both).
 *
 * @example passkeyAmr(false) // ["hwk", "user"]
 */
export function passkeyAmr(backupEligible: boolean): readonly string[] {
  return [backupEligible ? "swk" : "hwk", "user"];
}

/** The profile an id_token may carry; which parts depends on the scopes. */
export interface IdTokenUser {
  id: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  image: string | null;
}

/**
 * The identity claims the scopes allow: `profile` → name, picture; `email` → email, email_verified.
 *
 * @example
 * identityClaims(user, ["openid", "email"]); // { email: "ada@example.com", email_verified: true }
 */
export function identityClaims(user: IdTokenUser, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.includes("profile")) {
    if (user.name !== null) claims.name = user.name;
    if (user.image !== null) claims.picture = user.image;
  }
  if (scopes.includes("email") && user.email !== null) {
    claims.email = user.email;
    claims.email_verified = user.emailVerified;
  }
  return claims;
}

/**
 * Signs an id_token for `clientId`, valid as long as an access token.
 *
 * @example
 * const idToken = await signIdToken(config, { user, clientId, nonce, authTime, scopes, now: new Date() });
 */
export async function signIdToken(
  config: KeyConfig,
  input: { user: IdTokenUser; clientId: string; nonce: string | null; authTime: Date; amr?: readonly string[]; scopes: readonly string[]; now: Date },
): Promise<string> {
  const ring = await keyRingFor(config.signingKeys);
  const iat = Math.floor(input.now.getTime() / 1000);
  const claims: Record<string, unknown> = {
    auth_time: Math.floor(input.authTime.getTime() / 1000),
    amr: input.amr ?? FEDERATED_AMR,
    ...identityClaims(input.user, input.scopes),
  };
  if (input.nonce !== null) claims.nonce = input.nonce;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: SIGNING_ALG, kid: ring.signing.kid, typ: "JWT" })
    .setIssuer(config.authUrl.origin)
    .setAudience(input.clientId)
    .setSubject(input.user.id)
    .setIssuedAt(iat)
    .setExpirationTime(iat + config.sessions.accessTokenTtlSeconds)
    .sign(ring.signing.privateKey);
}

const CONSENT_TYPE = "consent+jwt";
const CONSENT_TTL_SECONDS = 600;

function consentAudience(config: Pick<Config, "authUrl">): string {
  return `${config.authUrl.origin}/oauth/consent`;
}

/**
 * Signs the consent form's token.
 *
 * @example
 * const token = await signConsentToken(config, { userId, sessionId, requestHash, now: new Date() });
 */
export async function signConsentToken(
  config: KeyConfig,
  input: { userId: string; sessionId: string; requestHash: string; now: Date },
): Promise<string> {
  const ring = await keyRingFor(config.signingKeys);
  const iat = Math.floor(input.now.getTime() / 1000);
  return new SignJWT({ sid: input.sessionId, req: input.requestHash })
    .setProtectedHeader({ alg: SIGNING_ALG, kid: ring.signing.kid, typ: CONSENT_TYPE })
    .setIssuer(config.authUrl.origin)
    .setAudience(consentAudience(config))
    .setSubject(input.userId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + CONSENT_TTL_SECONDS)
    .sign(ring.signing.privateKey);
}

/**
 * Whether a consent token was issued to this user and session for exactly this request.
 *
 * @example
 * if (!(await verifyConsentToken(config, token, { userId, sessionId, requestHash, now }))) refuse();
 */
export async function verifyConsentToken(
  config: KeyConfig,
  token: string,
  expected: { userId: string; sessionId: string; requestHash: string; now: Date },
): Promise<boolean> {
  if (jwtShapeProblem(token, 2048) !== null) return false;
  const ring = await keyRingFor(config.signingKeys);
  try {
    const { payload } = await jwtVerify(token, verificationKeyGetter(ring), {
      algorithms: [SIGNING_ALG],
      typ: CONSENT_TYPE,
      issuer: config.authUrl.origin,
      audience: consentAudience(config),
      currentDate: expected.now,
      maxTokenAge: CONSENT_TTL_SECONDS,
    });
    return payload.sub === expected.userId && payload.sid === expected.sessionId && payload.req === expected.requestHash;
  } catch {
    return false;
  }
}

/** The claims gatehouse reads back from its own OAuth access tokens. */
export interface OwnAccessTokenClaims {
  sub: string;
  jti: string;
  exp: number;
  sid: string | null;
  clientId: string | null;
  scope: string;
}

/**
 * Verifies an access token this worker signed (`at+jwt`, our issuer, not
 * expired; any audience). `null` when it is not one.
 *
 * @example
 * const claims = await verifyOwnAccessToken(config, bearer, new Date());
 */
export async function verifyOwnAccessToken(config: KeyConfig, token: string, now: Date): Promise<OwnAccessTokenClaims | null> {
  if (jwtShapeProblem(token, MAX_TOKEN_LENGTH) !== null) return null;
  const ring = await keyRingFor(config.signingKeys);
  try {
    const { payload } = await jwtVerify(token, verificationKeyGetter(ring), {
      algorithms: [SIGNING_ALG],
      typ: ACCESS_TOKEN_TYPE,
      issuer: config.authUrl.origin,
      requiredClaims: ["sub", "jti", "exp", "iat"],
      clockTolerance: 60,
      currentDate: now,
    });
    if (typeof payload.sub !== "string" || typeof payload.jti !== "string" || typeof payload.exp !== "number") return null;
    return {
      sub: payload.sub,
      jti: payload.jti,
      exp: payload.exp,
      sid: typeof payload.sid === "string" ? payload.sid : null,
      clientId: typeof payload.client_id === "string" ? payload.client_id : null,
      scope: typeof payload.scope === "string" ? payload.scope : "",
    };
  } catch {
    return null;
  }
}
