/**
 * The modes of a destination's delivery loop, and which changes between them are allowed.
 *
 *   running   claims and sends at the destination's pace
 *   held      sends nothing until a time: the consumer's Retry-After, or a consumer that is down
 *   probing   the consumer was down: one request at a time until one is answered
 *   paused    the operator paused it: claims nothing (in-flight attempts finish)
 *   stopping  shutdown: claims nothing more, gives back what it claimed ahead
 */
export const DESTINATION_MODES = ['running', 'held', 'probing', 'paused', 'stopping'] as const;
export type DestinationMode = (typeof DESTINATION_MODES)[number];
