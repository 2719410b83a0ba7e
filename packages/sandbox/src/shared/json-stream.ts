import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

/** Items serialised per chunk; between chunks the event loop serves other requests. */
export const JSON_CHUNK_ITEMS = 500;

/** Small lists go out in one piece, as Fastify would send them. */
const STREAM_ABOVE = 2000;

async function* chunks(items: readonly unknown[]): AsyncGenerator<string> {
  yield '[';
  for (let start = 0; start < items.length; start += JSON_CHUNK_ITEMS) {
    const end = Math.min(items.length, start + JSON_CHUNK_ITEMS);
    let text = start === 0 ? '' : ',';
    for (let i = start; i < end; i++) text += (i === start ? '' : ',') + JSON.stringify(items[i] ?? null);
    yield text;
    await new Promise((resolve) => setImmediate(resolve));
  }
  yield ']';
}

/**
 * A JSON array as the response body. A list of tens of thousands of objects (an unlimited task
 * list) would block the event loop in one `JSON.stringify`; above a few thousand items it is
 * serialised in chunks instead and streamed, with the same bytes as the one-piece answer.
 */
export function sendJsonArray(reply: FastifyReply, items: readonly unknown[]): FastifyReply {
  if (items.length <= STREAM_ABOVE) return reply.send(items);
  return reply
    .header('content-type', 'application/json; charset=utf-8')
    .send(Readable.from(chunks(items), { objectMode: false }));
}
