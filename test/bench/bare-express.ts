/** The ceiling for reads: express 5 returning the same bytes Stride returns for a read by id, with the same headers. */
import fs from 'node:fs';
import express from 'express';

const body = fs.readFileSync(process.argv[2], 'utf8');
const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.get('/fhir/Patient/:id', (_req, res) => {
  res.setHeader('ETag', 'W/"1"');
  res.setHeader('Content-Type', 'application/fhir+json; charset=utf-8');
  res.send(body);
});
app.listen(Number(process.env.BENCH_PORT), '127.0.0.1', () => process.stdout.write('bare express ready\n'));
process.on('SIGTERM', () => process.exit(0));
