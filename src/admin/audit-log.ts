/**
 * The audit trail of operator actions: every `admin:action` (pause, resume, replay, delete,
 * lift-hold, purge, from the admin API or the dashboard) becomes one info line, so that the log
 * says who changed what a gateway does, and when.
 */
import type { AdminActionEvent, GatewayEvents } from '../events.js';
import type { Logger } from '../log.js';

/** Logs each operator action at info; returns the function that stops listening. */
export function logAdminActions(events: GatewayEvents, logger: Logger): () => void {
  const log = logger.child({ audit: true });
  const listener = ({ action, target, count, via, at }: AdminActionEvent) => {
    const counted = count === undefined ? '' : ` (${count})`;
    log.info(
      { action, target, count, via, at: new Date(at).toISOString() },
      `admin ${action} ${target}${counted} via ${via}`,
    );
  };
  events.on('admin:action', listener);
  return () => events.off('admin:action', listener);
}
