// The Node peer of provider-forge's proxy benchmark (benches/proxy_peers.sh): the least a Node
// platform does per proxied call, with Node's own modules only (no npm packages):
//   - check the platform's API key (Authorization: Bearer KEY, compared in constant time);
//   - find the connection (an in-memory Map: no database round trip, the cheapest lookup there
//     is);
//   - decrypt its credential (AES-256-GCM, the nonce stored with the ciphertext, the row's
//     provider and id as associated data, as provider-forge seals tokens at rest);
//   - drop the caller's Authorization, Cookie, Host, Proxy-* and hop-by-hop headers and set the
//     credential's header;
//   - forward to the upstream over a keep-alive agent, streaming the body both ways.
//
// Usage:
//   node proxy-peer.mjs --listen 127.0.0.1:18082 --upstream http://127.0.0.1:18080 \
//       --api-key KEY [--connections N]
//
// Routes: ANY /proxy/{provider}/{connection_id}/{path...} -> UPSTREAM/{path...}; the store holds
// N connections (default 1000) of provider `bench-api`, ids c0000000, c0000001, ... Prints
// "node proxy peer: listening on http://ADDR" once it accepts requests.

import crypto from 'node:crypto';
import http from 'node:http';

function arg(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  if (at >= 0 && at + 1 < process.argv.length) return process.argv[at + 1];
  if (fallback === undefined) {
    console.error(`proxy-peer: --${name} is required`);
    process.exit(2);
  }
  return fallback;
}

const [host, port] = arg('listen', '127.0.0.1:18082').split(':');
const upstream = new URL(arg('upstream'));
const apiKey = Buffer.from(`Bearer ${arg('api-key')}`);
const count = Number(arg('connections', '1000'));

// Sealing, as the service does it: nonce (12 bytes) || ciphertext || tag (16 bytes).
const key = crypto.randomBytes(32);
const context = (provider, id) => Buffer.from(`tokens\0${provider}\0${id}`);

function seal(provider, id, plaintext) {
  const nonce = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(context(provider, id));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

function open(provider, id, sealed) {
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAAD(context(provider, id));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
}

const connections = new Map();
for (let n = 0; n < count; n++) {
  const id = `c${String(n).padStart(7, '0')}`;
  const token = `1000.${crypto.randomBytes(16).toString('hex')}.${crypto.randomBytes(16).toString('hex')}`;
  const secret = JSON.stringify({ access_token: token, refresh_token: null });
  connections.set(`bench-api/${id}`, seal('bench-api', id, Buffer.from(secret)));
}

// Never forwarded: the caller's credentials, the host, proxy and hop-by-hop headers.
const dropped = new Set([
  'authorization', 'cookie', 'host', 'connection', 'keep-alive', 'te', 'trailer',
  'transfer-encoding', 'upgrade',
]);
const hopByHop = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function fail(res, status, error) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error }));
}

const server = http.createServer((req, res) => {
  const presented = Buffer.from(req.headers.authorization ?? '');
  if (presented.length !== apiKey.length || !crypto.timingSafeEqual(presented, apiKey)) {
    return fail(res, 401, 'unauthorized');
  }
  const match = /^\/proxy\/([^/]+)\/([^/]+)(\/[^?]*)?(\?.*)?$/.exec(req.url);
  if (!match) return fail(res, 404, 'not_found');
  const [, provider, id, path = '/', query = ''] = match;
  const sealed = connections.get(`${provider}/${id}`);
  if (!sealed) return fail(res, 404, 'not_found');
  let token;
  try {
    token = JSON.parse(open(provider, id, sealed)).access_token;
  } catch {
    return fail(res, 500, 'cannot_decrypt');
  }
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!dropped.has(name) && !name.startsWith('proxy-')) headers[name] = value;
  }
  headers.authorization = `Bearer ${token}`;
  const forward = http.request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: path + query,
      headers,
      agent,
    },
    (answer) => {
      const back = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (!hopByHop.has(name)) back[name] = value;
      }
      res.writeHead(answer.statusCode, back);
      answer.pipe(res);
    },
  );
  forward.on('error', () => {
    if (!res.headersSent) fail(res, 502, 'upstream_unreachable');
    else res.destroy();
  });
  req.pipe(forward);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), host, () => {
  console.log(`node proxy peer: listening on http://${host}:${port}`);
});
