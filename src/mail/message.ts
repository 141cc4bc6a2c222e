/**
 * The one small mail interface every transport implements, and the MIME
 * text the SMTP and Cloudflare transports send. Addresses reach a transport
 * only after `normalizeEmail` (plain printable ASCII, no CR/LF), and each
 * transport re-checks them here, so a header can never be injected.
 */

/** One message: a plain-text and an HTML part, to one address. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Sends one message; throws {@link MailError} when the transport refused or failed. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/** A transport failure; its message never carries credentials or the recipient. */
export class MailError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MailError";
  }
}

const SAFE_ADDRESS = /^[\x21-\x3b\x3d\x3f-\x7e]{1,320}$/;

/**
 * Throws unless `address` is one plain ASCII address without spaces, CR, LF
 * or angle brackets: nothing that could end a header or an SMTP command.
 *
 * @example assertSafeAddress("a@example.com");
 */
export function assertSafeAddress(address: string): void {
  if (!SAFE_ADDRESS.test(address) || address.split("@").length !== 2) throw new MailError("unsafe address");
}

/**
 * RFC 5322 text of a message (multipart/alternative, UTF-8, base64 parts),
 * CRLF line ends. `from` is `{ address, name }`; the name is RFC 2047 encoded.
 *
 * @example const raw = mimeMessage({ address: "no-reply@example.com", name: "Example" }, message, "<id@example.com>");
 */
export function mimeMessage(from: { address: string; name: string | null }, message: MailMessage, messageId: string, date = new Date()): string {
  assertSafeAddress(from.address);
  assertSafeAddress(message.to);
  const boundary = `gh-${crypto.randomUUID()}`;
  const fromHeader = from.name ? `${encodeWord(from.name)} <${from.address}>` : from.address;
  const lines = [
    `From: ${fromHeader}`,
    `To: ${message.to}`,
    `Subject: ${encodeWord(message.subject)}`,
    `Date: ${date.toUTCString()}`,
    `Message-ID: ${messageId}`,
    "MIME-Version: 1.0",
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: base64",
    "",
    base64Lines(message.text),
    `--${boundary}`,
    "Content-Type: text/html; charset=utf-8",
    "Content-Transfer-Encoding: base64",
    "",
    base64Lines(message.html),
    `--${boundary}--`,
    "",
  ];
  return lines.join("\r\n");
}

/** RFC 2047 encoded-word (UTF-8, base64) for any header text; never contains CR or LF. */
function encodeWord(value: string): string {
  return `=?UTF-8?B?${base64(value)}?=`;
}

function base64(value: string): string {
  let binary = "";
  for (const b of new TextEncoder().encode(value)) binary += String.fromCharCode(b);
  return btoa(binary);
}

function base64Lines(value: string): string {
  return (base64(value).match(/.{1,76}/g) ?? [""]).join("\r\n");
}
