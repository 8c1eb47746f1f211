// SPDX-License-Identifier: MIT
// The load generator's HTTP/1.1 client: request bytes, response framing, keep-alive, reconnects and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WireConnection, parseResponse, serializeRequest } from '../../scripts/http-wire.ts';

void test('serializeRequest writes the request line, Host, Content-Length and the caller headers before the body', () => {
  const bytes = serializeRequest(
    new URL('http://127.0.0.1:8080/generate?x=1'),
    'POST',
    { 'Content-Type': 'application/json' },
    Buffer.from('{}'),
  );
  assert.equal(
    bytes.toString('latin1'),
    'POST /generate?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}',
  );
  assert.throws(() => serializeRequest(new URL('http://h/'), 'GET', { a: 'b\r\nc: d' }, Buffer.alloc(0)), /line break/);
});

void test('parseResponse frames by Content-Length, waits for partial data and refuses what it cannot frame', () => {
  const ok = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: image/png\r\ncontent-length: 3\r\n\r\nabc');
  assert.deepEqual(parseResponse(ok), { status: 200, length: ok.length, close: false });
  assert.equal(parseResponse(ok.subarray(0, ok.length - 1)), null, 'body incomplete');
  assert.equal(parseResponse(ok.subarray(0, 20)), null, 'headers incomplete');
  const twice = Buffer.concat([ok, ok]);
  assert.equal(parseResponse(twice)!.length, ok.length, 'one response at a time');
  const close = Buffer.from('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  assert.deepEqual(parseResponse(close), { status: 503, length: close.length, close: true });
  assert.throws(() => parseResponse(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')), /chunked/);
  assert.throws(() => parseResponse(Buffer.from('HTTP/1.1 200 OK\r\nX: y\r\n\r\n')), /without Content-Length/);
  assert.throws(() => parseResponse(Buffer.from('garbage\r\n\r\n')), /malformed status line/);
});

async function listen(server: Server): Promise<URL> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/echo`);
}

void test('WireConnection: round trips on one keep-alive socket, reopens after the server closes it, rejects a cut response', async () => {
  const sockets = new Set<unknown>();
  let n = 0;
  const server = createServer((req, res) => {
    sockets.add(req.socket);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      n++;
      const body = Buffer.concat(chunks);
      if (n === 3) {
        res.writeHead(201, { 'Content-Length': body.length, Connection: 'close' });
        res.end(body);
      } else if (n === 5) {
        res.writeHead(200, { 'Content-Length': 100 });
        res.write('short');
        res.socket?.destroy();
      } else {
        res.writeHead(200, { 'Content-Length': body.length });
        // Split the body in two writes so the client sees it arrive in pieces.
        res.write(body.subarray(0, 1));
        setTimeout(() => res.end(body.subarray(1)), 5);
      }
    });
  });
  const url = await listen(server);
  const connection = new WireConnection(url);
  try {
    const request = serializeRequest(url, 'POST', {}, Buffer.from('hello'));
    assert.equal(await connection.roundTrip(request), 200);
    assert.equal(await connection.roundTrip(request), 200);
    assert.equal(sockets.size, 1, 'keep-alive: both on one socket');
    assert.equal(await connection.roundTrip(request), 201, 'Connection: close still delivers its response');
    assert.equal(await connection.roundTrip(request), 200);
    assert.equal(sockets.size, 2, 'a new socket after the close');
    await assert.rejects(connection.roundTrip(request), /closed before the response ended/);
    assert.equal(await connection.roundTrip(request), 200, 'and the next round trip reconnects');
    assert.equal(sockets.size, 3);
  } finally {
    connection.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
