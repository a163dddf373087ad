// A RabbitMQ node of a test's own, for tests that cut, stop or restart the broker. The machine's node
// (127.0.0.1:5672) may be CloudStack's own bus: no test closes its connections or restarts it.
// Recipe: shared reference "RabbitMQ: a private node" (own node name, ports and data folder; the
// folder owned by the `rabbitmq` user the server drops to when run as root).
import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const run = promisify(execFile);

export class PrivateRabbitMq {
  private constructor(
    readonly node: string,
    readonly port: number,
    private readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Starts a node named `csdrift-test-<random>@localhost` on free ports; about 5–10 s. */
  static async start(): Promise<PrivateRabbitMq> {
    const dir = await mkdtemp(join(tmpdir(), 'csdrift-rabbitmq-'));
    const name = `csdrift-test-${Math.random().toString(36).slice(2, 8)}`;
    const node = `${name}@localhost`;
    const port = await freePort();
    let distPort = await freePort();
    while (distPort === port) distPort = await freePort();
    const plugins = join(dir, 'enabled_plugins');
    await writeFile(plugins, '[].');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      RABBITMQ_NODENAME: node,
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_PID_FILE: join(dir, 'pid'),
      RABBITMQ_ENABLED_PLUGINS_FILE: plugins,
      RABBITMQ_CONFIG_FILE: join(dir, 'no-config'),
    };
    if (userInfo().uid === 0) await chownToRabbitMq(dir, plugins);
    const broker = new PrivateRabbitMq(node, port, dir, env);
    await run('rabbitmq-server', ['-detached'], { env, timeout: 60_000 });
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        await broker.ctl('await_startup', '--timeout', '5');
        return broker;
      } catch (err) {
        if (Date.now() > deadline) {
          await broker.stop().catch(() => {});
          throw new Error(`private RabbitMQ node ${node} did not come up (see ${dir}/log)`, { cause: err });
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}/`;
  }

  /** `rabbitmqctl -n <this node> …`: never reaches another node. */
  async ctl(...args: string[]): Promise<string> {
    const { stdout } = await run('rabbitmqctl', ['-n', this.node, ...args], {
      env: this.env,
      timeout: 120_000,
    });
    return stdout;
  }

  async closeAllConnections(reason: string): Promise<void> {
    await this.ctl('close_all_connections', reason);
  }

  /** Stops and starts the broker application (the Erlang node stays up), as a broker restart does. */
  async restartApp(): Promise<void> {
    await this.ctl('stop_app');
    await this.ctl('start_app');
    await this.ctl('await_startup');
  }

  /** Stops this node by its name and deletes its folder. */
  async stop(): Promise<void> {
    await this.ctl('stop').catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function chownToRabbitMq(dir: string, plugins: string): Promise<void> {
  const { stdout } = await run('id', ['-u', 'rabbitmq']);
  const { stdout: gid } = await run('id', ['-g', 'rabbitmq']);
  await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  await chown(plugins, Number(stdout.trim()), Number(gid.trim()));
}
