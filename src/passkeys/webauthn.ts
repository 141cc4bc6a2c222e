/**
 * The WebAuthn ceremonies, through `@simplewebauthn/server` (WebCrypto only,
 * so it runs in workerd): options for the browser and verification of what
 * it sends back. The relying party is AUTH_URL: RP ID = its hostname,
 * origin = its origin; nothing from the request decides either. User
 * verification is required; attestation is not asked for (`none`), and a
 * registration whose attestation format is anything but `none` is refused
 * before the library looks at it: gatehouse does not verify attestation
 * certificates, and does not take a statement it cannot check as a claim.
 *
 * Verification failures of any kind (malformed input, wrong origin, RP ID,
 * challenge, signature, UV flag, counter) are `null` here; the routes answer
 * `PasskeyVerificationFailed`. Nothing here touches the database or KV.
 *
 * The library is imported on first use, like the Neon driver: requests that
 * never touch a passkey do not pay for evaluating it (docs/benchmarks.md). Its
 * X.509 certificate-chain stack, needed only by the other attestation formats,
 * is not bundled at all: wrangler.toml aliases it to ./stubs/, which throw if
 * ever reached (docs/passkeys.md).
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import type { Config } from "../config";
import { base64UrlEncode } from "../lib/crypto";
import { array, type Infer, nullable, object, oneOf, optional, string } from "../lib/shape";

type RelyingParty = Pick<Config, "authUrl">;
/** The ceremony timeout the browser is given (ms); the KV record lives longer. */
const TIMEOUT_MS = 60_000;
/** ES256 and RS256 (Windows Hello), EdDSA: what authenticators actually use. */
const ALGORITHMS = [-7, -8, -257];
const B64URL = /^[A-Za-z0-9_-]+$/;
const library = () => import("@simplewebauthn/server");
const helpers = () => import("@simplewebauthn/server/helpers");
/** The only attestation format accepted (what browsers send when attestation "none" is asked for). */
const ATTESTATION_FORMAT = "none";

const b64 = (max: number) => string({ min: 1, max, pattern: B64URL });
const registrationShape = object({
  id: b64(1366),
  rawId: b64(1366),
  type: oneOf(["public-key"]),
  response: object({
    clientDataJSON: b64(4096),
    attestationObject: b64(65536),
    transports: optional(array(string({ min: 1, max: 32 }), { max: 10 })),
  }),
  clientExtensionResults: optional(object({})),
  authenticatorAttachment: optional(nullable(string({ max: 32 }))),
});
const authenticationShape = object({
  id: b64(1366),
  rawId: b64(1366),
  type: oneOf(["public-key"]),
  response: object({
    clientDataJSON: b64(4096),
    authenticatorData: b64(65536),
    signature: b64(4096),
    userHandle: optional(nullable(string({ max: 128, pattern: /^[A-Za-z0-9_-]*$/ }))),
  }),
  clientExtensionResults: optional(object({})),
  authenticatorAttachment: optional(nullable(string({ max: 32 }))),
});

export type RegistrationInput = Infer<typeof registrationShape>;
export type AuthenticationInput = Infer<typeof authenticationShape>;

/**
 * A fresh challenge: 32 random bytes, and their base64url (what comes back in `clientDataJSON`).
 *
 * @example const { bytes, text } = newChallenge();
 */
export function newChallenge(): { bytes: Uint8Array<ArrayBuffer>; text: string } {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return { bytes, text: base64UrlEncode(bytes) };
}

/**
 * Options for `navigator.credentials.create()`: a discoverable credential
 * (resident key required), user verification required, the user's current
 * credentials excluded. `userId` (a uuid) becomes the user handle.
 *
 * @example const options = await registrationOptions(config, { challenge, userId, userName, exclude: [] });
 */
export async function registrationOptions(
  config: RelyingParty,
  input: { challenge: Uint8Array<ArrayBuffer>; userId: string; userName: string; exclude: readonly string[] },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { generateRegistrationOptions } = await library();
  return generateRegistrationOptions({
    rpName: config.authUrl.host,
    rpID: config.authUrl.hostname,
    userName: input.userName,
    userDisplayName: input.userName,
    userID: Uint8Array.from(new TextEncoder().encode(input.userId)),
    challenge: input.challenge,
    timeout: TIMEOUT_MS,
    attestationType: "none",
    excludeCredentials: input.exclude.map((id) => ({ id })),
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
    supportedAlgorithmIDs: ALGORITHMS,
  });
}

/**
 * Options for `navigator.credentials.get()` with a discoverable credential:
 * no `allowCredentials`, so the browser offers every passkey it has for the RP.
 *
 * @example const options = await authenticationOptions(config, challenge);
 */
export async function authenticationOptions(config: RelyingParty, challenge: Uint8Array<ArrayBuffer>): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { generateAuthenticationOptions } = await library();
  return generateAuthenticationOptions({ rpID: config.authUrl.hostname, challenge, timeout: TIMEOUT_MS, userVerification: "required", allowCredentials: [] });
}

