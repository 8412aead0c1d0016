import { CliError } from './admin-client.js';

/** One line from standard input; the trailing newline (\n or \r\n) is not part of it. */
export async function readLineFromStdin(what: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(`${what}: `);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if ((chunk as Buffer).includes(10)) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const newline = text.indexOf('\n');
  const line = (newline === -1 ? text : text.slice(0, newline)).replace(/\r$/, '');
  if (!line) throw new CliError(`no ${what} on standard input (e.g. printf '%s\\n' "$PASSWORD" | tollgate …)`);
  return line;
}
