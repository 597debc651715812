// How to trust the local CA: the per-platform instructions `cmesh ca` prints, and `cmesh ca install`, which copies the
// certificate into a Debian- or Fedora-like system store (under --root for tests) and runs the store's update tool
// only for the real root. It says each step it takes; it never touches a store silently or half-way.

import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CmeshError } from '../daemon/api/errors.ts';

export const INSTALLED_NAME = 'cmesh-local-ca.crt';

/** `cmesh ca`: where the CA is and how each platform trusts it. */
export function trustInstructions(path: string, fingerprint: string): string {
  const q = `"${path}"`;
  return [
    `cmesh's local CA: ${path}`,
    `SHA-256 fingerprint: ${fingerprint}`,
    '',
    'Trust it once; then https://localhost:PORT of every service with `x-cmesh.tls` verifies.',
    '',
    'Debian / Ubuntu:',
    `  sudo cp ${q} /usr/local/share/ca-certificates/${INSTALLED_NAME} && sudo update-ca-certificates`,
    'Fedora / RHEL:',
    `  sudo cp ${q} /etc/pki/ca-trust/source/anchors/${INSTALLED_NAME} && sudo update-ca-trust`,
    'macOS:',
    `  sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${q}`,
    'Firefox / Chrome on Linux (NSS; Firefox profiles: -d sql:<profile dir>, or Settings > Certificates > Import):',
    `  certutil -d sql:$HOME/.pki/nssdb -A -t "C,," -n "cmesh local CA" -i ${q}`,
    'One program only:',
    '  curl --cacert "$(cmesh ca path)" https://localhost:PORT/',
    '  NODE_EXTRA_CA_CERTS="$(cmesh ca path)" node app.js',
    '',
    '`cmesh ca install` runs the Debian/Fedora steps itself (as root). The CA key never leaves CMESH_HOME/ca.',
  ].join('\n');
}

interface Store {
  family: string;
  dir: string;
  update: string[];
}

/** The system store of the distribution under `root`, told apart by the files each family ships. */
export function detectStore(root: string): Store | undefined {
  const at = (p: string): string => join(root, p);
  if (existsSync(at('etc/debian_version')) || existsSync(at('usr/sbin/update-ca-certificates'))) {
    return { family: 'Debian/Ubuntu', dir: at('usr/local/share/ca-certificates'), update: ['update-ca-certificates'] };
  }
  if (existsSync(at('etc/redhat-release')) || existsSync(at('etc/fedora-release')) || existsSync(at('usr/bin/update-ca-trust'))) {
    return { family: 'Fedora/RHEL', dir: at('etc/pki/ca-trust/source/anchors'), update: ['update-ca-trust'] };
  }
  return undefined;
}

/** Copies the CA into the store under `root`; returns the lines saying what was done. */
export function installCa(caPath: string, root: string, run: (cmd: string[]) => void = runUpdate): string[] {
  const store = detectStore(root);
  if (store === undefined) {
    throw new CmeshError('CMESH_E_TLS', `no Debian- or Fedora-like certificate store found under ${root}`, {
      hint: 'follow the steps `cmesh ca` prints for your platform (macOS, Firefox/NSS)',
    });
  }
  const dest = join(store.dir, INSTALLED_NAME);
  try {
    mkdirSync(store.dir, { recursive: true, mode: 0o755 });
    copyFileSync(caPath, dest);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new CmeshError('CMESH_E_TLS', `cannot write ${dest}: ${e.code ?? e.message}`, {
      hint: e.code === 'EACCES' || e.code === 'EPERM' ? 'the system store needs root: run the commands `cmesh ca` prints (they use sudo)' : 'check the path',
    });
  }
  const lines = [`copied ${caPath} to ${dest} (${store.family})`];
  if (root !== '/') {
    lines.push(`--root ${root}: ${store.update.join(' ')} not run (it updates only the real system store)`);
    return lines;
  }
  run(store.update);
  lines.push(`ran ${store.update.join(' ')}`);
  return lines;
}

function runUpdate(cmd: string[]): void {
  try {
    // Required here, not imported: node:child_process costs every CLI start ~5 ms and only `ca install` runs a tool.
    const { execFileSync } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
    execFileSync(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    throw new CmeshError('CMESH_E_TLS', `${cmd.join(' ')} failed: ${(err as Error).message.split('\n')[0]}`, {
      hint: 'the certificate is copied; run the update command yourself once the problem is fixed',
    });
  }
}
