/**
 * The slice of `oidc-provider` (which ships no types) that
 * scripts/local-oidc uses. Keep it to what is called here.
 */
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  export interface Account {
    accountId: string;
    claims: () => Promise<Record<string, unknown>>;
  }

  export interface KoaContextLike {
    type: string;
    body: unknown;
  }

  export interface Configuration {
    clients?: Record<string, unknown>[];
    findAccount?: (ctx: unknown, id: string) => Promise<Account | undefined>;
    claims?: Record<string, string[]>;
    conformIdTokenClaims?: boolean;
    pkce?: { required?: (ctx: unknown, client: unknown) => boolean };
    features?: Record<string, { enabled: boolean }>;
    jwks?: { keys: Record<string, unknown>[] };
    cookies?: { keys: string[] };
    ttl?: Record<string, number>;
    clientBasedCORS?: (ctx: unknown, origin: string, client: unknown) => boolean;
    renderError?: (ctx: KoaContextLike, out: Record<string, unknown>, error: Error) => Promise<void>;
    interactions?: { url: (ctx: unknown, interaction: { uid: string }) => string };
  }

  export interface InteractionDetails {
    uid: string;
    prompt: { name: "login" | "consent" | string };
    params: Record<string, unknown>;
    session?: { accountId?: string };
    grantId?: string;
  }

  export interface Grant {
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  }

  export interface GrantConstructor {
    new (properties: { accountId: string; clientId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: "server_error", listener: (ctx: unknown, error: Error) => void): this;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
    Grant: GrantConstructor;
    /** Token endpoint outcomes; `ctx.oidc.params` holds the parsed request parameters. */
    on(event: "grant.success" | "grant.error", listener: (ctx: { oidc?: { params?: Record<string, unknown> } }) => void): this;
  }
}
