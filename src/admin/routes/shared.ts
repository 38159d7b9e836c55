/**
 * What the admin routes' schemas share: the bearer scheme, the error answer, times as the API reads
 * and writes them, the path parameters and the replay answer.
 */
import { z } from '@hono/zod-openapi';

/** Security scheme name in the OpenAPI document. */
export const BEARER = 'bearer';
export const secured = [{ [BEARER]: [] }];

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ description: 'Stable, machine-readable', example: 'not_found' }),
      message: z.string(),
    }),
  })
  .openapi('Error');

export const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
});
export const unauthorized = { 401: errorResponse('Missing or wrong bearer token (`unauthorized`)') };
export const invalid = { 400: errorResponse('The request does not match the schema (`invalid_request`)') };
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** A time: ISO-8601 (`2024-05-01T10:00:00Z`) or Unix epoch milliseconds; resolves to epoch ms. */
function toEpochMs(value: string | number, ctx: z.core.$RefinementCtx): number {
  const ms =
    typeof value === 'number'
      ? value
      : /^\d+$/.test(value)
        ? Number(value)
        : /^\d{4}-\d{2}-\d{2}/.test(value)
          ? Date.parse(value)
          : NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a time: use ISO-8601 (2024-05-01T10:00:00Z) or epoch milliseconds`,
    });
    return z.NEVER;
  }
  return ms;
}
const timeDoc = { description: 'ISO-8601 or Unix epoch milliseconds', example: '2024-05-01T10:00:00Z' };
export const time = z.union([z.string(), z.number()]).transform(toEpochMs).openapi(timeDoc);
export const queryTime = z.string().transform(toEpochMs).openapi(timeDoc);

export const isoTime = z.string().openapi({ format: 'date-time' });
export const deliveryStatus = z.enum(['pending', 'in_flight', 'delivered', 'dead']);
export const finishedStatus = z.enum(['dead', 'delivered']);
export const bodyEncoding = z
  .enum(['utf8', 'base64'])
  .openapi({ description: 'utf8 when the bytes are valid UTF-8, else base64' });

export const NameParam = z.object({
  name: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'crm' }),
});
export const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

export const Replayed = z
  .object({ replayed: z.number().int().openapi({ description: 'Deliveries made pending again' }) })
  .openapi('Replayed');
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: false,
  content: { 'application/json': { schema } },
});
