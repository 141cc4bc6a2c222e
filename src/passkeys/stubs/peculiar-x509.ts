/**
 * Build-time stand-in for `@peculiar/x509` (aliased in wrangler.toml and
 * vitest.config.ts). @simplewebauthn/server imports it only to validate
 * attestation certificate chains (packed with x5c, tpm, android-key,
 * android-safetynet, apple, fido-u2f) and FIDO MDS blobs. gatehouse asks for
 * attestation "none" and refuses every other format before verification
 * (src/passkeys/webauthn.ts), so none of this is ever reached; dropping the
 * real package (with tsyringe, reflect-metadata and its ASN.1 modules) saves
 * most of the passkey bundle cost (docs/passkeys.md). If it is ever reached,
 * it throws instead of silently accepting anything.
 */

/** The error every stand-in throws. */
export const X509_STUB_MESSAGE =
  "gatehouse: X.509 attestation certificate support is not bundled (only attestation format \"none\" is accepted; see docs/passkeys.md)";

function unavailable(): never {
  throw new Error(X509_STUB_MESSAGE);
}

/**
 * Throws: certificate parsing is not bundled.
 *
 * @example new X509Certificate(der) // throws
 */
export class X509Certificate {
  constructor(..._args: unknown[]) {
    unavailable();
  }
}
/** Throws: certificate chains are not bundled. @example new X509ChainBuilder({}) // throws */
export class X509ChainBuilder {
  constructor(..._args: unknown[]) {
    unavailable();
  }
}
/** Throws: CRLs are not bundled. @example new X509Crl(der) // throws */
export class X509Crl {
  constructor(..._args: unknown[]) {
    unavailable();
  }
}
/** Throws: extensions are not bundled. @example new AuthorityKeyIdentifierExtension(der) // throws */
export class AuthorityKeyIdentifierExtension {
  constructor(..._args: unknown[]) {
    unavailable();
  }
}
/** Throws: extensions are not bundled. @example new CRLDistributionPointsExtension(der) // throws */
export class CRLDistributionPointsExtension {
  constructor(..._args: unknown[]) {
    unavailable();
  }
}
/** Throws: extensions are not bundled. @example new SubjectKeyIdentifierExtension(der) // throws */
export class SubjectKeyIdentifierExtension {
  constructor(..._args: unknown[]) {
    unavailable();
  }
}
