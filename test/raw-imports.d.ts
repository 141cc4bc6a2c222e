/** Vite's `?raw` imports: a file's text (e.g. a migration's SQL in a test). */
declare module "*.sql?raw" {
  const text: string;
  export default text;
}
