/**
 * A minimal cookie jar for driving the stack from Node's fetch, which keeps
 * no cookies. It ignores Domain, Path and Secure on purpose: the benchmark
 * talks to one host per jar, over plain http on loopback, and gatehouse's
 * `__Host-` cookies would otherwise never be sent back over http.
 *
 * @example
 * const jar = new CookieJar();
 * jar.store(res.headers);
 * await fetch(url, { headers: { cookie: jar.header() } });
 */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  /** Keeps every Set-Cookie of a response; an expired or emptied cookie is removed. */
  store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const deleted = value === "" || /max-age=0(?:;|$)/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line);
      if (deleted) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** The value of one cookie, or undefined. */
  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  /** How many cookies the jar holds. */
  get size(): number {
    return this.cookies.size;
  }

  /** A `Cookie` request header with every cookie (or only `names`), "" when empty. */
  header(names?: readonly string[]): string {
    return [...this.cookies]
      .filter(([name]) => names === undefined || names.includes(name))
      .map(([name, value]) => `${name}=${value}`)
      .join("; ");
  }
}
