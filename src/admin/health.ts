/**
 * GET /healthz (the process is up) and GET /readyz (ready to take events), as served on both
 * listeners: the admin app registers these handlers on its OpenAPI routes, and the public ingest
 * listener mounts `healthRoutes` ahead of its sources. Neither needs a token: they say nothing
 * but up/ready.
 */
import { type Context, Hono } from 'hono';

/** Whether the gateway is ready; a check that throws or rejects counts as not ready. */
export type ReadinessCheck = () => Promise<boolean> | boolean;

/** The two handlers, for a router of either kind. */
export function healthHandlers(isReady: ReadinessCheck) {
  return {
    healthz: (c: Context) => c.json({ status: 'ok' as const }, 200),
    readyz: async (c: Context) =>
      (await ready(isReady))
        ? c.json({ status: 'ready' as const }, 200)
        : c.json({ error: { code: 'not_ready', message: 'not ready' } }, 503),
  };
}

/** GET /healthz and GET /readyz alone, for the public ingest listener (mount them ahead of the source routes). */
export function healthRoutes(isReady: ReadinessCheck): Hono {
  const { healthz, readyz } = healthHandlers(isReady);
  const app = new Hono();
  app.get('/healthz', healthz);
  app.get('/readyz', readyz);
  return app;
}

async function ready(isReady: ReadinessCheck): Promise<boolean> {
  try {
    return (await isReady()) === true;
  } catch {
    return false;
  }
}
