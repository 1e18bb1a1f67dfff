/**
 * kubectl for what works on a cluster from outside it (the k6 Job runner, the
 * cluster suite): calls in one namespace, port-forwards to free local ports,
 * and the bundled databases behind them.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { addInsiderAddress } from '../src/api-tokens.ts';

export class Kubectl {
  private readonly forwards: ChildProcess[] = [];
  readonly namespace: string;
  readonly bin: string;

  constructor(namespace: string, bin = process.env.KUBECTL ?? 'kubectl') {
    this.namespace = namespace;
    this.bin = bin;
  }

  run(...args: string[]): string {
    return execFileSync(this.bin, ['-n', this.namespace, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** `kubectl port-forward` to a free local port, open until `closeForwards`; resolves with the port. */
  portForward(target: string, remotePort: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.bin, ['-n', this.namespace, 'port-forward', target, `:${remotePort}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.forwards.push(child);
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => {
        const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(chunk.toString());
        if (m) resolve(Number(m[1]));
      });
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
      });
      child.once('exit', (code) => reject(new Error(`port-forward ${target} exited (${code}): ${err}`)));
    });
  }

  closeForwards(): void {
    for (const f of this.forwards.splice(0)) f.kill();
  }

  /** One value of a Secret, decoded. */
  secretValue(name: string, key: string): string {
    return Buffer.from(this.run('get', 'secret', name, '-o', `jsonpath={.data.${key}}`), 'base64').toString();
  }

  /**
   * A port-forward to a service's Service (port 80), known to `insiderHeaders` as
   * that service's own port: calls through it carry the service's app API token
   * from the chart's Secret, as its sidecar's would.
   */
  async serviceUrl(service: string): Promise<string> {
    const url = `http://127.0.0.1:${await this.portForward(`svc/${service}`, 80)}`;
    addInsiderAddress(url, { 'dapr-api-token': this.secretValue(`shop-${service}-app-api-token`, 'token') });
    return url;
  }

  /** The URL of a service's database on the chart's bundled Postgres, through a port-forward. */
  async bundledDatabaseUrl(service: string): Promise<string> {
    const password = encodeURIComponent(this.secretValue('shop-postgres', 'password'));
    const port = await this.portForward(`svc/postgres-${service}`, 5432);
    return `postgres://postgres:${password}@127.0.0.1:${port}/shop_${service}`;
  }
}
