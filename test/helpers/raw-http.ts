import net from 'node:net';

export interface RawRequest {
  method: string;
  /** The request target exactly as sent: not encoded or checked by any client library. */
  target: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (let guard = 0; guard < 100_000 && offset < data.length; guard += 1) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd === -1) break;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!size) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/**
 * One HTTP/1.1 request written byte for byte on a fresh socket — the way a careless or hostile
 * client can, which supertest and fetch will not (they encode or refuse malformed targets).
 */
export function rawRequest(port: number, request: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body);
  const headers = {
    host: `127.0.0.1:${port}`,
    connection: 'close',
    ...request.headers,
    ...(body.length || request.method === 'POST' ? { 'content-length': String(body.length) } : {}),
  };
  const head = `${request.method} ${request.target} HTTP/1.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${request.method} ${request.target.slice(0, 200)}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {
      /* a reset after the answer: judged by what arrived */
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const data = Buffer.concat(chunks);
      const split = data.indexOf('\r\n\r\n');
      const headText = data.subarray(0, split === -1 ? data.length : split).toString('latin1');
      const [statusLine = '', ...lines] = headText.split('\r\n');
      const status = Number(statusLine.split(' ')[1]);
      if (!status) {
        reject(
          new Error(
            `no HTTP answer to ${request.method} ${request.target.slice(0, 200)}: ${JSON.stringify(headText.slice(0, 200))}`,
          ),
        );
        return;
      }
      const responseHeaders: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) responseHeaders[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const rest = split === -1 ? Buffer.alloc(0) : data.subarray(split + 4);
      const bodyBytes = responseHeaders['transfer-encoding'] === 'chunked' ? dechunk(rest) : rest;
      resolve({ status, headers: responseHeaders, body: bodyBytes.toString('utf8') });
    });
    socket.write(head);
    socket.write(body);
  });
}
