import { type Command, InvalidArgumentError } from 'commander';
import { InterruptedError } from '../../errors.js';
import { serveSite } from '../../web/server.js';

interface ServeFlags {
  port: number;
  host: string;
  json?: boolean;
  quiet?: boolean;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('must be a port number (0 to 65535; 0 picks a free one)');
  return n;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'Serve a site written by gzh export-web on this machine (127.0.0.1 unless --host says otherwise) until ' +
        'interrupted.',
    )
    .argument('<dir>', 'site directory (from gzh export-web)')
    .option('--port <n>', 'TCP port (0: any free port)', port, 8080)
    .option('--host <address>', 'address to bind; 0.0.0.0 makes the page reachable from other machines', '127.0.0.1')
    .action(async (dir: string, _opts: unknown, command: Command) => {
      const flags = command.optsWithGlobals<ServeFlags>();
      const server = await serveSite(dir, { port: flags.port, host: flags.host });
      if (flags.json) process.stdout.write(`${JSON.stringify({ url: server.url, dir })}\n`);
      else if (!flags.quiet) process.stdout.write(`gzh serve: ${dir} at ${server.url} (Ctrl-C stops)\n`);
      const signal = await new Promise<NodeJS.Signals>((ok) => {
        process.once('SIGINT', () => ok('SIGINT'));
        process.once('SIGTERM', () => ok('SIGTERM'));
      });
      await server.close();
      throw new InterruptedError(`serve stopped (${signal})`);
    });
}
