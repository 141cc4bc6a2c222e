/**
 * The SMTP transport over `cloudflare:sockets`, for self-hosted relays and
 * the local mail catcher: EHLO, STARTTLS (or implicit TLS), AUTH PLAIN,
 * MAIL/RCPT/DATA, QUIT. One message per connection; every reply code is
 * checked, and a server that stalls is cut off after {@link SMTP_TIMEOUT_MS}.
 */
import { connect } from "cloudflare:sockets";
import { MailError, type Mailer, type MailMessage, mimeMessage } from "./message";

/** Where and how to reach the relay (SMTP_URL, parsed by config.ts). */
export interface SmtpOptions {
  host: string;
  port: number;
  /** `tls`: TLS from the first byte (smtps, 465); `starttls`: upgrade required; `none`: development only. */
  security: "tls" | "starttls" | "none";
  username: string | null;
  password: string | null;
  from: { address: string; name: string | null };
}

/** A stalled relay must not hold the request forever. */
export const SMTP_TIMEOUT_MS = 15_000;

/**
 * @example await smtpMailer(options).send(message);
 */
export function smtpMailer(options: SmtpOptions): Mailer {
  return {
    async send(message: MailMessage) {
      const domain = options.from.address.split("@")[1] ?? "localhost";
      const raw = mimeMessage(options.from, message, `<${crypto.randomUUID()}@${domain}>`);
      let timer: number | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new MailError("smtp timed out")), SMTP_TIMEOUT_MS);
      });
      try {
        await Promise.race([deliver(options, message.to, raw), timeout]);
      } finally {
        if (timer !== undefined) clearTimeout(timer);
      }
    },
  };
}

async function deliver(options: SmtpOptions, to: string, raw: string): Promise<void> {
  let socket: Socket;
  try {
    socket = connect(
      { hostname: options.host, port: options.port },
      { secureTransport: options.security === "tls" ? "on" : options.security === "starttls" ? "starttls" : "off", allowHalfOpen: false },
    );
  } catch (cause) {
    throw new MailError("smtp connect failed", { cause });
  }
  let session = new SmtpSession(socket);
  try {
    await session.reply(220);
    const ehlo = `EHLO ${options.from.address.split("@")[1] ?? "localhost"}`;
    let features = await session.command(ehlo, 250);
    if (options.security === "starttls") {
      if (!/^STARTTLS$/im.test(features)) throw new MailError("smtp relay does not offer STARTTLS");
      await session.command("STARTTLS", 220);
      session.release();
      socket = socket.startTls();
      session = new SmtpSession(socket);
      features = await session.command(ehlo, 250);
    }
    if (options.username !== null) {
      if (!/^AUTH\b.*\bPLAIN\b/im.test(features)) throw new MailError("smtp relay does not offer AUTH PLAIN");
      await session.command(`AUTH PLAIN ${utf8Base64(`\0${options.username}\0${options.password ?? ""}`)}`, 235);
    }
    await session.command(`MAIL FROM:<${options.from.address}>`, 250);
    await session.command(`RCPT TO:<${to}>`, 250, 251);
    await session.command("DATA", 354);
    // Dot-stuffing (RFC 5321 4.5.2); the MIME text is base64, so this is belt and braces.
    await session.command(`${raw.replace(/\r\n\./g, "\r\n..")}\r\n.`, 250);
    await session.command("QUIT", 221).catch(() => undefined);
  } finally {
    session.release();
    await socket.close().catch(() => undefined);
  }
}

/** Line-oriented replies over one socket's streams. */
class SmtpSession {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private buffer = "";
  private readonly decoder = new TextDecoder();
  private readonly encoder = new TextEncoder();

  constructor(socket: Socket) {
    this.reader = socket.readable.getReader();
    this.writer = socket.writable.getWriter();
  }

  /** Sends one command (CRLF added) and checks the reply code; returns the reply text. */
  async command(line: string, ...expected: number[]): Promise<string> {
    await this.writer.write(this.encoder.encode(`${line}\r\n`));
    return this.reply(...expected);
  }

  /** Reads one (possibly multi-line) reply; throws unless its code is expected. */
  async reply(...expected: number[]): Promise<string> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.line();
      lines.push(line.slice(4));
      if (line.length < 4 || line[3] !== "-") {
        const code = Number(line.slice(0, 3));
        if (!expected.includes(code)) throw new MailError(`smtp replied ${Number.isFinite(code) ? code : "garbage"}`);
        return lines.join("\n");
      }
    }
  }

  /** Lets go of the streams so the socket can be upgraded or closed. */
  release(): void {
    this.reader.releaseLock();
    this.writer.releaseLock();
  }

  private async line(): Promise<string> {
    for (;;) {
      const end = this.buffer.indexOf("\r\n");
      if (end >= 0) {
        const line = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        return line;
      }
      if (this.buffer.length > 64 * 1024) throw new MailError("smtp reply too long");
      const { value, done } = await this.reader.read();
      if (done) throw new MailError("smtp connection closed");
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }
}

function utf8Base64(value: string): string {
  let binary = "";
  for (const b of new TextEncoder().encode(value)) binary += String.fromCharCode(b);
  return btoa(binary);
}
