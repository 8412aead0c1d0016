import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAdminToken } from '../../src/admin/admin-bearer.js';
import { adminConnection } from '../../src/cli/admin-client.js';
import { loadConfig } from '../../src/config.js';
import { adminTokenPath, DEFAULT_ADMIN_URL } from '../../src/lib/admin-defaults.js';

// The server and the CLI read the admin API's location and the token file from one module, so a
// CLI run with no settings beside a server started with none finds it.
describe('admin defaults shared by the server and the CLI', () => {
  it('the CLI calls the admin listener a default server opens', () => {
    const config = loadConfig({});
    expect(`http://${config.adminHost}:${config.adminPort}`).toBe(DEFAULT_ADMIN_URL);
    expect(adminConnection({ TOLLGATE_ADMIN_TOKEN: 'set' }).url).toBe(DEFAULT_ADMIN_URL);
  });

  it('the CLI reads the token the server generated into the same DATA_DIR', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-admin-defaults-'));
    try {
      const env = { DATA_DIR: dataDir };
      const generated = resolveAdminToken(undefined, loadConfig(env).dataDir);
      expect(fs.existsSync(adminTokenPath(dataDir))).toBe(true);
      expect(adminConnection(env).token).toBe(generated);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a relative or missing DATA_DIR means the same folder to both', () => {
    expect(loadConfig({}).dataDir).toBe(path.resolve('./data'));
    expect(() => adminConnection({ DATA_DIR: 'no-such-folder-here' })).toThrow(
      adminTokenPath(loadConfig({ DATA_DIR: 'no-such-folder-here' }).dataDir),
    );
  });
});
