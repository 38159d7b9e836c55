/**
 * The pacer a destination gets by default: adaptive (adaptive-pacer.ts) when the config says
 * `adaptive:`, with `rate` and `concurrency` as ceilings; otherwise the fixed pace (static-pacer.ts).
 */
import type { DestinationConfig } from '../../config/schema.js';
import { AdaptivePacer } from './adaptive-pacer.js';
import type { Pacer, PacerContext } from './pacer.js';
import { createStaticPacer } from './static-pacer.js';

/** See the module comment. */
export function createPacer(destination: DestinationConfig, name: string, now: number, context?: PacerContext): Pacer {
  const { adaptive } = destination;
  if (!adaptive) return createStaticPacer(destination, name, now);
  return new AdaptivePacer(
    {
      maxRate: destination.rate,
      maxConcurrency: destination.concurrency,
      minRate: adaptive.min_rate,
      minConcurrency: adaptive.min_concurrency,
      burst: destination.burst,
    },
    now,
    context?.learned,
    context?.onChange,
  );
}
