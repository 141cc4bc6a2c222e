/**
 * The control vocabulary of the provider fakes, shared by the Node side
 * (test/fakes/*) and the tests in workerd (test/fakes/control.ts).
 */

/** Fake providers by control name; generic OpenID tenants are `oidc/<tenant>`. */
export type FakeProviderName = "github" | "google" | "facebook" | "naver" | "kakao" | `oidc/${string}`;

/** Who "signs in" at the fake; unset fields take the provider's default test user. */
export interface FakeUser {
  /** Subject / user id. Numeric for GitHub and Kakao (e.g. "1001"). */
  id?: string;
  email?: string | null;
  /** OIDC `email_verified` (Google, tenants) or Kakao `is_email_verified`. */
  emailVerified?: boolean;
  name?: string | null;
  picture?: string | null;
  /** GitHub login. */
  login?: string;
}

/**
 * What an endpoint does instead of its normal answer:
 * - `{ status, body? }`: that status with that JSON body (or an empty one),
 * - `{ html: true, status? }`: an HTML page (default status 200),
 * - `{ hang: true }`: never answers (released after ~10 s or by `__reset`),
 * - `{ providerError }`: the provider's documented error shape for that
 *   endpoint, e.g. GitHub token `"bad_verification_code"` (HTTP 200!),
 *   Google token `"invalid_grant"`, Facebook Graph `190` or `4`, Naver
 *   profile `"024"`, Kakao `-401`, authorization-style `"invalid_client"`.
 */
export type Fault =
  | { status: number; body?: unknown }
  | { html: true; status?: number }
  | { hang: true }
  | { providerError: string | number };

/** Ways to forge or spoil the id_token the token endpoint returns. */
export type IdTokenTamper =
  | "alg-none"
  | "hs256"
  | "wrong-iss"
  | "wrong-aud"
  | "wrong-nonce"
  | "expired"
  | "future-iat"
  | "bad-signature"
  | "unknown-kid";

/** One sign-in flow's script, bound to the code at authorize time. */
export interface FakeScenario {
  user?: FakeUser;
  /** Redirect back with `error=<this>` (and the provider's description) instead of a code. */
  authorizeError?: string;
  /** Extra parameters on the callback URL (e.g. Facebook `granted_scopes`, a forged `iss`). */
  callbackParams?: Record<string, string>;
  /** Leave `iss` off the callback (tenants send it by default, RFC 9207). */
  omitIss?: boolean;
  token?: Fault;
  /** UserInfo / api.github.com/user / Graph /me / Naver /v1/nid/me / Kakao /v2/user/me. */
  profile?: Fault;
  /** GitHub /user/emails. */
  emails?: Fault;
  /** Facebook /me/permissions. */
  permissions?: Fault;
  idToken?: {
    tamper?: IdTokenTamper;
    /** Seconds added to "now" for `iat` / `exp` (defaults 0 and 3600). */
    iatOffset?: number;
    expOffset?: number;
    /** Claims merged over the generated ones. */
    claims?: Record<string, unknown>;
  };
  /** UserInfo `sub` / Kakao `id` different from the id_token's. */
  userinfoSub?: string;
  /** What the provider really granted (token `scope`, Facebook /me/permissions); default: what was asked. */
  grantedScopes?: string[];
  /** GitHub /user/emails entries. */
  githubEmails?: { email: string; primary: boolean; verified: boolean; visibility?: string | null }[];
  /** Kakao `kakao_account.is_email_valid` (default true). */
  kakaoEmailValid?: boolean;
  /**
   * Facebook `/me/accounts`: the Pages the user manages (default none), or
   * `{ count }` generated Pages with ids `<idPrefix><n>` (n from 1) and names `Page <n>`.
   */
  facebookPages?: FakeFacebookPage[] | { count: number; idPrefix?: string };
  /** Facebook `fb_exchange_token` grant on /oauth/access_token. */
  exchange?: Fault;
  /** Facebook `/me/accounts`: on every Graph page, or only on page `accountsFaultAtPage` (1-based). */
  accounts?: Fault;
  accountsFaultAtPage?: number;
  /** Facebook: `paging.next` points at this base (e.g. `https://evil.example/v24.0`) instead of Graph. */
  accountsNextBase?: string;
}

/** One Facebook Page of a scenario. */
export interface FakeFacebookPage {
  id: string;
  name?: string;
  category?: string | null;
  tasks?: string[];
  /** Facebook gives the user no Page token (too few tasks on it). */
  withoutToken?: boolean;
}

/** Faults of endpoints outside any flow. Use only on your own `oidc/<tenant>`: they affect every caller. */
export interface FakeEndpointFaults {
  discovery?: Fault;
  jwks?: Fault;
}

/** One request a fake received. */
export interface FakeCall {
  seq: number;
  provider: string;
  endpoint: "discovery" | "jwks" | "authorize" | "token" | "userinfo" | "profile" | "emails" | "permissions" | "exchange" | "accounts";
  method: string;
  /** Scenario id when the request belongs to a flow. */
  scenario?: string;
}

/** A message as the fake received it. */
/** Resend fake (test/fakes/resend.ts). */
export interface FakeMail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** The raw request body: tests check nothing else leaked into it. */
  raw: string;
}


/** One request the fake webhook receiver got (webhook-receiver.ts). */
export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
  status: number;
  /** A 2xx answer to a `webhook-id` already answered 2xx before. */
  duplicate: boolean;
}
