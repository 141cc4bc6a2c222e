/** @jsxImportSource hono/jsx */
/**
 * The page shell: small inline CSS (light and dark via
 * `prefers-color-scheme`), no external assets, no script except the passkey
 * file on pages that offer passkeys (`script`; the CSP set by
 * `lib/security-headers.ts` allows exactly that URL and forbids every other
 * script, inline or not). All other interaction is links and POST forms, so
 * every page works with JavaScript off.
 */
import { en, type Messages } from "../i18n/en";
import { raw } from "hono/html";
import type { Child } from "hono/jsx";

const CSS = `
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#f6f7f9;--card:#fff;--muted:#59636e;--accent:#0b57d0;--border:#d5d9de;--danger:#b3261e;--ok:#1e7b34}
@media (prefers-color-scheme:dark){:root{--fg:#e6e8eb;--bg:#111418;--card:#1a1e24;--muted:#9aa4af;--accent:#8ab4f8;--border:#2e353d;--danger:#f2b8b5;--ok:#7bd88f}}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:28rem;margin:3rem auto;padding:2rem;background:var(--card);border:1px solid var(--border);border-radius:12px}
main.wide{max-width:46rem}
@media (max-width:32rem){main{margin:.75rem;padding:1.25rem}}
.brand{display:flex;align-items:center;gap:.5rem;margin:0 0 1.5rem;color:var(--muted);font-size:.9rem;font-weight:600;letter-spacing:.02em}
h1{font-size:1.4rem;margin:0 0 1rem}h2{font-size:1.05rem;margin:1.75rem 0 .5rem;padding-top:1rem;border-top:1px solid var(--border)}
p{margin:.5rem 0}.muted{color:var(--muted)}code{font-size:.9em}small{color:var(--muted)}
a{color:var(--accent)}a:focus-visible,button:focus-visible{outline:3px solid var(--accent);outline-offset:2px;border-radius:4px}
ul{padding-left:1.2rem}ul.plain{list-style:none;padding:0;margin:0}
ul.plain>li{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem .75rem;padding:.6rem 0;border-bottom:1px solid var(--border)}
ul.plain>li:last-child{border-bottom:0}.grow{flex:1 1 12rem;min-width:0;overflow-wrap:break-word}
.button{display:flex;align-items:center;gap:.75rem;width:100%;padding:.65rem 1rem;margin:.5rem 0;border:1px solid var(--border);border-radius:8px;background:var(--card);color:var(--fg);font:inherit;text-align:left;text-decoration:none;cursor:pointer}
.button:hover{border-color:var(--accent)}
.button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.small{display:inline-block;width:auto;margin:0;padding:.3rem .75rem;font-size:.9rem}
.danger{color:var(--danger)}
.badge{display:inline-flex;align-items:center;justify-content:center;flex:none;width:1.75rem;height:1.75rem;border-radius:6px;font-weight:700;font-size:.95rem;color:#fff}
.tag{display:inline-block;padding:0 .45rem;border:1px solid var(--border);border-radius:999px;font-size:.8rem;color:var(--muted)}
.tag.ok{color:var(--ok);border-color:var(--ok)}
.avatar{width:3rem;height:3rem;border-radius:50%;flex:none}
form.inline{display:inline;margin:0}
label{display:block;margin:.75rem 0 .25rem}input[type=email],input[type=search],input[type=text],input.code{width:100%;padding:.55rem .7rem;border:1px solid var(--border);border-radius:8px;background:var(--card);color:var(--fg);font:inherit}
input.code{font-size:1.4rem;letter-spacing:.3em;text-align:center}
hr{border:0;border-top:1px solid var(--border);margin:1.5rem 0}
`;

/**
 * The HTML document around a page. `wide` for the account page.
 *
 * @example
 * <Layout title="Sign in"><p>…</p></Layout>
 */
export function Layout(props: { title: string; wide?: boolean; t?: Messages; script?: string | undefined; children?: Child }) {
  const t = props.t ?? en;
  return (
    <html lang={t.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{`${props.title} · ${t.layout.suffix}`}</title>
        {/* A constant of this file, so not escaped: escaping would turn `>` selectors into `&gt;`. */}
        <style>{raw(CSS)}</style>
        {/* The passkey script (routes/assets.ts), the only one any page loads; its CSP names exactly this URL. */}
        {props.script ? <script type="module" src={props.script}></script> : null}
      </head>
      <body>
        <main class={props.wide ? "wide" : undefined}>
          <div class="brand" aria-hidden="true">
            <GateMark /> gatehouse
          </div>
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** The product mark: a small inline SVG gate (no external asset). */
function GateMark() {
  return (
    <svg width="20" height="20" viewBox="0 0 20 20" fill="none" stroke="currentColor" stroke-width="2">
      <path d="M3 18V7l7-4 7 4v11" />
      <path d="M7 18v-6h6v6" />
    </svg>
  );
}
