// A fake service for the benchmarks: answers like GitHub's GET /user, with keep-alive.
import http from 'node:http';

const body = JSON.stringify({ login: 'bench-user', id: 1, name: 'Bench User', company: 'Latchkey' });
http
  .createServer((req, res) => {
    if (req.url === '/healthz') return res.end('ok');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
