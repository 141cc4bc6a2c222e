/**
 * Build-time stand-in for `@peculiar/asn1-android` (aliased in wrangler.toml
 * and vitest.config.ts): @simplewebauthn/server uses it only for the
 * "android-key" attestation format, which gatehouse refuses before
 * verification (only "none" is accepted; docs/passkeys.md). Throws if reached.
 */
import { X509_STUB_MESSAGE } from "./peculiar-x509";

/** The key description extension OID (a constant, kept so imports resolve). @example id_ce_keyDescription // "1.3.6.1.4.1.11129.2.1.17" */
export const id_ce_keyDescription = "1.3.6.1.4.1.11129.2.1.17";

/** Throws: Android key attestation is not bundled. @example new KeyDescription() // throws */
export class KeyDescription {
  constructor(..._args: unknown[]) {
    throw new Error(X509_STUB_MESSAGE);
  }
}
