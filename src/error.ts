/**
 * The one error family of gatehouse. Pure code returns values or `null`;
 * the HTTP boundary throws a `GatehouseError`, and `app.onError` renders it
 * as JSON for API callers or as the error page for browsers. Codes are
 * stable: they are documented in docs/errors.md and clients may match on them.
 *
 * @example
 * throw new GatehouseError("StateInvalid", "The sign-in link expired or was already used.");
 */
export const ERROR_STATUS = {
  Configuration: 500,
  OAuthSignin: 400,
  OAuthCallback: 400,
  StateInvalid: 400,
  AccessDenied: 403,
  AccountNotLinked: 409,
  AccountAlreadyLinked: 409,
  ProviderUnavailable: 502,
  DatabaseUnavailable: 503,
  SchemaBehind: 503,
  StorageUnavailable: 503,
  InvalidRequest: 400,
  InvalidRedirect: 400,
  AuthorizationRequestInvalid: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  SlugTaken: 409,
  AlreadyMember: 409,
  LastOwner: 409,
  PersonalOrganization: 409,
  LastSignInMethod: 409,
  WebhookEndpointLimit: 409,
  MethodNotAllowed: 405,
  UnsupportedMediaType: 415,
  EmailInvalid: 400,
  EmailCodeInvalid: 400,
  EmailCodeExpired: 400,
  EmailCodeAttempts: 400,
  EmailOtherBrowser: 400,
  MailUnavailable: 502,
  PasskeyChallengeInvalid: 400,
  PasskeyVerificationFailed: 400,
  PasskeyUnknown: 400,
  PasskeyExists: 409,
  RateLimited: 429,
  HeaderTooLarge: 431,
  UserDisabled: 403,
  Internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** One problem with one configuration variable; never carries the value. */
export interface ConfigProblem {
  variable: string;
  problem:
    | "missing"
    | "empty"
    | "quoted"
    | "whitespace"
    | "invalid_url"
    | "too_short"
    | "invalid";
  /** A safe explanation (what is expected), never derived from the value. */
  hint?: string;
}

export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra members of the JSON body; must never contain secrets. */
  readonly extra: Record<string, unknown>;
  /** Response headers to add, e.g. `Retry-After`. */
  readonly headers: Record<string, string>;
  /** Where the error page's way back leads (a same-origin path); the sign-in page when absent. Never in JSON. */
  readonly backHref: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { extra?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown; backHref?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatehouseError";
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
    this.backHref = options.backHref;
  }
}

/**
 * The configuration is unusable: thrown by the config middleware with every
 * problem found at once, so an operator fixes them in one pass (F2, F5).
 */
export class ConfigurationError extends GatehouseError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super("Configuration", "The server's configuration is incomplete or invalid.", {
      extra: { problems },
    });
    this.name = "ConfigurationError";
    this.problems = problems;
  }
}
