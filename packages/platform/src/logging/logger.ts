import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { LOG_MASK, redactRequestUrl } from './redact.js';

export type { Logger };

/** Secret-named fields pino redacts wherever they appear (URLs and headers: `redact.ts`). */
const SECRET_FIELDS = [
  'clientSecret',
  'client_secret',
  'clientsecret',
  'password',
  'secret',
  'secretKey',
  'access_token',
  'accessToken',
  'refresh_token',
  'token',
  'privateKey',
  'key',
];

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
  ...SECRET_FIELDS.map((field) => `*.*.${field}`),
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: LOG_MASK },
    serializers: {
      req(req: { id?: string; method?: string; url?: string; hostname?: string; ip?: string }) {
        return {
          id: req.id,
          method: req.method,
          url: req.url ? redactRequestUrl(req.url) : req.url,
          hostname: req.hostname,
          remoteAddress: req.ip,
        };
      },
      err: pino.stdSerializers.err,
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
