/** @jsxImportSource hono/jsx */
/**
 * The page shell: small inline CSS (light and dark), no scripts, no external
 * assets. The CSP set by `lib/security-headers.ts` forbids inline script.
 */
import type { Child } from "hono/jsx";

const CSS = `
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#f6f7f9;--card:#fff;--muted:#59636e;--accent:#0b57d0;--border:#d5d9de}
@media (prefers-color-scheme:dark){:root{--fg:#e6e8eb;--bg:#111418;--card:#1a1e24;--muted:#9aa4af;--accent:#8ab4f8;--border:#2e353d}}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:28rem;margin:4rem auto;padding:2rem;background:var(--card);border:1px solid var(--border);border-radius:12px}
h1{font-size:1.4rem;margin:0 0 1rem}p{margin:.5rem 0}.muted{color:var(--muted)}code{font-size:.9em}
a{color:var(--accent)}ul{padding-left:1.2rem}
.button{display:block;width:100%;padding:.7rem 1rem;margin:.5rem 0;border:1px solid var(--border);border-radius:8px;background:var(--card);color:var(--fg);font:inherit;text-align:center;text-decoration:none;cursor:pointer}
.button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
`;

/** @example <Layout title="Sign in"><p>…</p></Layout> */
export function Layout(props: { title: string; children?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{`${props.title} · gatehouse`}</title>
        <style>{CSS}</style>
      </head>
      <body>
        <main>{props.children}</main>
      </body>
    </html>
  );
}
