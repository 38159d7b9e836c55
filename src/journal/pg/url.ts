/**
 * The PostgreSQL journal's URL as messages and logs show it. Apart from migrate.ts so that the
 * start-up summary can show it without loading the PostgreSQL driver.
 */

/** The database's URL without its password; `storage.url` when it does not parse. */
export function redactStorageUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href;
  } catch {
    return 'storage.url';
  }
}
