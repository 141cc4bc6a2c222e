/**
 * Signing keys and id_tokens of the fake OpenID issuers, generated per
 * process (nothing on disk), plus every forgery a client must refuse.
 */
import { createHash } from "node:crypto";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import type { IdTokenTamper } from "./types.ts";

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** An issuer's published key, a rogue key reusing its kid, and a key it never publishes. */
export interface IssuerKeys {
  alg: "RS256" | "ES256";
  published: SigningKey;
  rogue: SigningKey;
  unpublished: SigningKey;
}

async function signingKey(alg: "RS256" | "ES256", kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

/** @example const keys = await issuerKeys("RS256", "google"); */
export async function issuerKeys(alg: "RS256" | "ES256", name: string): Promise<IssuerKeys> {
  const kid = `${name}-${Date.now().toString(36)}`;
  return {
    alg,
    published: await signingKey(alg, kid),
    rogue: await signingKey(alg, kid),
    unpublished: await signingKey(alg, `${kid}-unpublished`),
  };
}

/** The JWKS document an issuer serves. */
export function jwks(keys: IssuerKeys): { keys: JWK[] } {
  return { keys: [keys.published.publicJwk] };
}

/**
 * Signs the claims as the issuer would, or forges them per `tamper`. Claim
 * tampering (iss, aud, nonce, exp, iat) is applied by the caller before.
 */
export async function signIdToken(
  keys: IssuerKeys,
  claims: Record<string, unknown>,
  tamper: IdTokenTamper | undefined,
  clientSecret: string,
): Promise<string> {
  if (tamper === "alg-none") {
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    return `${enc({ alg: "none", typ: "JWT" })}.${enc(claims)}.`;
  }
  if (tamper === "hs256") {
    // The classic confusion attack: HMAC keyed with something the client knows.
    return new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: keys.published.kid }).sign(new TextEncoder().encode(clientSecret));
  }
  const key = tamper === "bad-signature" ? keys.rogue : tamper === "unknown-kid" ? keys.unpublished : keys.published;
  return new SignJWT(claims).setProtectedHeader({ alg: keys.alg, kid: key.kid, typ: "JWT" }).sign(key.privateKey);
}

/** The claim changes each tamper makes before signing. */
export function tamperClaims(claims: Record<string, unknown>, tamper: IdTokenTamper | undefined, now: number): Record<string, unknown> {
  switch (tamper) {
    case "wrong-iss":
      return { ...claims, iss: "https://evil.example" };
    case "wrong-aud":
      return { ...claims, aud: "someone-elses-client" };
    case "wrong-nonce":
      return { ...claims, nonce: "not-the-nonce-you-sent" };
    case "expired":
      return { ...claims, iat: now - 3720, exp: now - 120 };
    case "future-iat":
      return { ...claims, iat: now + 300, exp: now + 3900 };
    default:
      return claims;
  }
}

/** OIDC `at_hash`: left half of SHA-256 of the access token (RS256/ES256). */
export function atHash(accessToken: string): string {
  return createHash("sha256").update(accessToken).digest().subarray(0, 16).toString("base64url");
}
