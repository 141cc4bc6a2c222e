import pg from "pg";
import { beginStatement } from "./transaction.js";
import type { Backend, BackendResult, BatchOptions, WireField, WireQuery } from "./types.js";

/** Every OID keeps Postgres text output; the Neon driver parses it, as on Neon. */
const rawTextTypes = { getTypeParser: () => (value: string) => value };

/** A real Postgres server reached through a pg.Pool. */
export class PgBackend implements Backend {
  readonly kind = "pg" as const;

  private constructor(private readonly pool: pg.Pool) {}

  /** Connects (and checks the connection) to `connectionString`; every connection gets `timeZone` when given. */
  static async open(connectionString: string, timeZone?: string): Promise<PgBackend> {
    const pool = new pg.Pool({ connectionString, max: 10, ...(timeZone ? { options: `-c TimeZone=${timeZone}` } : {}) });
    // An idle client whose connection the server ends (restart, DROP DATABASE
    // WITH (FORCE) at test teardown) emits 'error' on the pool; unhandled, it
    // would crash the process. The pool discards that client by itself.
    pool.on("error", () => {});
    // A dead server or a wrong URL should fail at start-up, not on the first request.
    const client = await pool.connect();
    client.release();
    return new PgBackend(pool);
  }

  async query(q: WireQuery): Promise<BackendResult> {
    return toBackendResult(await this.pool.query(toPgQuery(q)));
  }

  async batch(queries: WireQuery[], options: BatchOptions): Promise<BackendResult[]> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(beginStatement(options));
      try {
        const results: BackendResult[] = [];
        for (const q of queries) results.push(toBackendResult(await client.query(toPgQuery(q))));
        await client.query("COMMIT");
        return results;
      } catch (err) {
        await client.query("ROLLBACK").catch((rollbackErr: Error) => {
          broken = rollbackErr;
        });
        throw err;
      }
    } finally {
      // A client whose ROLLBACK failed is in an unknown state: discard it.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * `queryMode: "extended"` forces Parse/Bind/Execute even without params, so
 * Postgres refuses several statements in one string, as Neon does.
 */
function toPgQuery(q: WireQuery): pg.QueryArrayConfig & { queryMode: "extended" } {
  return { text: q.query, values: q.params, rowMode: "array", types: rawTextTypes, queryMode: "extended" };
}

function toBackendResult(result: pg.QueryArrayResult): BackendResult {
  return {
    command: result.command,
    rowCount: result.rowCount,
    fields: result.fields.map(
      (f): WireField => ({
        name: f.name,
        dataTypeID: f.dataTypeID,
        tableID: f.tableID,
        columnID: f.columnID,
        dataTypeSize: f.dataTypeSize,
        dataTypeModifier: f.dataTypeModifier,
        format: "text",
      }),
    ),
    rows: result.rows as (string | null)[][],
  };
}
