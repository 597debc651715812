// `cmesh cert issue NAME [--json]`: a client certificate of the local CA for mTLS (`x-cmesh.tls.client_auth`);
// `cmesh cert renew`: renew every server certificate of the TLS listeners now (open connections keep theirs).

import type { Command } from 'commander';
import { CmeshError } from '../../daemon/api/errors.ts';
import type { CertIssueRequest, CertIssueResponse, CertRenewResponse } from '../../daemon/api/tls.ts';
import type { CliContext } from '../cli-context.ts';
import { createDaemonClient } from '../daemon-client.ts';
import { printJson } from '../output.ts';

export function register(program: Command, ctx: CliContext): void {
  const cert = program.command('cert').description('client certificates for mTLS, and renewal of the TLS listeners\' certificates');
  cert
    .command('issue')
    .description('write a client certificate and its key (0600) under CMESH_HOME/certs/ and print their paths')
    .argument('<name>', "the certificate's name: its CN, and the x-forwarded-client-cert Subject replicas see")
    .option('--json', 'print {"cert": …, "key": …}')
    .action(async (name: string, opts: { json?: boolean }) => {
      // Loaded here: daemon/api/tls.ts imports zod, which a static import would put on every CLI start (~0.75 MB).
      const { CERT_NAME } = await import('../../daemon/api/tls.ts');
      if (!CERT_NAME.test(name)) {
        throw new CmeshError('CMESH_E_USAGE', `invalid certificate name "${name.slice(0, 64)}"`, {
          hint: 'use letters, digits, ".", "_" and "-" (up to 64), starting with a letter or digit, e.g. `cmesh cert issue alice`',
        });
      }
      const body: CertIssueRequest = { name };
      const r = await createDaemonClient(ctx).request<CertIssueResponse>('POST', '/v1/tls/certs', body);
      if (opts.json) return printJson({ cert: r.cert, key: r.key }, ctx.stdout);
      ctx.stdout.write(`cert: ${r.cert}\nkey: ${r.key}\n`);
    });
  cert
    .command('renew')
    .description('renew every server certificate of the TLS listeners now, without dropping connections')
    .option('--json', 'print {"renewed": N}')
    .action(async (opts: { json?: boolean }) => {
      const r = await createDaemonClient(ctx).request<CertRenewResponse>('POST', '/v1/tls/renew');
      if (opts.json) return printJson(r, ctx.stdout);
      ctx.stdout.write(`renewed ${r.renewed} server certificate${r.renewed === 1 ? '' : 's'}\n`);
    });
}
