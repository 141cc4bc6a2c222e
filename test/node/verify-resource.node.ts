/**
 * gatehouse/verify's resource-server kit outside workerd: the same module,
 * imported by plain Node as an MCP server on Node would, verifies tokens
 * against a JWKS served over a real local HTTP socket (no custom fetch).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { protectedResource } from "../../src/verify";

let server: Server;
let issuer: string;
let sign: (claims: Record<string, unknown>) => Promise<string>;

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "node-1", alg: "ES256", use: "sig" };
  server = createServer((req, res) => {
    if (req.url === "/.well-known/jwks.json") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: "node-1", typ: "at+jwt" }).sign(privateKey);
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("protectedResource on Node", () => {
  it("accepts this resource's token, refuses another resource's with 401 and a missing scope with 403", async () => {
    const kit = protectedResource({ resource: "https://mcp.example.com/mcp", issuer, scopesSupported: ["notes:read", "notes:write"] });
    const now = Math.floor(Date.now() / 1000);
    const base = { iss: issuer, sub: "u1", iat: now, exp: now + 300, scope: "notes:read" };
    expect(await kit.authenticate(`Bearer ${await sign({ ...base, aud: "https://mcp.example.com/mcp" })}`, ["notes:read"])).toMatchObject({ ok: true, claims: { sub: "u1" } });
    const other = await kit.authenticate(`Bearer ${await sign({ ...base, aud: "https://other.example.com/mcp" })}`);
    expect(other).toMatchObject({ ok: false, status: 401, error: "invalid_token" });
    const step = await kit.authenticate(`Bearer ${await sign({ ...base, aud: "https://mcp.example.com/mcp" })}`, ["notes:write"]);
    expect(step).toMatchObject({ ok: false, status: 403, error: "insufficient_scope" });
    if (!step.ok) {
      const res = step.response();
      expect(res.headers.get("www-authenticate")).toContain('scope="notes:read notes:write"');
      expect(await res.json()).toMatchObject({ error: "insufficient_scope" });
    }
    expect(kit.metadata()).toMatchObject({ resource: "https://mcp.example.com/mcp", authorization_servers: [issuer] });
  });
});
