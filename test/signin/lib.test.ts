/**
 * The pure helpers sign-in relies on: token encryption at rest, email
 * matching keys, redirect validation and profile cleaning.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { configFor } from "../../src/config";
import { randomBase64Url, seal, sha256Hex, unseal } from "../../src/lib/crypto";
import { normalizeEmail } from "../../src/lib/email";
import { cleanImageUrl, cleanText, storedProfile } from "../../src/lib/profile";
import { validateRedirect } from "../../src/lib/redirect";

const config = (() => {
  const r = configFor(env);
  if (!r.ok) throw new Error("test config invalid");
  return r.config;
})();

describe("crypto", () => {
  it("hashes and makes random base64url values", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const a = randomBase64Url();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomBase64Url()).not.toBe(a);
  });

  it("seals with the newest key and opens by version, only with the same AAD", async () => {
    const sealed = await seal(config.encryptionKeys, "secret token", "aad-1");
    expect(sealed.keyVersion).toBe(2);
    expect(sealed.ciphertext.length).toBe(12 + "secret token".length + 16);
    expect(await unseal(config.encryptionKeys, sealed, "aad-1")).toBe("secret token");
    expect(await unseal(config.encryptionKeys, sealed, "aad-2")).toBeNull();
    expect(await unseal(config.encryptionKeys, { ...sealed, keyVersion: 1 }, "aad-1")).toBeNull();
    expect(await unseal(config.encryptionKeys, { ...sealed, keyVersion: 9 }, "aad-1")).toBeNull();
    const tampered = sealed.ciphertext.slice();
    tampered[20] = (tampered[20] ?? 0) ^ 1;
    expect(await unseal(config.encryptionKeys, { ciphertext: tampered, keyVersion: 2 }, "aad-1")).toBeNull();
    // A fresh IV every time.
    expect((await seal(config.encryptionKeys, "secret token", "aad-1")).ciphertext).not.toEqual(sealed.ciphertext);
  });

  it("still opens what an older key sealed after rotation", async () => {
    const older = config.encryptionKeys.filter((k) => k.version === 1);
    const sealed = await seal(older, "old", "aad");
    expect(sealed.keyVersion).toBe(1);
    expect(await unseal(config.encryptionKeys, sealed, "aad")).toBe("old");
  });
});

describe("normalizeEmail", () => {
  it.each([
    [" Alice@Example.COM ", "alice@example.com"],
    ["a.b+tag@sub.example.co.uk", "a.b+tag@sub.example.co.uk"],
  ])("normalizes %j", (raw, expected) => expect(normalizeEmail(raw)).toBe(expected));

  it.each([
    ["full-width @", "alice＠example.com"],
    ["full-width letters (NFKC would fold them into ASCII)", "ａｌｉｃｅ@example.com"],
    ["the Kelvin sign (lowercases to k)", "\u212Aate@example.com"],
    ["a ligature (NFKC: fi)", "\uFB01nn@example.com"],
    ["a full-width domain letter", "alice@ｅxample.com"],
    ["small commercial at", "alice﹫example.com"],
    ["Cyrillic а", "\u0430lice@example.com"],
    ["Cyrillic in the domain", "alice@ex\u0430mple.com"],
    ["Greek ο", "b\u03BFb@example.com"],
    ["two @", "a@b@example.com"],
    ["no @", "alice.example.com"],
    ["NUL", "alice\u0000@example.com"],
    ["RTL override", "alice\u202E@example.com"],
    ["zero-width space", "al\u200Bice@example.com"],
    ["no dot in the domain", "alice@localhost"],
    ["over 320 characters", `${"a".repeat(60)}@${"b".repeat(260)}.com`],
    ["empty", ""],
  ])("refuses %s", (_, raw) => expect(normalizeEmail(raw)).toBeNull());

  it("refuses absent values", () => {
    expect(normalizeEmail(null)).toBeNull();
    expect(normalizeEmail(undefined)).toBeNull();
  });
});

describe("validateRedirect", () => {
  const authUrl = new URL("https://auth.example.com");
  const allowed = ["https://app.example.com", "http://localhost:5173"];
  it("defaults to the worker's root and resolves paths on it", () => {
    expect(validateRedirect(undefined, authUrl, allowed)).toBe("https://auth.example.com/");
    expect(validateRedirect("/a?b=1", authUrl, allowed)).toBe("https://auth.example.com/a?b=1");
    expect(validateRedirect("https://APP.example.com/x", authUrl, allowed)).toBe("https://app.example.com/x");
  });
  it.each(["https://app.example.com@evil.com/", "https://evil.com\\@app.example.com", "/%5Cevil.com", "\\\\evil.com", "///evil.com", "https:evil.com", "HTTPS://evil.com", "vbscript:x"])(
    "refuses %j",
    (value) => {
      const result = validateRedirect(value, authUrl, allowed);
      expect(result === null || new URL(result).origin === authUrl.origin).toBe(true);
    },
  );
});

describe("profile cleaning", () => {
  it("cleans text: NUL, bidi overrides, lone surrogates, length", () => {
    expect(cleanText("Ann\u0000\u202Eeve ", 200)).toBe("Anneve");
    expect(cleanText("a\uD800b", 200)).toBe("a\uFFFDb");
    expect(cleanText("😀".repeat(300), 200)).toBe("😀".repeat(200));
    expect(cleanText("   ", 200)).toBeNull();
    expect(cleanText(42, 200)).toBeNull();
  });

  it("keeps only https image URLs up to 2 KB", () => {
    expect(cleanImageUrl("https://img.example.com/a.png")).toBe("https://img.example.com/a.png");
    expect(cleanImageUrl("http://img.example.com/a.png")).toBeNull();
    expect(cleanImageUrl("javascript:alert(1)")).toBeNull();
    expect(cleanImageUrl(`https://img.example.com/${"a".repeat(2100)}`)).toBeNull();
    expect(cleanImageUrl("https://user:pw@img.example.com/")).toBeNull();
  });

  it("refuses a profile whose subject is unusable", () => {
    const base = { provider: "github", issuer: null, email: null, emailVerified: false, name: null, image: null };
    expect(storedProfile({ ...base, subject: "" })).toBeNull();
    expect(storedProfile({ ...base, subject: "a\u0000b" })).toBeNull();
    expect(storedProfile({ ...base, subject: "x".repeat(256) })).toBeNull();
    expect(storedProfile({ ...base, subject: "12345" })).toMatchObject({ subject: "12345" });
  });

  it("never treats an unmatchable address as verified for matching", () => {
    const p = storedProfile({ provider: "google", subject: "1", issuer: null, email: "аlice@example.com", emailVerified: true, name: null, image: null });
    expect(p).toMatchObject({ email: "аlice@example.com", emailNormalized: null });
  });
});
