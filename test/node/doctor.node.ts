/**
 * `npm run doctor` as an operator runs it, in a child process, against a
 * throwaway directory holding a wrangler.toml and an env file. It must read
 * every dotenv form `wrangler dev` accepts exactly as wrangler does (dotenv),
 * judge the values the worker would get, check what a deploy needs (a real KV
 * namespace id, the cron trigger, production values from the environment),
 * and never print a value: every run's whole output is scanned for the secrets.
 */
import { spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations } from "../../scripts/lib/migrations.js";
import { startNeonLocal, type NeonLocal } from "../../scripts/neon-local/index.js";

const root = resolve(import.meta.dirname, "../..");
const tsx = join(root, "node_modules/tsx/dist/cli.mjs");
const doctor = join(root, "scripts/doctor.ts");

/** Fresh secrets for this run; each must never appear in doctor's output. */
const privateJwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" });
const SIGNING_KEYS = [{ ...privateJwk, kid: "doctor-key-1", alg: "ES256" }];
const ENCRYPTION_KEY = `1:${randomBytes(32).toString("base64url")}`;
const GITHUB_SECRET = `doctor-github-secret-${randomBytes(8).toString("hex")}`;
const DB_PASSWORD = `doctor-db-password-${randomBytes(8).toString("hex")}`;
const SECRETS = [String(privateJwk.d), ENCRYPTION_KEY.slice(2), GITHUB_SECRET, DB_PASSWORD];

let neon: NeonLocal;
let values: Record<string, string>;
const dirs: string[] = [];

beforeAll(async () => {
  neon = await startNeonLocal({ backend: "pglite", memory: true });
  await applyMigrations({ connectionString: neon.connectionString, fetchEndpoint: neon.fetchEndpoint });
  const db = new URL(neon.connectionString);
  db.password = DB_PASSWORD;
  values = {
    GATEHOUSE_DEVELOPMENT: "true",
    AUTH_URL: "https://auth.example.com",
    DATABASE_URL: db.toString(),
    NEON_FETCH_ENDPOINT: neon.fetchEndpoint,
    AUTH_SIGNING_KEYS: JSON.stringify(SIGNING_KEYS),
    TOKEN_ENCRYPTION_KEY: ENCRYPTION_KEY,
    ALLOWED_AUDIENCES: "https://api.example.com",
    GITHUB_CLIENT_ID: "doctor-github-client",
    GITHUB_CLIENT_SECRET: GITHUB_SECRET,
  };
});

afterAll(async () => {
  await neon?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The repository's wrangler.toml, optionally edited, in a fresh directory with `files`. */
function workdir(files: Record<string, string>, edit: (toml: string) => string = (t) => t): string {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-doctor-"));
  dirs.push(dir);
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8").replace('main = "src/index.ts"', `main = ${JSON.stringify(join(root, "src/index.ts"))}`);
  writeFileSync(join(dir, "wrangler.toml"), edit(toml));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/**
 * Runs doctor with a clean environment (no gatehouse variables leak in from
 * this process). Asynchronously: neon-local answers from this process.
 */
function runDoctor(dir: string, args: string[] = [], env: Record<string, string> = {}): Promise<{ status: number | null; output: string }> {
  const child = spawn(process.execPath, [tsx, doctor, "--config", join(dir, "wrangler.toml"), ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? dir, NO_COLOR: "1", ...env },
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, output }));
  });
}

function expectNoSecret(output: string): void {
  for (const secret of SECRETS) expect(output).not.toContain(secret);
  // Nor a stack trace, which is how a value used to escape.
  expect(output).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
}

/** Every way `wrangler dev` (dotenv 16) accepts to write KEY=value in .dev.vars. */
const FORMS: Record<string, (key: string, value: string) => string> = {
  unquoted: (k, v) => `${k}=${v}`,
  "single-quoted": (k, v) => `${k}='${v}'`,
  "double-quoted (JSON inside unescaped)": (k, v) => `${k}="${v}"`,
  backticks: (k, v) => `${k}=\`${v}\``,
  "export prefix": (k, v) => `export ${k}='${v}'`,
  "spaces around =": (k, v) => `  ${k} = '${v}'  `,
  "trailing comment": (k, v) => `${k}='${v}' # a comment`,
  "colon separator": (k, v) => `${k}: '${v}'`,
};

