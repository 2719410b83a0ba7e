import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Query parameters whose values are credentials (Cloud ALM webhooks carry `secretKey` in the URL). */
const SECRET_QUERY_PARAMS =
  /([?&](?:secretKey|secret|client_secret|clientSecret|access_token|token|password)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY_PARAMS, '$1[REDACTED]');
}

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
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: {
      req(req: { id?: string; method?: string; url?: string; hostname?: string; ip?: string }) {
        return {
          id: req.id,
          method: req.method,
          url: req.url ? redactUrl(req.url) : req.url,
          hostname: req.hostname,
          remoteAddress: req.ip,
        };
      },
      err: pino.stdSerializers.err,
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
