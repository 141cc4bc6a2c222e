/**
 * The worker's environment as wrangler would build it, for `doctor` (and
 * `deploy`), so they judge exactly the values the worker will parse:
 *
 * - local (`wrangler dev`): wrangler.toml `[vars]`, then `.dev.vars` next to
 *   the config (`.dev.vars.<env>` first), parsed with `dotenv.parse`; when
 *   there is none, `.env`, `.env.local` (and `.env.<env>`, `.env.<env>.local`)
 *   loaded with dotenv and expanded with dotenv-expand. `--env-file` replaces
 *   both with the given files (dotenv + dotenv-expand). Those are wrangler
 *   4.86's own rules and its own parser versions (dotenv 16.3.1,
 *   dotenv-expand 12.0.2, pinned to match), not a hand-written one;
 * - deploy (`--env NAME`): the vars of `[env.NAME]` when wrangler.toml has
 *   that section (else the top level, which `npm run deploy` ships), and the
 *   secrets from the process environment. No local file is read.
 *
 * In both, the process environment overrides the variables gatehouse knows,
 * so an operator can check a value without writing it to disk.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import dotenv from "dotenv";
import dotenvExpand from "dotenv-expand";
import { experimental_readRawConfig, unstable_readConfig } from "wrangler";

const KNOWN = /^(AUTH_|DATABASE_URL$|NEON_FETCH_ENDPOINT$|GATEHOUSE_DEVELOPMENT$|TOKEN_ENCRYPTION_KEY$|ALLOWED_|SESSION_|ACCESS_TOKEN_|REFRESH_|FACEBOOK_|GITHUB_|GOOGLE_|NAVER_|KAKAO_|OIDC_|EMAIL_SIGNIN$|MAIL_|RESEND_API_KEY$|SMTP_URL$)/;

/** The parts of wrangler's resolved configuration doctor checks. */
export interface WranglerFacts {
  /** Whether `[env.NAME]` exists (always true for the top level). */
  envDefined: boolean;
  kvNamespaces: readonly { binding: string; id?: string }[];
  crons: readonly string[];
  rateLimits: readonly string[];
  routes: readonly unknown[];
  workersDev: boolean | undefined;
}

export interface OperatorEnvironment {
  env: Record<string, unknown>;
  /** Where values came from, for the report (file names, never values). */
  sources: string[];
  wrangler: WranglerFacts;
}

/**
 * Parses the text of a `.dev.vars` file as `wrangler dev` does.
 *
 * @example parseDevVars("A='x'\nB=\"y\"") // { A: "x", B: "y" }
 */
export function parseDevVars(text: string): Record<string, string> {
  return dotenv.parse(text);
}

/**
 * Loads `--env-file` style files as wrangler does: dotenv per file (later
 * files override earlier ones), then dotenv-expand over the result.
 */
export function loadEnvFiles(paths: readonly string[]): { values: Record<string, string>; loaded: string[] } {
  const parsed: Record<string, string> = {};
  const loaded: string[] = [];
  for (const path of paths) {
    if (!existsSync(path)) continue;
    Object.assign(parsed, dotenv.parse(readFileSync(path)));
    loaded.push(path);
  }
  const processEnv: Record<string, string> = {};
  dotenvExpand.expand({ processEnv, parsed });
  return { values: processEnv, loaded };
}

/**
 * The environment the worker would get.
 *
 * @example const { env } = readOperatorEnvironment({ configPath: "wrangler.toml" });
 */
export function readOperatorEnvironment(
  options: { configPath?: string; envName?: string; envFiles?: readonly string[]; processEnv?: NodeJS.ProcessEnv } = {},
): OperatorEnvironment {
  const configPath = resolve(options.configPath ?? "wrangler.toml");
  const configDir = dirname(configPath);
  const raw = experimental_readRawConfig({ config: configPath }).rawConfig as { env?: Record<string, unknown> };
  const envDefined = options.envName === undefined || raw.env?.[options.envName] !== undefined;
  const config = unstable_readConfig({ config: configPath, ...(options.envName !== undefined && envDefined ? { env: options.envName } : {}) });

  const env: Record<string, unknown> = { ...(config.vars as Record<string, unknown>) };
  // A declared [[send_email]] binding stands in for the real one, so MAIL_TRANSPORT=cloudflare parses as it will deployed.
  if ((config.send_email ?? []).some((b: { name: string }) => b.name === "SEND_EMAIL")) env.SEND_EMAIL = { send: () => Promise.resolve() };
  const sources = [configPath];
  if (options.envName === undefined) {
    const files = localFiles(configDir, options.envFiles);
    Object.assign(env, files.values);
    sources.push(...files.loaded);
  }
  const processEnv = options.processEnv ?? process.env;
  const fromProcess = Object.entries(processEnv).filter(([k, v]) => KNOWN.test(k) && v !== undefined);
  for (const [k, v] of fromProcess) env[k] = v;
  if (fromProcess.length > 0) sources.push("the process environment");

  return {
    env,
    sources,
    wrangler: {
      envDefined,
      kvNamespaces: config.kv_namespaces ?? [],
      crons: config.triggers?.crons ?? [],
      rateLimits: (config.ratelimits ?? []).map((r: { name: string }) => r.name),
      routes: [...(config.routes ?? []), ...(config.route ? [config.route] : [])],
      workersDev: config.workers_dev,
    },
  };
}

/** `wrangler dev`'s secrets: `--env-file` files, else `.dev.vars`, else `.env` files. */
function localFiles(configDir: string, envFiles: readonly string[] | undefined): { values: Record<string, string>; loaded: string[] } {
  if (envFiles && envFiles.length > 0) return loadEnvFiles(envFiles.map((p) => resolve(p)));
  const devVars = resolve(configDir, ".dev.vars");
  if (existsSync(devVars)) return { values: parseDevVars(readFileSync(devVars, "utf8")), loaded: [devVars] };
  return loadEnvFiles([".env", ".env.local"].map((p) => resolve(configDir, p)));
}
