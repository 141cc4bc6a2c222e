/**
 * The worker's environment as an operator's machine sees it: wrangler.toml
 * `[vars]`, then an env file (`.dev.vars` by default, KEY=value lines), then
 * the process environment for the variables gatehouse knows. Used by
 * `doctor` and `deploy` so they judge exactly what the worker would parse.
 */
import { existsSync, readFileSync } from "node:fs";
import { unstable_readConfig } from "wrangler";

/** Parses KEY=value lines; a double-quoted value is JSON-decoded as dotenv does. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([A-Z0-9_]+)\s*=(.*)$/.exec(line);
    if (!match) continue;
    const raw = match[2]!;
    out[match[1]!] = /^".*"$/.test(raw.trim()) ? (JSON.parse(raw.trim()) as string) : raw;
  }
  return out;
}

const KNOWN = /^(AUTH_|DATABASE_URL$|NEON_FETCH_ENDPOINT$|GATEHOUSE_DEVELOPMENT$|TOKEN_ENCRYPTION_KEY$|ALLOWED_|SESSION_|ACCESS_TOKEN_|REFRESH_|FACEBOOK_|GITHUB_|GOOGLE_|NAVER_|KAKAO_|OIDC_)/;

/** @example const env = readOperatorEnvironment({ envFile: ".dev.vars" }); */
export function readOperatorEnvironment(options: { envFile?: string; configPath?: string } = {}): Record<string, unknown> {
  const config = unstable_readConfig({ config: options.configPath ?? "wrangler.toml" });
  const env: Record<string, unknown> = { ...(config.vars as Record<string, unknown>) };
  const envFile = options.envFile ?? ".dev.vars";
  if (existsSync(envFile)) Object.assign(env, parseEnvFile(readFileSync(envFile, "utf8")));
  for (const [k, v] of Object.entries(process.env)) if (KNOWN.test(k) && v !== undefined) env[k] = v;
  return env;
}
