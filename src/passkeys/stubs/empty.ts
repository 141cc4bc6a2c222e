/**
 * Build-time stand-in for `reflect-metadata` (aliased in wrangler.toml and
 * vitest.config.ts): only the real `@peculiar/x509` (itself replaced by
 * ./peculiar-x509.ts) needs the Reflect metadata polyfill; @simplewebauthn/server
 * imports it for side effects only, so an empty module is enough.
 */
export {};
