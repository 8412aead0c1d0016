import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirLockedError } from '../../src/db/data-dir-lock.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { onPostgres } from '../helpers/database.js';
import { tempDir } from '../helpers/storage.js';

describe('data directory lock (embedded database)', () => {
  const opened: Database[] = [];
  const children: ChildProcess[] = [];

  async function open(dataDir: string): Promise<Database> {
    const database = await openDatabase({ databaseUrl: undefined, dataDir });
    opened.push(database);
    return database;
  }

  afterAll(async () => {
    for (const child of children) child.kill();
    for (const database of opened) await database.close().catch(() => undefined);
  });

  it.skipIf(onPostgres)('refuses a second open of a data directory that is in use', async () => {
    // Two PGlite instances on the same files corrupt them, whether in two processes or in one.
    const dataDir = tempDir();
    await open(dataDir);
    await expect(open(dataDir)).rejects.toThrow(DataDirLockedError);
  });

  it.skipIf(onPostgres)('refuses a data directory locked by another running process, naming it', async () => {
    const dataDir = tempDir();
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(child);
    expect(child.pid).toEqual(expect.any(Number));
    fs.writeFileSync(path.join(dataDir, 'tollgate.lock'), `${child.pid}\n`);
    let failure: unknown;
    try {
      await open(dataDir);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(DataDirLockedError);
    expect((failure as Error).message).toContain('another Tollgate process');
    expect((failure as Error).message).toContain(String(child.pid));
    // The holder's lock is left alone.
    expect(fs.readFileSync(path.join(dataDir, 'tollgate.lock'), 'utf8').trim()).toBe(String(child.pid));
  });

  it.skipIf(onPostgres)('can be opened again once closed', async () => {
    const dataDir = tempDir();
    const first = await open(dataDir);
    await first.close();
    expect(fs.existsSync(path.join(dataDir, 'tollgate.lock'))).toBe(false);
    const second = await open(dataDir);
    expect(fs.readFileSync(path.join(dataDir, 'tollgate.lock'), 'utf8').trim()).toBe(String(process.pid));
    await second.close();
    expect(fs.existsSync(path.join(dataDir, 'tollgate.lock'))).toBe(false);
  });

  it.skipIf(onPostgres)('takes over a stale lock left by a process that no longer runs', async () => {
    const dataDir = tempDir();
    let deadPid = 999_999;
    const running = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'EPERM';
      }
    };
    while (running(deadPid)) deadPid += 1;
    fs.writeFileSync(path.join(dataDir, 'tollgate.lock'), `${deadPid}\n`);
    const database = await open(dataDir);
    expect(fs.readFileSync(path.join(dataDir, 'tollgate.lock'), 'utf8').trim()).toBe(String(process.pid));
    await database.close();
    expect(fs.existsSync(path.join(dataDir, 'tollgate.lock'))).toBe(false);
  });

  it.skipIf(onPostgres)('creates the database on first open, leaving only the finished cluster behind', async () => {
    const dataDir = tempDir();
    // What a first start killed during initdb leaves: a scratch copy, never a half-made pgdata.
    fs.mkdirSync(path.join(dataDir, 'pgdata.initdb-424242', 'base'), { recursive: true });
    const database = await open(dataDir);
    expect((await database.knex.raw('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(fs.existsSync(path.join(dataDir, 'pgdata', 'PG_VERSION'))).toBe(true);
    expect(fs.readdirSync(dataDir).sort()).toEqual(['pgdata', 'tollgate.lock']);
    await database.close();
  });

  it.skipIf(onPostgres)(
    'refuses a pgdata directory that holds files but no database, and releases the lock',
    async () => {
      const dataDir = tempDir();
      fs.mkdirSync(path.join(dataDir, 'pgdata'));
      fs.writeFileSync(path.join(dataDir, 'pgdata', 'notes.txt'), 'not a database\n');
      await expect(open(dataDir)).rejects.toThrow(/pgdata is not empty but holds no database/);
      expect(fs.existsSync(path.join(dataDir, 'tollgate.lock'))).toBe(false);
      expect(fs.readFileSync(path.join(dataDir, 'pgdata', 'notes.txt'), 'utf8')).toBe('not a database\n');
    },
  );
});