describe("doctor reads .dev.vars exactly as wrangler dev does", () => {
  it("with the same dotenv and dotenv-expand versions the installed wrangler bundles", () => {
    const bundle = readFileSync(join(root, "node_modules/wrangler/wrangler-dist/cli.js"), "utf8");
    for (const name of ["dotenv", "dotenv-expand"]) {
      const bundled = new RegExp(`/${name}@(\\d+\\.\\d+\\.\\d+)/node_modules/${name}/`).exec(bundle)?.[1];
      const pinned = (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
      expect(bundled, `wrangler bundles ${name}; pin the same version in package.json`).toBe(pinned);
    }
  });

  it.each(Object.keys(FORMS))("%s: configuration ok, schema ok, no value printed", async (form) => {
    const write = FORMS[form]!;
    const lines = ["# gatehouse local values", "", ...Object.entries(values).map(([k, v]) => write(k, v))];
    const dir = workdir({ ".dev.vars": lines.join("\n") + "\n" });
    const { status, output } = await runDoctor(dir);
    expectNoSecret(output);
    expect(output).toContain("configuration: ok");
    expect(output).not.toContain("quoted");
    expect(output).toContain("database: ok");
    expect(output).toMatch(/own API \(\/api\/orgs…\): audience https?:\/\/[^ ]+\/api, scope gatehouse:orgs/);
    expect(status, output).toBe(0);
  });

  it("CRLF line endings and a multi-line double-quoted value", async () => {
    const text = Object.entries(values).map(([k, v]) => (k === "AUTH_SIGNING_KEYS" ? `${k}="${v.replace("},", "},\n")}"` : `${k}=${v}`)).join("\r\n");
    const { status, output } = await runDoctor(workdir({ ".dev.vars": text }));
    expectNoSecret(output);
    expect(output).toContain("configuration: ok");
    expect(status, output).toBe(0);
  });

  it("a value wrangler would hand over broken is reported by name, never printed", async () => {
    // Escaped quotes are not unescaped by dotenv: the worker would get invalid JSON.
    const escaped = `AUTH_SIGNING_KEYS="${values.AUTH_SIGNING_KEYS!.replaceAll('"', '\\"')}"`;
    const truncated = `TOKEN_ENCRYPTION_KEY='${ENCRYPTION_KEY.slice(0, -3)}`;
    const rest = Object.entries(values).filter(([k]) => k !== "AUTH_SIGNING_KEYS" && k !== "TOKEN_ENCRYPTION_KEY").map(([k, v]) => `${k}=${v}`);
    const { status, output } = await runDoctor(workdir({ ".dev.vars": [escaped, truncated, ...rest].join("\n") }));
    expectNoSecret(output);
    expect(output).toContain("AUTH_SIGNING_KEYS: invalid");
    expect(output).toContain("TOKEN_ENCRYPTION_KEY:");
    expect(status).toBe(1);
  });

  it("--env-file files replace .dev.vars, as with wrangler dev --env-file, and ${VAR} is expanded", async () => {
    const dir = workdir({ ".dev.vars": "AUTH_URL=http://wrong.example\n" });
    const file = join(dir, "custom.env");
    const lines = Object.entries(values).map(([k, v]) => `${k}='${v}'`);
    writeFileSync(file, [...lines, "ORIGIN_BASE=https://app.example.com", "ALLOWED_ORIGINS=${ORIGIN_BASE}"].join("\n"));
    const { status, output } = await runDoctor(dir, ["--env-file", file]);
    expectNoSecret(output);
    expect(output).toContain("configuration: ok");
    expect(status, output).toBe(0);
  });

  it("an unexpected failure names the step, not the value", async () => {
    const dir = workdir({}, (toml) => `${toml}\n[vars\nAUTH_SIGNING_KEYS = '${values.AUTH_SIGNING_KEYS}'\n`);
    const { status, output } = await runDoctor(dir);
    expectNoSecret(output);
    expect(output).toContain("doctor: failed while reading wrangler.toml and the environment");
    expect(status).toBe(1);
  });
});

describe("doctor checks what a deploy needs", () => {
  const goodToml = (toml: string) => toml.replace(/id = "0{32}"/, 'id = "3f2a9c1e5b7d4f608a1b2c3d4e5f6a7b"');

  it("flags the placeholder KV namespace id for --env production, notes it locally", async () => {
    const env = { ...values };
    delete (env as Record<string, string | undefined>).NEON_FETCH_ENDPOINT;
    const prod = await runDoctor(workdir({}), ["--env", "production"], env);
    expectNoSecret(prod.output);
    expect(prod.output).toContain("AUTH_KV still has the placeholder id");
    expect(prod.status).toBe(1);

    const local = await runDoctor(workdir({ ".dev.vars": Object.entries(values).map(([k, v]) => `${k}='${v}'`).join("\n") }));
    expect(local.output).toContain("note: AUTH_KV has the placeholder id");
    expect(local.status, local.output).toBe(0);
  });

  it("flags a missing cron trigger", async () => {
    const dir = workdir({ ".dev.vars": Object.entries(values).map(([k, v]) => `${k}='${v}'`).join("\n") }, (t) => t.replace(/\[triggers\]\ncrons = \[[^\]]*\]\n/, ""));
    const { status, output } = await runDoctor(dir);
    expect(output).toContain("no [triggers] crons");
    expect(status).toBe(1);
  });

  it("--env production judges the environment's values, never .dev.vars, and refuses local-only settings", async () => {
    // .dev.vars is valid, so any problem below comes from the production values.
    const dir = workdir({ ".dev.vars": Object.entries(values).map(([k, v]) => `${k}='${v}'`).join("\n") }, goodToml);
    const missing = await runDoctor(dir, ["--env", "production"]);
    expectNoSecret(missing.output);
    expect(missing.output).toContain("AUTH_SIGNING_KEYS: missing");
    expect(missing.status).toBe(1);

    const local = await runDoctor(dir, ["--env", "production"], { ...values, AUTH_URL: "http://localhost:8787" });
    expectNoSecret(local.output);
    expect(local.output).toContain("AUTH_URL: a deployment must use https");
    expect(local.output).toContain("NEON_FETCH_ENDPOINT: set");
    expect(local.output).toContain("GATEHOUSE_DEVELOPMENT: set");
    expect(local.status).toBe(1);

    const { NEON_FETCH_ENDPOINT: _endpoint, GATEHOUSE_DEVELOPMENT: _development, ...production } = values;
    const good = await runDoctor(dir, ["--env", "production"], production);
    expectNoSecret(good.output);
    expect(good.output).toContain("configuration: ok");
    expect(good.output).not.toMatch(/AUTH_URL:|NEON_FETCH_ENDPOINT:|placeholder id/);
  });
});
