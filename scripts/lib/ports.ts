/**
 * `npm run dev` checks its ports before starting anything, so a clash names
 * the GATEHOUSE_*_PORT variable to change. (Otherwise the first sign is
 * wrangler's own hint to pass `--port`, which `npm run dev` does not take.)
 */
import { createServer } from "node:net";

/** One port the stack listens on, and the variable that moves it. */
export interface PortUse {
  port: number;
  variable: string;
  what: string;
}

/** Resolves true when `port` can be listened on at `host` right now. */
function isFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * The messages for every port in use (empty when all are free), e.g.
 * "port 8787 (the worker) is in use: set GATEHOUSE_PORT to a free port, e.g. GATEHOUSE_PORT=8797 npm run dev".
 */
export async function portClashes(uses: readonly PortUse[], host = "127.0.0.1"): Promise<string[]> {
  const messages: string[] = [];
  const seen = new Map<number, string>();
  for (const use of uses) {
    const other = seen.get(use.port);
    if (other) {
      messages.push(`${use.variable} and ${other} are both ${use.port}: give one of them another port`);
      continue;
    }
    seen.set(use.port, use.variable);
    if (!Number.isInteger(use.port) || use.port < 1 || use.port > 65535) {
      messages.push(`${use.variable} must be a port number (1–65535)`);
    } else if (!(await isFree(use.port, host))) {
      messages.push(`port ${use.port} (${use.what}) is in use: set ${use.variable} to a free port, e.g. ${use.variable}=${use.port + 10} npm run dev`);
    }
  }
  return messages;
}
