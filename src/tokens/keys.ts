/**
 * Signing keys: the private ES256 JWKs from `AUTH_SIGNING_KEYS`, imported
 * once per isolate. The first key signs; every key verifies and is published
 * at `/.well-known/jwks.json`, so a key can be rotated by `kid` without any
 * backend holding a secret (F6).
 */
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK, type JWSHeaderParameters } from "jose";
import { JWKSNoMatchingKey } from "jose/errors";
import type { SigningJwk } from "../config";
import { GatehouseError } from "../error";
import { toHex } from "../lib/hex";

/** The only algorithm gatehouse signs with or accepts. */
export const SIGNING_ALG = "ES256";

/** A public JWK as published: never `d`. */
export interface PublicJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
  kid: string;
  alg: typeof SIGNING_ALG;
  use: "sig";
}

export interface KeyRing {
  /** The first configured key: every new token is signed with it. */
  signing: { kid: string; privateKey: CryptoKey };
  /** Public keys by `kid`, for verifying our own session JWTs. */
  verifying: ReadonlyMap<string, CryptoKey>;
  /** What `/.well-known/jwks.json` serves. */
  publicJwks: readonly PublicJwk[];
}

/**
 * A jose key getter for tokens this worker signed: picks the public key by
 * `kid`; an unknown or missing `kid` fails verification.
 *
 * @example
 * await jwtVerify(token, verificationKeyGetter(ring), { algorithms: [SIGNING_ALG] });
 */
export function verificationKeyGetter(ring: KeyRing): (header: JWSHeaderParameters) => CryptoKey {
  return (header) => {
    const key = header.kid === undefined ? undefined : ring.verifying.get(header.kid);
    if (!key) throw new JWKSNoMatchingKey();
    return key;
  };
}

/**
 * Imported key rings keyed by the secret's content: a new secret (rotation)
 * is a new entry, so nothing stale is ever used. Holds one entry in practice.
 */
const rings = new Map<string, Promise<KeyRing>>();
const ringsByArray = new WeakMap<readonly SigningJwk[], Promise<KeyRing>>();

/**
 * Returns the imported keys for `signingKeys` (from `config.signingKeys`).
 * A key that cannot be imported, or whose public half does not verify what
 * its private half signs, is a `Configuration` error naming the variable.
 *
 * @example
 * const ring = await keyRingFor(config.signingKeys);
 * ring.signing.kid; // "2026-01-05-3f9a"
 */
export function keyRingFor(signingKeys: readonly SigningJwk[]): Promise<KeyRing> {
  // The frozen config hands the same array to every request: skip serializing it.
  const known = ringsByArray.get(signingKeys);
  if (known) return known;
  const cacheKey = JSON.stringify(signingKeys);
  let ring = rings.get(cacheKey);
  if (!ring) {
    ring = importRing(signingKeys);
    rings.set(cacheKey, ring);
    // A failed import is not cached: the operator may fix the secret without a redeploy.
    ring.catch(() => rings.delete(cacheKey));
  }
  ringsByArray.set(signingKeys, ring);
  void ring.catch(() => ringsByArray.delete(signingKeys));
  return ring;
}

/** The public members of a private JWK, in the shape the JWKS publishes. */
export function publicJwkOf(key: SigningJwk): PublicJwk {
  return { kty: "EC", crv: "P-256", x: key.x, y: key.y, kid: key.kid, alg: SIGNING_ALG, use: "sig" };
}

/**
 * A new private signing key with a date-stamped `kid`, for `npm run keys:generate`
 * and tests.
 *
 * @example
 * const jwk = await generateSigningJwk(); // { kty: "EC", crv: "P-256", x, y, d, kid, alg: "ES256" }
 */
export async function generateSigningJwk(now = new Date()): Promise<SigningJwk & { alg: "ES256" }> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const random = crypto.getRandomValues(new Uint8Array(4));
  const kid = `${now.toISOString().slice(0, 10)}-${toHex(random)}`;
  if (typeof jwk.x !== "string" || typeof jwk.y !== "string" || typeof jwk.d !== "string") {
    throw new Error("the generated key has no EC coordinates");
  }
  return { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, d: jwk.d, kid, alg: SIGNING_ALG };
}

async function importRing(signingKeys: readonly SigningJwk[]): Promise<KeyRing> {
  const first = signingKeys[0];
  if (!first) throw keyProblem("at least one key is required");
  const verifying = new Map<string, CryptoKey>();
  let signingKey: CryptoKey | undefined;
  for (const key of signingKeys) {
    const { privateKey, publicKey } = await importPair(key);
    verifying.set(key.kid, publicKey);
    if (key === first) signingKey = privateKey;
  }
  if (!signingKey) throw keyProblem("the first key could not be imported");
  return {
    signing: { kid: first.kid, privateKey: signingKey },
    verifying,
    publicJwks: signingKeys.map(publicJwkOf),
  };
}

/** Imports both halves and proves they belong together with one probe signature. */
async function importPair(key: SigningJwk): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  let privateKey: CryptoKey;
  let publicKey: CryptoKey;
  try {
    privateKey = asCryptoKey(await importJWK({ ...key, alg: SIGNING_ALG } satisfies JWK, SIGNING_ALG));
    publicKey = asCryptoKey(await importJWK(publicJwkOf(key), SIGNING_ALG));
  } catch (cause) {
    throw keyProblem("a key is not a valid P-256 key", cause);
  }
  const probe = new TextEncoder().encode("gatehouse key probe");
  const params = { name: "ECDSA", hash: "SHA-256" };
  const signature = await crypto.subtle.sign(params, privateKey, probe);
  if (!(await crypto.subtle.verify(params, publicKey, signature, probe))) {
    throw keyProblem("a key's public x/y do not match its private d");
  }
  return { privateKey, publicKey };
}

function asCryptoKey(key: CryptoKey | Uint8Array): CryptoKey {
  if (key instanceof Uint8Array) throw new TypeError("expected an asymmetric key");
  return key;
}

function keyProblem(hint: string, cause?: unknown): GatehouseError {
  return new GatehouseError("Configuration", "The signing keys could not be loaded.", {
    extra: { problems: [{ variable: "AUTH_SIGNING_KEYS", problem: "invalid", hint: `${hint}; run \`npm run keys:generate\`` }] },
    cause,
  });
}
