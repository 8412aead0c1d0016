import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A real TCP server on 127.0.0.1 that speaks enough of the Redis protocol (RESP) for ioredis to
 * connect and become ready, the way Redis 7 answers: HELLO 3, CLIENT SETNAME / SETINFO, the
 * ready check's INFO, PING. Any other command — what a rate limit sends (EVALSHA, EVAL, MULTI…) —
 * is never answered and the connection answers nothing after it, as a Redis stuck in a slow
 * command does (replies come in order). QUIT closes the connection.
 */
export interface StalledRedis {
  url: string;
  /** Every command received, its name upper-cased, then its arguments, in order. */
  commands: string[][];
  /** Names of the commands left unanswered. */
  unanswered(): string[];
  close(): Promise<void>;
}

const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;

/** HELLO 3 as Redis 7 answers it: a RESP3 map. */
const HELLO_REPLY =
  '%7\r\n' +
  [
    bulk('server') + bulk('redis'),
    bulk('version') + bulk('7.2.4'),
    bulk('proto') + ':3\r\n',
    bulk('id') + ':1\r\n',
    bulk('mode') + bulk('standalone'),
    bulk('role') + bulk('master'),
    bulk('modules') + '*0\r\n',
  ].join('');

const INFO_REPLY = bulk(
  ['# Server', 'redis_version:7.2.4', 'redis_mode:standalone', '', '# Persistence', 'loading:0', ''].join('\r\n'),
);

/** The reply Redis 7 gives, or undefined: the command is one to leave unanswered. */
function replyTo([name, subcommand]: string[]): string | undefined {
  const sub = subcommand?.toUpperCase();
  if (name === 'HELLO') return HELLO_REPLY;
  if (name === 'INFO') return INFO_REPLY;
  if (name === 'PING') return '+PONG\r\n';
  if (name === 'CLIENT' && (sub === 'SETNAME' || sub === 'SETINFO')) return '+OK\r\n';
  // ioredis asks for maintenance notifications; Redis Open Source has no such subcommand.
  if (name === 'CLIENT') return `-ERR unknown subcommand '${sub}'. Try CLIENT HELP.\r\n`;
  return undefined;
}

/**
 * Reads the complete commands (RESP arrays of bulk strings, as clients send them) at the start of
 * `buffer`; answers them and what is left over, an incomplete command.
 */
function parseCommands(buffer: Buffer): { commands: string[][]; rest: Buffer } {
  const commands: string[][] = [];
  let at = 0;
  const line = (from: number) => {
    const end = buffer.indexOf('\r\n', from);
    return end < 0 ? undefined : { text: buffer.toString('latin1', from, end), next: end + 2 };
  };
  for (;;) {
    const header = line(at);
    if (!header) break;
    if (!header.text.startsWith('*')) throw new Error(`not a RESP array: ${header.text}`);
    const args: string[] = [];
    let next = header.next;
    let complete = true;
    for (let i = 0; i < Number(header.text.slice(1)); i++) {
      const length = line(next);
      if (!length || buffer.length < length.next + Number(length.text.slice(1)) + 2) {
        complete = false;
        break;
      }
      const end = length.next + Number(length.text.slice(1));
      args.push(buffer.toString('utf8', length.next, end));
      next = end + 2;
    }
    if (!complete) break;
    commands.push([args[0]!.toUpperCase(), ...args.slice(1)]);
    at = next;
  }
  return { commands, rest: buffer.subarray(at) };
}

export async function startStalledRedis(): Promise<StalledRedis> {
  const commands: string[][] = [];
  const unanswered: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending: Buffer = Buffer.alloc(0);
    let stalled = false;
    socket.on('data', (chunk: Buffer) => {
      const parsed = parseCommands(Buffer.concat([pending, chunk]));
      pending = parsed.rest;
      for (const command of parsed.commands) {
        commands.push(command);
        if (command[0] === 'QUIT') {
          socket.destroy();
          return;
        }
        const reply = stalled ? undefined : replyTo(command);
        if (reply === undefined) {
          stalled = true;
          unanswered.push(command[0]!);
        } else {
          socket.write(reply);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    commands,
    unanswered: () => [...unanswered],
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
