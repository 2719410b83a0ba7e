/**
 * The baseline for `bench:webhook`: a raw `node:http` server that reads the body and answers 202
 * with a body of the hub's shape, doing nothing else. Run as its own process; prints its URL.
 */
import { createServer } from 'node:http';

const body = JSON.stringify({ id: '00000000-0000-4000-8000-000000000000', outcome: 'accepted' });
const server = createServer((request, response) => {
  request.on('data', () => {});
  request.on('end', () => {
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
