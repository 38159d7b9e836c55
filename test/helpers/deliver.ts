/**
 * One real delivery attempt: a real receiver, the real delivery client built as the gateway builds
 * it (re-signing from the sources' config, the destination's own `sign`), one claim sent.
 */
import { configSchema } from '../../src/config/schema.js';
import { createDeliveryClient } from '../../src/delivery/http-client.js';
import type { Claim } from '../../src/journal/port.js';
import { createResigner } from '../../src/senders/resign.js';
import { type Received, startReceiver } from './receiver.js';

export interface DeliverOptions {
  /** `sources:` of the config (validated by the real schema); their `to` is crm. */
  sources?: Record<string, Record<string, unknown>>;
  /** Extra keys of the crm destination, e.g. `sign`. */
  destination?: Record<string, unknown>;
  /** False: a client without the re-signer, as before this feature (the control case). */
  resign?: boolean;
}

export async function deliverOnce(
  claim: Claim,
  options: DeliverOptions = {},
): Promise<Received & { status?: number | undefined; error?: string | undefined }> {
  const receiver = await startReceiver();
  try {
    const config = configSchema.parse({
      destinations: { crm: { url: `${receiver.url}/hook`, ...options.destination } },
      sources: Object.fromEntries(
        Object.entries(options.sources ?? {}).map(([name, s]) => [name, { path: `/in/${name}`, to: 'crm', ...s }]),
      ),
    });
    const client = createDeliveryClient(
      config.destinations.crm!,
      options.resign === false ? {} : { sign: createResigner(config.sources) },
    );
    try {
      const result = await client.send(claim);
      if (result.status !== 200) throw new Error(`delivery failed: ${result.status ?? result.error}`);
      return { ...receiver.received[0]!, status: result.status, error: result.error };
    } finally {
      await client.close();
    }
  } finally {
    await receiver.close();
  }
}
