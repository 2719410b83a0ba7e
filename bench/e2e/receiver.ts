/**
 * The baseline of `bench:e2e`: a raw `node:http` receiver in its own process that answers every
 * push 200 with an empty body and records when it arrived. Subscribed through the sandbox's
 * External API Management exactly as the hub is, it shows the sandbox's own push latency.
 *
 * Prints one JSON line `{"url":…}` once listening, then one line per push:
 * `{"arrival":{"at":<epoch ms when the body was read>,"resourceId":…,"eventType":…}}`.
 */
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    // The same moment the hub's edge stamps received_at: the whole body is in.
    const at = Date.now();
    res.writeHead(200, { 'content-length': '0' });
    res.end();
    let resourceId: string | null = null;
    let eventType: string | null = null;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceId?: string;
        eventType?: string;
      };
      resourceId = body.resourceId ?? null;
      eventType = body.eventType ?? null;
    } catch {
      // Not JSON: still an arrival, about nothing the bench waits for.
    }
    process.stdout.write(`${JSON.stringify({ arrival: { at, resourceId, eventType } })}\n`);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object')
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${address.port}` })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
