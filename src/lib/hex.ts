/** Lowercase hex, and Postgres `bytea` hex literals (`\x…`), in one place. */

/** @example toHex(new Uint8Array([0, 255])) // "00ff" */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Decodes hex, with or without Postgres' `\x` prefix. Callers pass text they
 * or the database produced; an odd length or a non-hex digit is a bug there.
 *
 * @example fromHex("\\x00ff") // Uint8Array [0, 255]
 */
export function fromHex(hex: string): Uint8Array {
  const digits = hex.startsWith("\\x") ? hex.slice(2) : hex;
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) throw new Error("fromHex: not a hex string");
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** @example byteaLiteral(new Uint8Array([1, 2])) // "\\x0102" */
export function byteaLiteral(bytes: Uint8Array): string {
  return `\\x${toHex(bytes)}`;
}
