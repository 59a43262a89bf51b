import { z } from 'zod';

const rule = z.strictObject({ capacity: z.number().int().min(1), refillPerSecond: z.number().positive() });
const ruleOrOff = z.union([rule, z.literal('off')]);
const positive = z.number().int().positive();

/**
 * The gateway settings an environment may set over the app's own `gateway` (rate limits,
 * CORS, deadlines, sizes): what `carrot build` writes to the environment's ConfigMap as
 * `CAROTENE_GATEWAY` and the gateway process applies at start.
 */
export const gatewaySettingsSchema = z.strictObject({
  /** Over the app's `rateLimit`, key by key; `routes` entries over the app's, route by route. */
  rateLimit: z
    .strictObject({
      default: ruleOrOff.optional(),
      routes: z.record(z.string().regex(/^[A-Z]+ \/\S*$/, "must be '<METHOD> <path>' as declared on the handler"), ruleOrOff).optional(),
      /** Share the buckets between gateway replicas through Redis (a URL without credentials: the ConfigMap is not secret). */
      redis: z.strictObject({ url: z.string().regex(/^rediss?:\/\/\S+$/, "must look like 'redis://redis:6379'"), prefix: z.string().optional() }).optional(),
      /**
       * Keep the buckets in each replica's memory although the gateway runs several, so a
       * client gets up to replicas × the limit. A production build refuses memory-only
       * limits on more than one replica unless this says so.
       */
      perReplica: z.boolean().optional(),
    })
    .optional(),
  /** Replaces the app's `cors`. */
  cors: z
    .strictObject({
      origins: z.union([z.array(z.string().min(1)), z.literal('*')]),
      credentials: z.boolean().optional(),
      headers: z.array(z.string().min(1)).optional(),
      maxAgeSeconds: z.number().int().min(0).optional(),
    })
    .optional(),
  /** Deadline of one public request in milliseconds. */
  timeoutMs: positive.optional(),
  /** Largest accepted request body in bytes. */
  bodyLimit: positive.optional(),
  /** Over the app's `limits`, key by key. */
  limits: z
    .strictObject({
      maxUrlLength: positive.optional(),
      maxHeaderBytes: positive.optional(),
      headersTimeoutMs: positive.optional(),
      requestTimeoutMs: positive.optional(),
    })
    .optional(),
});

export type GatewaySettings = z.output<typeof gatewaySettingsSchema>;

/** The environment variable that carries an environment's gateway settings, as JSON. */
export const GATEWAY_SETTINGS_ENV = 'CAROTENE_GATEWAY';

/**
 * Reads `CAROTENE_GATEWAY` (JSON of {@link gatewaySettingsSchema}); throws a TypeError naming
 * the first wrong key's path.
 */
export function parseGatewaySettings(json: string): GatewaySettings {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new TypeError(`${GATEWAY_SETTINGS_ENV} is not JSON: ${(err as Error).message}`);
  }
  const result = gatewaySettingsSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const path = [...issue.path.map(String), ...keys].join('.');
  throw new TypeError(`${GATEWAY_SETTINGS_ENV}: ${path || '(root)'}: ${keys.length > 0 ? 'unknown key' : issue.message}`);
}
