/**
 * `npm run service-client:generate -- <client-id> <org> [<org> …]`: prints a
 * new random client secret ONCE and the `AUTH_SERVICE_CLIENTS` entry holding
 * only its SHA-256. Nothing is written to disk or sent anywhere.
 *
 *   npm run service-client:generate -- billing-backend acme
 */
import { createHash, randomBytes } from "node:crypto";
import { serviceClient } from "../src/lib/config-reader.ts";

const [id, ...orgs] = process.argv.slice(2);
const secret = randomBytes(32).toString("base64url");
const entry = { id: id ?? "", secretHash: createHash("sha256").update(secret, "utf8").digest("hex"), orgs };

const check = serviceClient(entry);
if (!check.ok) {
  process.stderr.write(`usage: npm run service-client:generate -- <client-id> <org slug or id> [<org> …]
  client-id: lowercase letters, digits, ".", "_" or "-" (up to 64)
  orgs: at least one organization slug or id the client may read
`);
  process.exit(2);
}

process.stdout.write(`Client secret for ${entry.id} (shown once; give it only to that backend):

${secret}

The backend authenticates with HTTP Basic ${entry.id}:<secret>, e.g.
  curl -u '${entry.id}:<secret>' -X POST https://<AUTH_URL>/api/orgs/${orgs[0]}/pages/<page id>/token

Add this entry to the JSON array in AUTH_SERVICE_CLIENTS (it holds only the hash):

${JSON.stringify(entry)}

  npx wrangler secret put AUTH_SERVICE_CLIENTS   (paste the whole array)

To rotate: generate a new secret for the same id, replace the entry, deploy the
secret, then hand the new secret to the backend (the old one stops working at once).
`);
