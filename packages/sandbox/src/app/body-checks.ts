import { Transform, type TransformCallback } from 'node:stream';
import type { HttpApp } from '@calmhub/platform';

/** Deeper JSON is refused before any parser or service walks it recursively (stack overflow → 500). */
export const MAX_JSON_DEPTH = 256;

/** Raised on the body stream; every service's error handler turns a 4xx `statusCode` into its own 400. */
export class BodyCheckError extends Error {
  readonly statusCode = 400;
  // Fastify's code for an unparsable JSON body: the Cloud ALM services word it as such.
  readonly code = 'FST_ERR_CTP_INVALID_JSON_BODY';
  constructor(message: string) {
    super(message);
    this.name = 'BodyCheckError';
  }
}

function isJson(contentType: string | undefined): boolean {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return media.endsWith('/json') || media.endsWith('+json');
}

/**
 * Checks a JSON body while it streams to the parser, without buffering it: the bytes must be
 * valid UTF-8 (otherwise Node would store U+FFFD replacement characters in their place) and
 * arrays/objects may not nest deeper than `MAX_JSON_DEPTH`. Depth is counted on the text, outside
 * strings, so malformed JSON still reaches the parser and gets its usual answer.
 */
export class JsonBodyCheck extends Transform {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private depth = 0;
  private inString = false;
  private escaped = false;
  receivedEncodedLength = 0;

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, done: TransformCallback): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.receivedEncodedLength += bytes.length;
    let text: string;
    try {
      text = this.decoder.decode(bytes, { stream: true });
    } catch {
      done(new BodyCheckError('The request body is not valid UTF-8'));
      return;
    }
    const error = this.scan(text);
    if (error) done(error);
    else done(null, bytes);
  }

  override _flush(done: TransformCallback): void {
    try {
      this.decoder.decode();
    } catch {
      done(new BodyCheckError('The request body is not valid UTF-8 (it ends inside a character)'));
      return;
    }
    done();
  }

  private scan(text: string): BodyCheckError | undefined {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) this.inString = false;
      } else if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) {
        if (++this.depth > MAX_JSON_DEPTH)
          return new BodyCheckError(`The request body nests deeper than ${MAX_JSON_DEPTH} levels`);
      } else if (c === 0x7d || c === 0x5d) this.depth--;
    }
    return undefined;
  }
}

/** A NUL in the URL of an admin route: no id holds one, and PostgreSQL cannot compare text with it. */
export class NulInUrlError extends Error {
  readonly statusCode = 400;
  constructor() {
    super('The request URL contains a NUL character');
    this.name = 'NulInUrlError';
  }
}

/**
 * Installs the request checks for every route registered after it (call it before the routes):
 * the JSON body check, and a 400 for `%00` in admin URLs (the Cloud ALM services have their own).
 */
export function registerBodyChecks(app: HttpApp): void {
  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/admin') && /%00/.test(request.url)) throw new NulInUrlError();
  });
  app.addHook('preParsing', async (request, _reply, payload) => {
    if (!isJson(request.headers['content-type'])) return payload;
    const check = new JsonBodyCheck();
    // pipe() does not forward a failing source (an aborted upload): pass it on so parsing ends.
    payload.on('error', (error) => check.destroy(error));
    return payload.pipe(check);
  });
}
