/**
 * The local SMTP catcher with a web UI (maildev from npm): `npm run dev`
 * and the test harness start it so sign-in emails travel through real SMTP
 * (the worker's SMTP transport over `cloudflare:sockets`) and can be read
 * in a browser or through its REST API (`GET /api/email`). Bound to
 * 127.0.0.1 only; in-memory, so nothing outlives it.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { join, resolve } from "node:path";

export interface MailCatcher {
  smtpPort: number;
  /** The web UI and REST API, e.g. http://127.0.0.1:1080. */
  webUrl: string;
  close(): Promise<void>;
}

/** One message as maildev's `GET /api/email` lists it (the fields gatehouse's tests read). */
export interface CaughtMail {
  id: string;
  subject: string;
  text: string;
  html: string;
  to: { address: string }[];
  from: { address: string; name?: string }[];
}

/**
 * Starts maildev; port 0 picks a free one. Resolves once its API answers.
 *
 * @example const catcher = await startMailCatcher({ smtpPort: 1025, webPort: 1080 });
 */
export async function startMailCatcher(options: { smtpPort: number; webPort: number }): Promise<MailCatcher> {
  const smtpPort = options.smtpPort || (await freePort());
  const webPort = options.webPort || (await freePort());
  // maildev's package exports only its ESM entry, not its CLI: found by path (vitest's runner has no import.meta.resolve).
  const bin = join(resolve(import.meta.dirname, "../.."), "node_modules/maildev/dist/bin/maildev.js");
  const child = spawn(process.execPath, [bin, "--smtp", String(smtpPort), "--ip", "127.0.0.1", "--web", String(webPort), "--web-ip", "127.0.0.1"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const webUrl = `http://127.0.0.1:${webPort}`;
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  for (let i = 0; ; i++) {
    const done = await Promise.race([exited.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 100))]);
    if (done) throw new Error(`maildev exited: ${stderr.trim().slice(0, 500)}`);
    try {
      if ((await fetch(`${webUrl}/api/email`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300) {
      child.kill("SIGTERM");
      throw new Error("maildev did not start within 30 s");
    }
  }
  return {
    smtpPort,
    webUrl,
    close: async () => {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
