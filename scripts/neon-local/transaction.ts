import { BadRequestError } from "./errors.js";
import type { BatchOptions } from "./types.js";

const ISOLATION_SQL: Record<NonNullable<BatchOptions["isolationLevel"]>, string> = {
  ReadUncommitted: "READ UNCOMMITTED",
  ReadCommitted: "READ COMMITTED",
  RepeatableRead: "REPEATABLE READ",
  Serializable: "SERIALIZABLE",
};

/** Builds the BEGIN statement for a batch from the Neon-Batch-* options. */
export function beginStatement(options: BatchOptions): string {
  const modes: string[] = [];
  if (options.isolationLevel) modes.push(`ISOLATION LEVEL ${ISOLATION_SQL[options.isolationLevel]}`);
  if (options.readOnly !== undefined) modes.push(options.readOnly ? "READ ONLY" : "READ WRITE");
  if (options.deferrable !== undefined) modes.push(options.deferrable ? "DEFERRABLE" : "NOT DEFERRABLE");
  return modes.length ? `BEGIN ${modes.join(", ")}` : "BEGIN";
}

/** Validates the Neon-Batch-Isolation-Level header value. */
export function parseIsolationLevel(value: string | undefined): BatchOptions["isolationLevel"] {
  if (value === undefined) return undefined;
  if (value in ISOLATION_SQL) return value as BatchOptions["isolationLevel"];
  throw new BadRequestError(`invalid Neon-Batch-Isolation-Level: ${value}`);
}
