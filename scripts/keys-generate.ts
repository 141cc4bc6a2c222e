/**
 * `npm run keys:generate`: prints a new private ES256 signing key (JWK with a
 * date-stamped kid) and the exact rotation steps. Nothing is written to disk
 * and nothing is sent anywhere; the key exists only in this terminal output.
 */
import { generateSigningJwk } from "../src/tokens/keys.ts";

const jwk = await generateSigningJwk();
const entry = JSON.stringify(jwk);

process.stdout.write(`New signing key (private: treat it like a password):

${entry}

First deployment (no keys yet): run the command below and paste [${entry}]
(pasting keeps the key out of your shell history)

  npx wrangler secret put AUTH_SIGNING_KEYS

Rotation (kid ${jwk.kid} replaces the current signing key):

  1. Build the new value: a JSON array with this key FIRST, then every key
     currently in AUTH_SIGNING_KEYS, unchanged.
  2. Store it:  npx wrangler secret put AUTH_SIGNING_KEYS   (paste the array)
     From then on new tokens are signed with ${jwk.kid}; older tokens keep
     verifying because the old keys stay published at /.well-known/jwks.json.
     Backends using gatehouse/verify fetch the JWKS again when they meet an
     unknown kid, so they need no change.
  3. Wait until every token the old key signed has expired: the longest of
     ACCESS_TOKEN_TTL_SECONDS and SESSION_TTL_SECONDS, plus 60 s of clock
     tolerance and 300 s of JWKS caching (defaults: 600 + 60 + 300 s = 16 min).
  4. Remove the old key from the array and run \`wrangler secret put\` again.

Never publish or commit the "d" member. Backends need only
  https://<AUTH_URL>/.well-known/jwks.json
`);
