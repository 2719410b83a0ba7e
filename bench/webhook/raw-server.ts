/**
 * The baselines for `bench:webhook`, run as their own process; prints its URL.
 *
 * - default: a raw `node:http` server that reads the body and answers 202 with a body of the
 *   hub's shape, doing nothing else (the baseline the goal is stated against);
 * - BENCH_RAW_SQLITE=<file>: the same, but each request is first stored as one row of a SQLite
 *   file (better-sqlite3, one prepared INSERT, its own transaction, WAL and synchronous=NORMAL as
 *   the hub's store), and answered once that has committed;
 * - BENCH_LEAN_EDGE=<file>: the least a correct durable webhook edge does, with none of the hub's
 *   layers: the key (query `secretKey`) compared in constant time against a digest, the body
 *   checked as UTF-8 JSON (400 otherwise), a UUIDv7 id, and a row of the hub's landing shape
 *   (11 values) stored with group commit: the requests of one event-loop turn in one
 *   transaction, each answered once it has committed. What the hub could reach on this machine.
 */
import { hash, randomFillSync, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import Database from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';

const body = JSON.stringify({ id: '00000000-0000-4000-8000-000000000000', outcome: 'accepted' });
/** The key the lean edge expects; the bench appends it to the URL it prints. */
const LEAN_EDGE_KEY = 'bench-lean-edge-key-0123456789abcdefghijklmno';

function openStore(file: string, table: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE IF NOT EXISTS ${table}`);
  return db;
}

function answer(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

type Handle = (
  request: { body: Buffer; headers: IncomingHttpHeaders; url: string },
  response: ServerResponse,
) => void;

const noOp: Handle = (_request, response) => answer(response, 202, body);

function insertPerRequest(file: string): Handle {
  const db = openStore(
    file,
    'deliveries (id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, body TEXT NOT NULL)',
  );
  const insert = db.prepare('INSERT INTO deliveries (received_at, body) VALUES (?, ?)');
  return (request, response) => {
    insert.run(Date.now(), request.body.toString('utf8'));
    answer(response, 202, body);
  };
}

const LANDING_COLUMNS =
  'seq, id, integration_id, dedupe_key, received_at, headers, body, self_test, state, reason, about';
const LANDING_WIDTH = LANDING_COLUMNS.split(',').length;

function leanEdge(file: string): Handle {
  const db = openStore(
    file,
    'landing (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, integration_id TEXT NOT NULL, ' +
      'dedupe_key TEXT NOT NULL, received_at INTEGER NOT NULL, headers TEXT NOT NULL, body TEXT NOT NULL, ' +
      'self_test INTEGER NOT NULL, state TEXT, reason TEXT, about TEXT)',
  );
  const inserts: Database.Statement[] = [];
  const insertOf = (rows: number) => {
    let insert = inserts[rows];
    if (!insert) {
      const row = `(${Array(LANDING_WIDTH).fill('?').join(', ')})`;
      insert = db.prepare(
        `INSERT INTO landing (${LANDING_COLUMNS}) VALUES ${Array(rows).fill(row).join(', ')}`,
      );
      inserts[rows] = insert;
    }
    return insert;
  };
  const store = db.transaction((values: unknown[], rows: number) => insertOf(rows).run(values));
  const keyDigest = hash('sha256', LEAN_EDGE_KEY, 'buffer');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const random = Buffer.alloc(16 * 256);
  let randomOffset = random.length;
  let seq = 1;
  let waiting: Array<{ request: Parameters<Handle>[0]; response: ServerResponse }> = [];

  const flush = () => {
    const batch = waiting;
    waiting = [];
    const values: unknown[] = [];
    const answers: Array<[ServerResponse, number, string]> = [];
    const now = Date.now();
    for (const { request, response } of batch) {
      const mark = request.url.indexOf('?');
      const key = new URLSearchParams(mark < 0 ? '' : request.url.slice(mark + 1)).get('secretKey') ?? '';
      if (!timingSafeEqual(hash('sha256', key, 'buffer'), keyDigest)) {
        answers.push([response, 404, '{"error":{"code":"not_found"}}']);
        continue;
      }
      let text: string;
      let envelope: { resourceType?: unknown; eventType?: unknown; resourceId?: unknown };
      try {
        text = utf8.decode(request.body);
        envelope = JSON.parse(text);
      } catch {
        answers.push([response, 400, '{"error":{"code":"bad_request"}}']);
        continue;
      }
      if (randomOffset === random.length) {
        randomFillSync(random);
        randomOffset = 0;
      }
      randomOffset += 16;
      const id = uuidv7({ random: random.subarray(randomOffset - 16, randomOffset) });
      const webhookId = request.headers['webhook-id'];
      const headers = JSON.stringify({
        'content-type': request.headers['content-type'],
        'webhook-id': webhookId,
      });
      const about = `${envelope.resourceType}\u001f${envelope.eventType}\u001f${envelope.resourceId}\u001ffeature`;
      values.push(seq++, id, 'integration', `id:${webhookId}`, now, headers, text, 0, null, null, about);
      answers.push([response, 202, JSON.stringify({ id, outcome: 'accepted' })]);
    }
    if (values.length > 0) store.immediate(values, values.length / LANDING_WIDTH);
    for (const [response, status, text] of answers) answer(response, status, text);
  };
  return (request, response) => {
    if (waiting.length === 0) setImmediate(flush);
    waiting.push({ request, response });
  };
}

const handle = process.env.BENCH_LEAN_EDGE
  ? leanEdge(process.env.BENCH_LEAN_EDGE)
  : process.env.BENCH_RAW_SQLITE
    ? insertPerRequest(process.env.BENCH_RAW_SQLITE)
    : noOp;
// The no-op reads the body and drops it; the others keep it.
const keepsBody = handle !== noOp;
const EMPTY = Buffer.alloc(0);

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => {
    if (keepsBody) chunks.push(chunk);
  });
  request.on('end', () => {
    const requestBody = !keepsBody
      ? EMPTY
      : chunks.length === 1
        ? (chunks[0] as Buffer)
        : Buffer.concat(chunks);
    handle({ body: requestBody, headers: request.headers, url: request.url ?? '' }, response);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') {
    const query = process.env.BENCH_LEAN_EDGE ? `/webhook?secretKey=${LEAN_EDGE_KEY}` : '';
    console.log(JSON.stringify({ url: `http://127.0.0.1:${address.port}${query}` }));
  }
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
