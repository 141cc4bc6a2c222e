/**
 * Attestation formats: gatehouse asks for attestation "none" and accepts only
 * format "none". A registration or sign-up carrying any other statement
 * (packed self-attestation, packed with a certificate chain) is refused with
 * PasskeyVerificationFailed, nothing written, no cookie. And the X.509 stack
 * the library would use for those formats is the bundled stand-in here too
 * (vitest.config.ts applies wrangler.toml's [alias]), so these tests run the
 * code that is deployed.
 */
import { describe, expect, it } from "vitest";
import { createTestUser, signInAs } from "../helpers/sessions";
import { SoftAuthenticator } from "./authenticator";
import { expectRefusal, footprint, registerPasskey, signUpWithPasskey, userIdOfOptions } from "./helpers";

describe("passkey attestation formats", () => {
  for (const attestation of ["packed-x5c", "packed-self"] as const) {
    it(`registering with a "${attestation}" attestation is PasskeyVerificationFailed: no passkey, no audit row, challenge unconsumed`, async () => {
      const userId = await createTestUser();
      const session = await signInAs(userId);
      const { res, started } = await registerPasskey(session.cookieHeader, new SoftAuthenticator(), { overrides: { attestation } });
      await expectRefusal(res, 400, "PasskeyVerificationFailed");
      expect(await footprint(userId, String(started.options.challenge))).toMatchObject({ passkeys: 0, audit: 0, consumed: false });
    });

    it(`signing up with a "${attestation}" attestation is PasskeyVerificationFailed: no user, no session`, async () => {
      const { res, started } = await signUpWithPasskey(new SoftAuthenticator(), {}, { attestation });
      await expectRefusal(res, 400, "PasskeyVerificationFailed");
      const userId = userIdOfOptions(started.options);
      expect(await footprint(userId, String(started.options.challenge))).toEqual({ users: 0, passkeys: 0, sessions: 0, audit: 0, consumed: false });
    });
  }

  it("the same authenticator registers fine with attestation none (the control)", async () => {
    const userId = await createTestUser();
    const session = await signInAs(userId);
    const { res } = await registerPasskey(session.cookieHeader, new SoftAuthenticator());
    expect(res.status).toBe(200);
    expect(await footprint(userId)).toMatchObject({ passkeys: 1, audit: 1 });
  });

  it("the X.509 stack is the stand-in that throws (the deployed bundle's aliases apply under test)", async () => {
    const x509 = await import("@peculiar/x509");
    expect(() => new x509.X509Certificate(new Uint8Array(8))).toThrow(/X\.509 attestation certificate support is not bundled/);
    expect(() => new x509.X509ChainBuilder()).toThrow(/not bundled/);
    const android = await import("@peculiar/asn1-android");
    expect(() => new android.KeyDescription()).toThrow(/not bundled/);
  });
});
