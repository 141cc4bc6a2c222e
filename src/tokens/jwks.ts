/** The public half of the key ring, as served at `/.well-known/jwks.json`. */
import type { Config } from "../config";
import { keyRingFor, type PublicJwk } from "./keys";

/**
 * The JWKS document: public members only (kty, crv, x, y, kid, alg, use), never `d`.
 * Importing the keys first means a broken secret fails here loudly instead of
 * publishing keys nothing can sign with.
 *
 * @example
 * const body = await publicJwks(config); // { keys: [{ kty: "EC", kid: "…", … }] }
 */
export async function publicJwks(config: Pick<Config, "signingKeys">): Promise<{ keys: readonly PublicJwk[] }> {
  const ring = await keyRingFor(config.signingKeys);
  return { keys: ring.publicJwks };
}
