/**
 * The committed passkey page script (src/pages/passkey-script.generated.ts)
 * is exactly what `npm run assets` builds from client/passkey.ts and the
 * installed @simplewebauthn/browser: a stale bundle fails here.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { passkeyAssetModule } from "../../scripts/build-passkey-asset";

describe("passkey asset", () => {
  it("is up to date with its sources", async () => {
    const committed = readFileSync(join(resolve(import.meta.dirname, "../.."), "src/pages/passkey-script.generated.ts"), "utf8");
    expect(committed).toBe(await passkeyAssetModule());
  });
});
