/**
 * A software WebAuthn authenticator for tests: the browser plus the
 * authenticator, faked. It answers the options gatehouse sends exactly as a
 * platform authenticator with a resident ES256 key would: clientDataJSON,
 * authenticatorData (RP ID hash, flags UP/UV/BE/BS/AT, counter, attested
 * credential data with a COSE key), a `none` attestation in CBOR, and
 * DER-encoded ECDSA signatures made with WebCrypto. Overrides let hostile
 * tests lie about the origin, the RP ID, user verification or the counter.
 */

type Json = Record<string, unknown>;

export interface CeremonyOverrides {
  origin?: string;
  rpId?: string;
  /** The UV flag (default true). */
  userVerified?: boolean;
  /** The signature counter to report (default: the next one; 0 with `counter: false`). */
  counter?: number;
  /** Which stored credential answers a sign-in (default: the newest for the RP ID). */
  credentialId?: string;
  /** Another user handle than the one stored with the credential. */
  userHandle?: string | null;
  /** Replace the challenge the browser echoes (a response to another challenge). */
  challenge?: string;
  /**
   * Another attestation than `none`: "packed" self-attestation (signed with the
   * credential key, no certificate) or "packed" with an x5c chain (a made-up certificate).
   */
  attestation?: "packed-self" | "packed-x5c";
}

interface Credential {
  id: string;
  rpId: string;
  userHandle: string;
  keys: CryptoKeyPair;
  counter: number;
}

const ORIGIN = "https://auth.example.com";

export class SoftAuthenticator {
  readonly credentials: Credential[] = [];

  /**
   * @param options.backupEligible a synced passkey (BE and BS flags) instead of a device-bound one
   * @param options.counter whether the authenticator keeps a signature counter (false: always 0)
   */
  constructor(private readonly options: { backupEligible?: boolean; counter?: boolean } = {}) {}

