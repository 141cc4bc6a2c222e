/**
 * A local OpenID provider for development and tests: panva's certified
 * `oidc-provider` with a one-step development login (any username, no
 * password, no consent screen: ./interactions.ts), on http://localhost. Signing keys are generated at startup (nothing on
 * disk); PKCE is required; id_tokens carry email and email_verified.
 *
 * For tests it counts token-endpoint requests per authorization code:
 * `GET /__local/token-requests?code=…` answers `{"count": n}`, so a test can
 * prove a code reached the provider exactly once.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Provider, { type Configuration } from "oidc-provider";
import { handleInteraction } from "./interactions.js";

export interface LocalOidcClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

export interface LocalOidcProvider {
  /** e.g. `http://localhost:9010` (no trailing slash). */
  issuer: string;
  close(): Promise<void>;
}

/** Every signed-in username `alice` becomes `{ sub: "alice", email: "alice@local.test", email_verified: true }`. */
function account(id: string) {
  return {
    accountId: id,
    claims: async () => ({ sub: id, email: `${id}@local.test`, email_verified: true, name: id }),
  };
}

function signingKeys(): Record<string, unknown>[] {
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" });
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
  const stamp = Date.now().toString(36);
  return [
    { ...ec, kid: `local-es256-${stamp}`, alg: "ES256", use: "sig" },
    { ...rsa, kid: `local-rs256-${stamp}`, alg: "RS256", use: "sig" },
  ];
}

/**
 * Starts the provider; `port: 0` picks a free port.
 *
 * @example
 * const op = await startLocalOidcProvider({ port: 0, clients: [{ client_id: "gatehouse-test", client_secret: "…", redirect_uris: ["https://auth.example.com/auth/callback/local"] }] });
 * // … op.issuer …
 * await op.close();
 */
export async function startLocalOidcProvider(options: { port: number; host?: string; clients: LocalOidcClient[] }): Promise<LocalOidcProvider> {
  const host = options.host ?? "127.0.0.1";
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://localhost:${port}`;

  const configuration: Configuration = {
    clients: options.clients.map((c) => ({
      ...c,
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      id_token_signed_response_alg: "ES256",
    })),
    findAccount: async (_ctx, id) => account(id),
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    // Put the scope's claims in the id_token too, as Google does.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    jwks: { keys: signingKeys() },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    ttl: { AccessToken: 3600, AuthorizationCode: 600, IdToken: 3600, Interaction: 600, Session: 86400, Grant: 86400, RefreshToken: 86400 },
    clientBasedCORS: () => true,
    renderError: async (ctx, out) => {
      ctx.type = "json";
      ctx.body = out;
    },
  };
  const provider = new Provider(issuer, configuration);
  provider.on("server_error", (_ctx, error) => console.error("local-oidc server_error:", error.message));

  // Every token request that got as far as its parameters, successful or not, per code.
  const tokenRequests = new Map<string, number>();
  const countTokenRequest = (ctx: { oidc?: { params?: Record<string, unknown> } }) => {
    const code = ctx.oidc?.params?.code;
    if (typeof code === "string") tokenRequests.set(code, (tokenRequests.get(code) ?? 0) + 1);
  };
  provider.on("grant.success", countTokenRequest);
  provider.on("grant.error", countTokenRequest);

  const callback = provider.callback();
  server.on("request", (req, res) => {
    const url = new URL(req.url ?? "/", issuer);
    if (req.method === "GET" && url.pathname === "/__local/token-requests") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ count: tokenRequests.get(url.searchParams.get("code") ?? "") ?? 0 }));
      return;
    }
    handleInteraction(provider, req, res)
      .then((handled) => {
        if (!handled) callback(req, res);
      })
      .catch((error: unknown) => {
        // An expired or unknown interaction (a stale tab): say so, no stack.
        if (!res.headersSent) {
          res.statusCode = 400;
          res.setHeader("content-type", "text/plain; charset=utf-8");
        }
        res.end(`local provider: ${error instanceof Error ? error.message : "interaction failed"}; start the sign-in again.`);
      });
  });

  return {
    issuer,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
