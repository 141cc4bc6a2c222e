import { describe, expect, it } from "vitest";
import { enabledProviders, findProvider, providerOptions } from "../../src/providers";
import { testConfig } from "./support";

describe("provider registry", () => {
  it("enables every configured provider, in configuration order, with its kind and name", () => {
    const providers = enabledProviders(testConfig());
    expect(providers.slice(0, 5).map((p) => [p.id, p.kind, p.name, p.usesNonce])).toEqual([
      ["github", "github", "GitHub", false],
      ["google", "google", "Google", true],
      ["facebook", "facebook", "Facebook", false],
      ["naver", "naver", "Naver", false],
      ["kakao", "kakao", "Kakao", true],
    ]);
  });

  it("finds a provider by route id, and nothing for an unknown id", () => {
    expect(findProvider(testConfig(), "kakao")?.kind).toBe("kakao");
    expect(findProvider(testConfig(), "myspace")).toBeNull();
    expect(findProvider(testConfig(), "__proto__")).toBeNull();
  });

  it("takes the Graph API version from configuration", () => {
    expect(providerOptions(testConfig())).toEqual({ graphVersion: "v24.0", timeoutMs: 8000 });
  });
});