  /** `navigator.credentials.create()`: a registration response for the options. */
  async create(options: Json, overrides: CeremonyOverrides = {}): Promise<Json> {
    const rp = options.rp as { id: string };
    const user = options.user as { id: string };
    const rpId = overrides.rpId ?? rp.id;
    // `credentialId`: register a credential this authenticator already holds once more (same id and key).
    const existing = overrides.credentialId ? this.credentials.find((c) => c.id === overrides.credentialId) : undefined;
    const keys = existing?.keys ?? ((await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair);
    const rawId = existing ? fromB64url(existing.id) : crypto.getRandomValues(new Uint8Array(32));
    const id = b64url(rawId);
    const start = this.options.counter === false ? 0 : 1;
    const counter = overrides.counter ?? start;
    const jwk = (await crypto.subtle.exportKey("jwk", keys.publicKey)) as JsonWebKey;
    const cose = cbor(new Map<number, unknown>([[1, 2], [3, -7], [-1, 1], [-2, fromB64url(jwk.x!)], [-3, fromB64url(jwk.y!)]]));
    const attested = concat(new Uint8Array(16), new Uint8Array([0, rawId.length]), rawId, cose);
    const authData = concat(await this.header(rpId, overrides, counter, true), attested);
    const clientDataJSON = this.clientData("webauthn.create", overrides.challenge ?? String(options.challenge), overrides.origin);
    const attStmt = new Map<string, unknown>();
    if (overrides.attestation) {
      const signed = concat(authData, new Uint8Array(await crypto.subtle.digest("SHA-256", clientDataJSON)));
      const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, signed));
      attStmt.set("alg", -7).set("sig", derSignature(raw));
      if (overrides.attestation === "packed-x5c") attStmt.set("x5c", [crypto.getRandomValues(new Uint8Array(300))]);
    }
    const fmt = overrides.attestation ? "packed" : "none";
    const attestationObject = cbor(new Map<string, unknown>([["fmt", fmt], ["attStmt", attStmt], ["authData", authData]]));
    this.credentials.push({ id, rpId: rp.id, userHandle: user.id, keys, counter });
    return {
      id,
      rawId: id,
      type: "public-key",
      response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ["internal", "hybrid"] },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /** `navigator.credentials.get()` with a discoverable credential: an assertion for the options. */
  async get(options: Json, overrides: CeremonyOverrides = {}): Promise<Json> {
    const rpId = String(options.rpId);
    const credential = overrides.credentialId
      ? this.credentials.find((c) => c.id === overrides.credentialId)
      : this.credentials.filter((c) => c.rpId === rpId).at(-1);
    if (!credential) throw new Error("SoftAuthenticator: no credential for this RP");
    const counter = overrides.counter ?? (this.options.counter === false ? 0 : credential.counter + 1);
    credential.counter = Math.max(credential.counter, counter);
    const authData = await this.header(overrides.rpId ?? rpId, overrides, counter, false);
    const clientDataJSON = this.clientData("webauthn.get", overrides.challenge ?? String(options.challenge), overrides.origin);
    const signed = concat(authData, new Uint8Array(await crypto.subtle.digest("SHA-256", clientDataJSON)));
    const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, credential.keys.privateKey, signed));
    const userHandle = overrides.userHandle === undefined ? credential.userHandle : overrides.userHandle;
    return {
      id: credential.id,
      rawId: credential.id,
      type: "public-key",
      response: { clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authData), signature: b64url(derSignature(raw)), userHandle },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  private async header(rpId: string, overrides: CeremonyOverrides, counter: number, attested: boolean): Promise<Uint8Array> {
    const rpIdHash = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(rpId)));
    let flags = 0x01; // UP
    if (overrides.userVerified !== false) flags |= 0x04; // UV
    if (this.options.backupEligible) flags |= 0x08 | 0x10; // BE, BS
    if (attested) flags |= 0x40; // AT
    const count = new Uint8Array(4);
    new DataView(count.buffer).setUint32(0, counter);
    return concat(rpIdHash, new Uint8Array([flags]), count);
  }

  private clientData(type: string, challenge: string, origin = ORIGIN): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }
}

/** base64url without padding. */
export function b64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromB64url(text: string): Uint8Array {
  const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
  return Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Minimal CBOR (RFC 8949): integers, byte and text strings, arrays, maps. */
function cbor(value: unknown): Uint8Array {
  const head = (major: number, n: number): Uint8Array => {
    if (n < 24) return new Uint8Array([(major << 5) | n]);
    if (n < 256) return new Uint8Array([(major << 5) | 24, n]);
    if (n < 65536) return new Uint8Array([(major << 5) | 25, n >> 8, n & 255]);
    return new Uint8Array([(major << 5) | 26, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255]);
  };
  if (typeof value === "number") return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (value instanceof Uint8Array) return concat(head(2, value.length), value);
  if (typeof value === "string") {
    const bytes = new TextEncoder().encode(value);
    return concat(head(3, bytes.length), bytes);
  }
  if (Array.isArray(value)) return concat(head(4, value.length), ...value.map(cbor));
  if (value instanceof Map) {
    const parts: Uint8Array[] = [head(5, value.size)];
    for (const [k, v] of value) parts.push(cbor(k), cbor(v));
    return concat(...parts);
  }
  throw new Error("cbor: unsupported value");
}

/** WebCrypto's raw r‖s ECDSA signature as the ASN.1 DER WebAuthn carries. */
function derSignature(raw: Uint8Array): Uint8Array {
  const int = (bytes: Uint8Array): Uint8Array => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    let v: Uint8Array = bytes.slice(i);
    if (v[0]! & 0x80) v = concat(new Uint8Array([0]), v);
    return concat(new Uint8Array([0x02, v.length]), v);
  };
  const body = concat(int(raw.slice(0, 32)), int(raw.slice(32)));
  return concat(new Uint8Array([0x30, body.length]), body);
}
