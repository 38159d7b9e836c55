import { defineConfig } from 'drizzle-kit';

/** The PostgreSQL journal's migrations; `npm run db:generate` runs this config after drizzle.config.ts (SQLite). */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/journal/pg/schema.ts',
  out: './migrations/pg',
});
