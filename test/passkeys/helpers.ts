/**
 * Shared by the passkey tests: the JSON requests the page script makes
 * (from this site's own origin, with the binding cookie), and whole
 * ceremonies driven by the software authenticator.
 */
import { expect } from "vitest";
import { rawSql } from "../helpers/neon-local";
import { callWorker } from "../helpers/sessions";
import { randomClientIp } from "../signin/helpers";
import { sha256Hex } from "../../src/lib/crypto";
import type { CeremonyOverrides, SoftAuthenticator } from "./authenticator";

export const PASSKEY_COOKIE = "__Host-gh_passkey";
export const AUTH_ORIGIN = "https://auth.example.com";

type Json = Record<string, unknown>;

/**
 * A JSON POST as the passkey script sends it.
 *
 * @example const res = await postJson("/auth/passkey/signin/options", {}, null);
 */
export function postJson(path: string, body: Json, cookies: readonly (string | null | undefined)[] = [], origin: string | null = AUTH_ORIGIN): Promise<Response> {
  // A client address per request, as other suites do: the per-address limit is not what these tests are about.
  const headers: Record<string, string> = { accept: "application/json", "content-type": "application/json", "cf-connecting-ip": randomClientIp() };
  const cookie = cookies.filter((c): c is string => !!c).join("; ");
  if (cookie) headers.cookie = cookie;
  if (origin !== null) headers.origin = origin;
  return callWorker(path, { method: "POST", headers, body: JSON.stringify(body) });
}

/** `__Host-gh_passkey=<binding>` from an options response, for the next request's Cookie header. */
export function bindingOf(res: Response): string {
  const line = res.headers.getSetCookie().find((c) => c.startsWith(`${PASSKEY_COOKIE}=`));
  if (!line) throw new Error("no passkey binding cookie");
  return line.split(";")[0]!;
}

/** A started ceremony: the options the worker sent, and the binding cookie. */
export interface Started {
  options: Json;
  binding: string;
}

/**
 * Asks for options (`signin`, `signup` or `register`).
 *
 * @example const started = await startCeremony("signin", {}, []);
 */
export async function startCeremony(kind: "signin" | "signup" | "register", body: Json = {}, cookies: readonly (string | null | undefined)[] = []): Promise<Started> {
  const res = await postJson(`/auth/passkey/${kind}/options`, body, cookies);
  if (res.status !== 200) throw new Error(`${kind} options: HTTP ${res.status} ${await res.text()}`);
  const json = (await res.json()) as { options: Json };
  return { options: json.options, binding: bindingOf(res) };
}

/**
 * Registers a passkey for the signed-in browser (`sessionCookie`): options, the authenticator, verify.
 *
 * @example const { res } = await registerPasskey(session.cookieHeader, authenticator);
 */
export async function registerPasskey(
  sessionCookie: string,
  authenticator: SoftAuthenticator,
  options: { name?: string; overrides?: CeremonyOverrides } = {},
): Promise<{ res: Response; started: Started; response: Json }> {
  const started = await startCeremony("register", {}, [sessionCookie]);
  const response = await authenticator.create(started.options, options.overrides);
  const res = await postJson("/auth/passkey/register", { response, ...(options.name ? { name: options.name } : {}) }, [sessionCookie, started.binding]);
  return { res, started, response };
}

/**
 * Signs in with the authenticator's (newest) passkey.
 *
 * @example const { res } = await signInWithPasskey(authenticator);
 */
export async function signInWithPasskey(authenticator: SoftAuthenticator, overrides: CeremonyOverrides = {}, body: Json = {}): Promise<{ res: Response; started: Started; response: Json }> {
  const started = await startCeremony("signin", body);
  const response = await authenticator.get(started.options, overrides);
  const res = await postJson("/auth/passkey/signin", { response }, [started.binding]);
  return { res, started, response };
}

/**
 * Creates an account with a passkey alone.
 *
 * @example const { res } = await signUpWithPasskey(authenticator, { name: "Ada" });
 */
export async function signUpWithPasskey(authenticator: SoftAuthenticator, body: Json = {}, overrides: CeremonyOverrides = {}): Promise<{ res: Response; started: Started; response: Json }> {
  const started = await startCeremony("signup", body);
  const response = await authenticator.create(started.options, overrides);
  const res = await postJson("/auth/passkey/signup", { response }, [started.binding]);
  return { res, started, response };
}

/** The user's passkeys as stored. */
export async function passkeysOf(userId: string): Promise<{ id: string; name: string; counter: string; device_type: string; backed_up: boolean; last_used_at: string | null; transports: string[] }[]> {
  return rawSql("SELECT id, name, counter::text, device_type, backed_up, last_used_at, transports FROM passkeys WHERE user_id = $1 ORDER BY created_at", [userId]);
}

/** What a ceremony may have written for `userId` (passkeys, sessions, audit rows), and whether the challenge was consumed. */
export async function footprint(userId: string, challenge?: string): Promise<{ users: number; passkeys: number; sessions: number; audit: number; consumed: boolean }> {
  const hash = challenge ? await sha256Hex(challenge) : "";
  const [row] = await rawSql<{ users: number; passkeys: number; sessions: number; audit: number; consumed: boolean }>(
    `SELECT (SELECT count(*)::int FROM users WHERE id = $1::uuid) AS users,
            (SELECT count(*)::int FROM passkeys WHERE user_id = $1::uuid) AS passkeys,
            (SELECT count(*)::int FROM sessions WHERE user_id = $1::uuid) AS sessions,
            (SELECT count(*)::int FROM audit_events WHERE actor_id = $1::text AND target_type = 'passkey') AS audit,
            EXISTS (SELECT 1 FROM oauth_consumed_states WHERE state_hash = $2) AS consumed`,
    [userId, hash],
  );
  return row!;
}

/** The user id a sign-up's options carry as the user handle. */
export function userIdOfOptions(options: Record<string, unknown>): string {
  const id = (options.user as { id: string }).id;
  return new TextDecoder().decode(Uint8Array.from(atob(id.replaceAll("-", "+").replaceAll("_", "/") + "=".repeat((4 - (id.length % 4)) % 4)), (c) => c.charCodeAt(0)));
}

/** A refused request: its status and error code, and no cookie set or cleared. */
export async function expectRefusal(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(((await res.json()) as { code?: string }).code).toBe(code);
  expect(res.headers.getSetCookie()).toEqual([]);
}
