/**
 * Validation of a client registration (`npm run client:create`, the org
 * API): the name, the kind of client, its redirect URIs (rules in
 * `redirect-uri.ts`), its scopes and its resources. Resources are the APIs
 * the operator lists (ALLOWED_AUDIENCES) and gatehouse's own API, so a
 * client can never obtain tokens for an audience nobody registered.
 */
import { registrationProblem, type ApplicationType } from "./redirect-uri";
import { isValidScopeName } from "./scopes";

export interface ClientRegistration {
  name: string;
  type: "public" | "confidential";
  applicationType: ApplicationType;
  redirectUris: string[];
  scopes: string[];
  resources: string[];
}

export type RegistrationResult = { ok: true; value: ClientRegistration } | { ok: false; field: string; problem: string };

/** A partial change (the org API's PATCH): only the given fields are checked. */
export type RegistrationPatch = Partial<Pick<ClientRegistration, "name" | "redirectUris" | "scopes" | "resources">> & { disabled?: boolean };

const NAME = /^[^\p{Cc}\p{Cf}]{1,100}$/u;

/**
 * Checks a full registration.
 *
 * @example
 * validateRegistration({ name: "Notes", type: "public", applicationType: "web", redirectUris: ["https://notes.example.com/cb"], scopes: ["openid"], resources: [] }, allowed);
 */
export function validateRegistration(input: unknown, allowedResources: readonly string[]): RegistrationResult {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return { ok: false, field: "body", problem: "must be an object" };
  const o = input as Record<string, unknown>;
  const unknownKey = Object.keys(o).find((k) => !["name", "type", "applicationType", "redirectUris", "scopes", "resources"].includes(k));
  if (unknownKey !== undefined) return { ok: false, field: unknownKey, problem: "unknown field" };
  if (o.type !== "public" && o.type !== "confidential") return { ok: false, field: "type", problem: "public or confidential" };
  const applicationType = o.applicationType ?? "web";
  if (applicationType !== "web" && applicationType !== "native") return { ok: false, field: "applicationType", problem: "web or native" };
  if (applicationType === "native" && o.type === "confidential") return { ok: false, field: "type", problem: "a native app cannot keep a secret: use public" };
  const rest = checkFields({ name: o.name, redirectUris: o.redirectUris, scopes: o.scopes, resources: o.resources ?? [] }, applicationType, allowedResources, true);
  if (!rest.ok) return rest;
  const v = rest.value;
  return { ok: true, value: { name: v.name!, type: o.type, applicationType, redirectUris: v.redirectUris!, scopes: v.scopes!, resources: v.resources! } };
}

/**
 * Checks a partial change for a client of `applicationType`.
 *
 * @example
 * validatePatch({ disabled: true }, "web", allowed); // { ok: true, value: { disabled: true } }
 */
export function validatePatch(input: unknown, applicationType: ApplicationType, allowedResources: readonly string[]): { ok: true; value: RegistrationPatch } | { ok: false; field: string; problem: string } {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return { ok: false, field: "body", problem: "must be an object" };
  const o = input as Record<string, unknown>;
  const unknownKey = Object.keys(o).find((k) => !["name", "redirectUris", "scopes", "resources", "disabled"].includes(k));
  if (unknownKey !== undefined) return { ok: false, field: unknownKey, problem: "unknown field (type and applicationType cannot change)" };
  if (o.disabled !== undefined && typeof o.disabled !== "boolean") return { ok: false, field: "disabled", problem: "true or false" };
  const rest = checkFields({ name: o.name, redirectUris: o.redirectUris, scopes: o.scopes, resources: o.resources }, applicationType, allowedResources, false);
  if (!rest.ok) return rest;
  return { ok: true, value: { ...rest.value, ...(o.disabled === undefined ? {} : { disabled: o.disabled }) } };
}

function checkFields(
  o: Record<string, unknown>,
  applicationType: ApplicationType,
  allowedResources: readonly string[],
  required: boolean,
): { ok: true; value: RegistrationPatch } | { ok: false; field: string; problem: string } {
  const value: RegistrationPatch = {};
  if (o.name !== undefined || required) {
    if (typeof o.name !== "string" || !NAME.test(o.name.trim())) return { ok: false, field: "name", problem: "1–100 printable characters" };
    value.name = o.name.trim();
  }
  if (o.redirectUris !== undefined || required) {
    const uris = stringList(o.redirectUris, 1, 10);
    if (!uris) return { ok: false, field: "redirectUris", problem: "1–10 URLs" };
    for (const uri of uris) {
      const problem = registrationProblem(uri, applicationType);
      if (problem) return { ok: false, field: "redirectUris", problem: `${uri}: ${problem}` };
    }
    value.redirectUris = uris;
  }
  if (o.scopes !== undefined || required) {
    const scopes = stringList(o.scopes, 1, 20);
    if (!scopes || !scopes.every(isValidScopeName)) return { ok: false, field: "scopes", problem: "1–20 scope names" };
    value.scopes = scopes;
  }
  if (o.resources !== undefined) {
    const resources = stringList(o.resources, 0, 10);
    if (!resources) return { ok: false, field: "resources", problem: "at most 10 resource URIs" };
    const unknown = resources.find((r) => !allowedResources.includes(r));
    if (unknown !== undefined) return { ok: false, field: "resources", problem: `${unknown} is not a registered resource (ALLOWED_AUDIENCES or gatehouse's API)` };
    value.resources = resources;
  }
  return { ok: true, value };
}

function stringList(value: unknown, min: number, max: number): string[] | null {
  if (!Array.isArray(value) || value.length < min || value.length > max) return null;
  if (!value.every((v): v is string => typeof v === "string" && v.length > 0)) return null;
  return [...new Set(value)];
}