/**
 * The challenge a response answers (base64url), read from its `clientDataJSON`
 * before anything is verified, to find the stored record; `null` if unreadable.
 *
 * @example const challenge = challengeOf(body.response.clientDataJSON);
 */
export function challengeOf(clientDataJSON: string): string | null {
  try {
    const data: unknown = JSON.parse(new TextDecoder().decode(decodeBase64Url(clientDataJSON)));
    const challenge = (data as { challenge?: unknown } | null)?.challenge;
    return typeof challenge === "string" && /^[A-Za-z0-9_-]{43}$/.test(challenge) ? challenge : null;
  } catch {
    return null;
  }
}

/**
 * Checks the shape of a registration response as the browser library sends it; `null` if it is not one.
 *
 * @example const input = registrationInput(body.response);
 */
export function registrationInput(value: unknown): RegistrationInput | null {
  const result = registrationShape(value);
  return result.ok ? result.value : null;
}

/**
 * Checks the shape of an authentication response; `null` if it is not one.
 *
 * @example const input = authenticationInput(body.response);
 */
export function authenticationInput(value: unknown): AuthenticationInput | null {
  const result = authenticationShape(value);
  return result.ok ? result.value : null;
}

/** A verified new credential. */
export interface VerifiedCredential {
  credentialId: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
  deviceType: "singleDevice" | "multiDevice";
  backedUp: boolean;
  aaguid: string | null;
}

/**
 * Verifies a registration against the stored challenge and AUTH_URL; `null`
 * when anything fails, including an attestation format other than `none`.
 *
 * @example const credential = await verifyRegistration(config, input, stored.challenge);
 */
export async function verifyRegistration(config: RelyingParty, input: RegistrationInput, challenge: string): Promise<VerifiedCredential | null> {
  const [{ verifyRegistrationResponse }, { decodeAttestationObject, isoBase64URL }] = await Promise.all([library(), helpers()]);
  try {
    // Refused before verification, so the certificate paths (stubbed out of the bundle) are never entered.
    if (decodeAttestationObject(isoBase64URL.toBuffer(input.response.attestationObject)).get("fmt") !== ATTESTATION_FORMAT) return null;
    const result = await verifyRegistrationResponse({
      response: input as RegistrationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: config.authUrl.origin,
      expectedRPID: config.authUrl.hostname,
      requireUserPresence: true,
      requireUserVerification: true,
      supportedAlgorithmIDs: ALGORITHMS,
    });
    if (!result.verified || result.registrationInfo.fmt !== ATTESTATION_FORMAT || !result.registrationInfo.userVerified) return null;
    const info = result.registrationInfo;
    return {
      credentialId: info.credential.id,
      publicKey: info.credential.publicKey,
      counter: info.credential.counter,
      transports: (input.response.transports ?? []).filter((t) => /^[a-z-]{1,32}$/.test(t)),
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      aaguid: info.aaguid === "00000000-0000-0000-0000-000000000000" ? null : info.aaguid,
    };
  } catch {
    return null;
  }
}

/**
 * Verifies an assertion with the stored public key and counter; `null` when
 * anything fails, including a counter that did not grow.
 *
 * @example const verified = await verifyAuthentication(config, input, stored.challenge, passkey);
 */
export async function verifyAuthentication(
  config: RelyingParty,
  input: AuthenticationInput,
  challenge: string,
  credential: { credentialId: string; publicKey: Uint8Array; counter: number; transports: string[] },
): Promise<{ newCounter: number; backupEligible: boolean; backedUp: boolean } | null> {
  const { verifyAuthenticationResponse } = await library();
  try {
    const result = await verifyAuthenticationResponse({
      response: input as AuthenticationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: config.authUrl.origin,
      expectedRPID: config.authUrl.hostname,
      credential: { id: credential.credentialId, publicKey: credential.publicKey as Uint8Array<ArrayBuffer>, counter: credential.counter, transports: credential.transports as never },
      requireUserVerification: true,
    });
    if (!result.verified || !result.authenticationInfo.userVerified) return null;
    const info = result.authenticationInfo;
    return { newCounter: info.newCounter, backupEligible: info.credentialDeviceType === "multiDevice", backedUp: info.credentialBackedUp };
  } catch {
    return null;
  }
}

/**
 * The user id a discoverable assertion names (its user handle: the uuid's UTF-8), or `null`.
 *
 * @example userIdOf(input.response.userHandle) // "0b5c2f6e-…"
 */
export function userIdOf(userHandle: string | null | undefined): string | null {
  if (!userHandle) return null;
  try {
    const text = new TextDecoder().decode(decodeBase64Url(userHandle));
    return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(text) ? text : null;
  } catch {
    return null;
  }
}

function decodeBase64Url(text: string): Uint8Array {
  const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
  return Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (ch) => ch.charCodeAt(0));
}
