/**
 * The one Node API the worker uses (through the `nodejs_compat` flag):
 * AsyncLocalStorage, for the request id on every log line (lib/log.ts).
 * Declared here instead of adding all of @types/node to the worker's types,
 * which would make Node globals such as `process` look available.
 */
declare module "node:async_hooks" {
  export class AsyncLocalStorage<T> {
    getStore(): T | undefined;
    run<R>(store: T, callback: () => R): R;
  }
}
