/**
 * `tsx scripts/local-oidc.ts [--port 9010] [--client-id gatehouse-dev]
 *   [--client-secret …] [--redirect-uri http://localhost:8787/auth/callback/local]`
 *
 * Runs the local OpenID provider until Ctrl-C and prints the values the
 * worker needs (OIDC_PROVIDERS=local, OIDC_LOCAL_ISSUER, …).
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { startLocalOidcProvider } from "./local-oidc/index.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "9010" },
    "client-id": { type: "string", default: "gatehouse-dev" },
    "client-secret": { type: "string" },
    "redirect-uri": { type: "string", default: "http://localhost:8787/auth/callback/local" },
  },
});

const clientSecret = values["client-secret"] ?? randomBytes(24).toString("base64url");
const op = await startLocalOidcProvider({
  port: Number(values.port),
  clients: [{ client_id: values["client-id"], client_secret: clientSecret, redirect_uris: [values["redirect-uri"]] }],
});
console.log(`local OpenID provider at ${op.issuer} (development login: any username, one step: no password, no consent screen)`);
console.log(`OIDC_PROVIDERS=local\nOIDC_LOCAL_ISSUER=${op.issuer}\nOIDC_LOCAL_CLIENT_ID=${values["client-id"]}\nOIDC_LOCAL_CLIENT_SECRET=${clientSecret}`);
const stop = () => {
  op.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
