/**
 * The PostgreSQL journal's URL as messages, logs and `sluice config` show it. Apart from migrate.ts
 * so that the start-up summary and the config plan can show it without loading the PostgreSQL driver.
 */

/** The database's URL without its password; `fallback` when it does not parse. */
export function redactStorageUrl(url: string, fallback = 'storage.url'): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href;
  } catch {
    return fallback;
  }
}
