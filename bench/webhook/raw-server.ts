/**
 * The baselines for `bench:webhook`, run as their own process; prints its URL.
 *
 * - default: a raw `node:http` server that reads the body and answers 202 with a body of the
 *   hub's shape, doing nothing else (the baseline the goal is stated against);
 * - BENCH_RAW_SQLITE=<file>: the same, but each request is first stored as one row of a SQLite
 *   file (better-sqlite3, one prepared INSERT, its own transaction, WAL and synchronous=NORMAL as
 *   the hub's store), and answered once that has committed: the least any durable edge does.
 */
import { createServer } from 'node:http';
import Database from 'better-sqlite3';

const body = JSON.stringify({ id: '00000000-0000-4000-8000-000000000000', outcome: 'accepted' });
const sqliteFile = process.env.BENCH_RAW_SQLITE;
let store: ((payload: string) => void) | undefined;
if (sqliteFile) {
  const db = new Database(sqliteFile);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, body TEXT NOT NULL)',
  );
  const insert = db.prepare('INSERT INTO deliveries (received_at, body) VALUES (?, ?)');
  store = (payload) => {
    insert.run(Date.now(), payload);
  };
}

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => {
    if (store) chunks.push(chunk);
  });
  request.on('end', () => {
    store?.(Buffer.concat(chunks).toString('utf8'));
    response.writeHead(202, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object')
    console.log(JSON.stringify({ url: `http://127.0.0.1:${address.port}` }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
