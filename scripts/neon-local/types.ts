/**
 * Shapes shared by the neon-local server and its backends. They mirror what
 * Neon's SQL-over-HTTP endpoint returns and what `@neondatabase/serverless`
 * 1.2.0 reads (see `processQueryResult` in the driver: it only needs
 * `fields[].name`, `fields[].dataTypeID` and `rows`, but we send the full
 * node-postgres field shape, as Neon does).
 */

/** One statement as the driver sends it: params are already text (or null). */
export interface WireQuery {
  query: string;
  params: (string | null)[];
}

/** A column description, in node-postgres / Neon field shape. */
export interface WireField {
  name: string;
  dataTypeID: number;
  tableID: number;
  columnID: number;
  dataTypeSize: number;
  dataTypeModifier: number;
  format: "text";
}

/** A statement result before the server decides array vs object rows. */
export interface BackendResult {
  command: string;
  rowCount: number | null;
  fields: WireField[];
  /** Postgres TEXT output of every value, untouched, or null. */
  rows: (string | null)[][];
}

/** Transaction options carried by the Neon-Batch-* headers. */
export interface BatchOptions {
  isolationLevel?: "ReadUncommitted" | "ReadCommitted" | "RepeatableRead" | "Serializable";
  readOnly?: boolean;
  deferrable?: boolean;
}

/** A database that neon-local forwards statements to. */
export interface Backend {
  readonly kind: "pglite" | "pg";
  /** Runs one statement (extended protocol, so one statement only). */
  query(q: WireQuery): Promise<BackendResult>;
  /** Runs all statements in one transaction; any failure rolls back everything. */
  batch(queries: WireQuery[], options: BatchOptions): Promise<BackendResult[]>;
  close(): Promise<void>;
}

/** Counters exposed on `GET /__stats`. */
export interface Stats {
  /** POST /sql calls, i.e. database round trips made by the driver. */
  requests: number;
  /** Statements received (a batch of 3 counts 3). */
  statements: number;
  /** POST /sql calls that carried `{queries:[…]}`. */
  batches: number;
  /** POST /sql calls that did not end in HTTP 200 (including injected faults). */
  errors: number;
  /** The largest POST /sql body seen, in bytes (Neon refuses more than 10 MiB). */
  maxRequestBytes: number;
}

/** How an injected fault fails a request. */
export type FaultMode = "http500" | "postgres" | "drop";

/** Fault settings, as accepted by `POST /__faults` and `setFaults()`. */
export interface Faults {
  /** Fail the Nth POST /sql from now (1 = the next one), once. */
  failNth?: number;
  /** Fail every POST /sql whose SQL (any statement of a batch) matches this regex (case-insensitive). */
  failMatching?: string;
  /** How failNth / failMatching fail; default "http500". */
  mode?: FaultMode;
  /** SQLSTATE used by mode "postgres": XX000 (internal error, default), 57P01 (admin shutdown), 42P01 (undefined table), … */
  code?: string;
  /** Delay added before every POST /sql is handled. */
  latencyMs?: number;
  /**
   * Only affect requests whose connection string has this user name (see
   * `scopeOf`), so one test file's faults don't break files running beside it.
   */
  scope?: string;
}
