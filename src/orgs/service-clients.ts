/**
 * Service clients: backends that read provider tokens of the organizations
 * they are configured for (`AUTH_SERVICE_CLIENTS`). They authenticate with
 * HTTP Basic `client_id:client_secret`; only the secret's SHA-256 is
 * configured, and the check costs the same whether the id is unknown, the
 * secret wrong, or both right, so timing reveals neither.
 */
import type { ServiceClientConfig } from "../config";
import { fromHex } from "../lib/hex";

/** A service client that proved its secret. */
export interface AuthenticatedServiceClient {
  id: string;
  /** Organization slugs and ids it may read, exactly as configured. */
  orgs: readonly string[];
}

/** Far above any id:secret pair `service-client:generate` prints; longer headers are refused unread. */
const MAX_CREDENTIAL_LENGTH = 512;
/** Compared against when the id is unknown, so that path does the same work. */
const NO_CLIENT_HASH = "0".repeat(64);

/**
 * Authenticates an `Authorization` header against the configured clients;
 * `null` for anything but a valid Basic credential of a known client.
 *
 * @example
 * const client = await authenticateServiceClient(config.serviceClients, c.req.header("authorization"));
 * if (!client) throw new GatehouseError("Unauthorized", "…", { headers: { "WWW-Authenticate": 'Basic realm="gatehouse"' } });
 */
export async function authenticateServiceClient(
  clients: readonly ServiceClientConfig[],
  authorization: string | undefined,
): Promise<AuthenticatedServiceClient | null> {
  const credential = parseBasic(authorization);
  // Hash even when there is nothing to check, so every refusal costs one digest.
  const presented = await sha256(credential?.secret ?? "");
  const client = credential === null ? undefined : clients.find((c) => c.id === credential.id);
  const expected = fromHex(client?.secretHash ?? NO_CLIENT_HASH);
  const matches = constantTimeEqual(presented, expected);
  if (!credential || !client || !matches) return null;
  return { id: client.id, orgs: client.orgs };
}

/**
 * Compares two byte strings without returning early: every byte is looked
 * at, whatever the first difference. Lengths are public (digests are fixed).
 *
 * @example
 * constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])) // false
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * `client_id` and `client_secret` from `Basic base64(id:secret)`, or `null`.
 *
 * @example
 * parseBasic("Basic " + btoa("billing-backend:s3cret")) // { id: "billing-backend", secret: "s3cret" }
 */
export function parseBasic(authorization: string | undefined): { id: string; secret: string } | null {
  if (authorization === undefined || authorization.length > MAX_CREDENTIAL_LENGTH) return null;
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(authorization.trim());
  if (!match?.[1]) return null;
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(atob(match[1]), (ch) => ch.charCodeAt(0)));
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  if (colon <= 0 || colon === decoded.length - 1) return null;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}
