import { mkdirSync } from "node:fs";
import { PGlite, types, type Results } from "@electric-sql/pglite";
import { SerialQueue } from "./serial-queue.js";
import { beginStatement } from "./transaction.js";
import type { Backend, BackendResult, BatchOptions, WireQuery } from "./types.js";

const keepText = (value: string) => value;
const textAsIs = (value: unknown) => String(value);

/**
 * Serializers are looked up per OID without spreading, so a Proxy covers every
 * type: the driver already sent Postgres text, PGlite must not re-encode it
 * (its bool serializer would turn the string "f" into 't').
 */
const passThroughSerializers = new Proxy({}, { get: () => textAsIs });

/** Embedded Postgres (PGlite), in memory or in a data directory. */
export class PgliteBackend implements Backend {
  readonly kind = "pglite" as const;
  private readonly queue = new SerialQueue();

  private constructor(private readonly db: PGlite) {}

  /**
   * Opens PGlite at `dataDir`, or in memory when `dataDir` is undefined.
   * PGlite has one connection, so `SET TimeZone` holds for every query.
   */
  static async open(dataDir: string | undefined, timeZone?: string): Promise<PgliteBackend> {
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    const db = dataDir ? new PGlite(dataDir) : new PGlite();
    await db.waitReady;
    if (timeZone) await db.exec(`SET TimeZone TO '${timeZone}'`);
    return new PgliteBackend(db);
  }

  query(q: WireQuery): Promise<BackendResult> {
    return this.queue.run(() => this.run(q));
  }

  batch(queries: WireQuery[], options: BatchOptions): Promise<BackendResult[]> {
    return this.queue.run(async () => {
      await this.db.exec(beginStatement(options));
      try {
        const results: BackendResult[] = [];
        for (const q of queries) results.push(await this.run(q));
        await this.db.exec("COMMIT");
        return results;
      } catch (err) {
        await this.db.exec("ROLLBACK");
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    await this.queue.run(() => this.db.close());
  }

  /**
   * PGlite's query() uses the extended protocol, so Postgres itself refuses a
   * string with several statements (42601), as Neon does.
   */
  private async run(q: WireQuery): Promise<BackendResult> {
    const result = (await this.db.query<(string | null)[]>(q.query, q.params, {
      rowMode: "array",
      parsers: this.rawTextParsers(),
      serializers: passThroughSerializers,
    })) as Results<(string | null)[]> & { command?: string; rowCount?: number };
    return {
      command: result.command ?? "",
      rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length,
      // PGlite only reports name and type OID; the driver only needs those.
      fields: result.fields.map((f) => ({
        name: f.name,
        dataTypeID: f.dataTypeID,
        tableID: 0,
        columnID: 0,
        dataTypeSize: -1,
        dataTypeModifier: -1,
        format: "text" as const,
      })),
      rows: result.rows,
    };
  }

  /**
   * PGlite spreads per-query parsers over its own, so a Proxy is lost; instead
   * every OID PGlite knows a parser for (built-ins plus array types found at
   * start-up) maps to identity. Unknown OIDs are returned as text already.
   */
  private rawTextParsers(): Record<number, (value: string) => string> {
    const parsers: Record<number, (value: string) => string> = {};
    for (const oid of Object.keys({ ...types.parsers, ...this.db.parsers })) parsers[Number(oid)] = keepText;
    return parsers;
  }
}
